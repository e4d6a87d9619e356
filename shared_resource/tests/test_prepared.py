import pytest
from django.db import ProgrammingError, connection

from shared_resource.prepared import Statement
from shared_resource.schema import is_schema_error

# Outside a test transaction: the fallbacks run only where a failed statement aborts nothing.
pytestmark = pytest.mark.django_db(transaction=True)

TABLE = "prepared_probe"


@pytest.fixture
def probe():
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, label varchar(10))")
        cursor.execute(f"INSERT INTO {TABLE} VALUES (1, 'one'), (2, 'two')")
    yield Statement(f"SELECT label, %(id)s + 0 FROM {TABLE} WHERE id = %(id)s AND %(x)s = 'x'")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def test_named_parameters_become_positional_in_first_use_order(probe):
    assert probe.params == ["id", "x"]
    assert probe.prepare.endswith(f"SELECT label, $1 + 0 FROM {TABLE} WHERE id = $1 AND $2 = 'x'")
    assert Statement("SELECT 1").fetchone({}) == (1,)


def test_a_statement_is_prepared_once_per_session(probe):
    assert probe.fetchone({"id": 1, "x": "x"}) == ("one", 1)
    assert probe.fetchone({"id": 2, "x": "x"}) == ("two", 2)
    assert probe.fetchone({"id": 3, "x": "x"}) is None
    assert probe.name in prepared_here()
    connection.close()  # a new session prepares it again
    assert probe.name not in prepared_here()
    assert probe.fetchone({"id": 2, "x": "x"}) == ("two", 2)
    assert probe.name in prepared_here()


def test_a_statement_gone_from_the_session_runs_plain_from_then_on(probe):
    probe.fetchone({"id": 1, "x": "x"})
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL does
    assert probe.fetchone({"id": 2, "x": "x"}) == ("two", 2)
    assert probe.fetchone({"id": 1, "x": "x"}) == ("one", 1)
    assert prepared_here() == set()


def test_a_name_already_taken_in_the_session_runs_plain(probe):
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(probe.prepare)  # as another client behind a pooler would have
    assert probe.fetchone({"id": 1, "x": "x"}) == ("one", 1)
    assert probe.fetchone({"id": 2, "x": "x"}) == ("two", 2)


def test_a_plan_whose_result_changed_type_runs_plain(probe):
    probe.fetchone({"id": 1, "x": "x"})
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN label TYPE text")
    assert probe.fetchone({"id": 1, "x": "x"}) == ("one", 1)


def test_a_lost_column_fails_as_the_plain_statement_does(probe):
    probe.fetchone({"id": 1, "x": "x"})
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} DROP COLUMN label")
    with pytest.raises(ProgrammingError) as error:
        probe.fetchone({"id": 1, "x": "x"})
    assert is_schema_error(error.value)
