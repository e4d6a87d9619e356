"""rolling-deploy's lock-wait figure: PostgreSQL logs a job write's wait, with its length."""

import shutil
import subprocess
import time

import pytest

from dev.servers import ROLES, Postgres
from dev.system import STATE, wait_for
from faults import LOCK_WAIT_LOGGING, lock_waits_since


@pytest.fixture
def postgres():
    state = STATE / "e2e-lock-waits"
    shutil.rmtree(state, ignore_errors=True)
    server = Postgres(state, fast=True).start()
    try:
        server.create_roles()
        for name, value in LOCK_WAIT_LOGGING.items():
            server.psql(
                "-c", f"ALTER ROLE {ROLES['worker']} SET {name} = '{value}'", database="duet"
            )
        server.psql(
            "-c", f"CREATE TABLE t (x int); GRANT ALL ON t TO {ROLES['worker']}", database="duet"
        )
        yield server
    finally:
        server.stop()


def test_a_write_that_waits_behind_ddl_is_measured(postgres):
    log = postgres.root / "postgres.log"
    offset = log.stat().st_size
    lock = "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1.5); COMMIT;"
    argv = [*postgres.psql_argv(database="duet"), "-c", lock]
    ddl = subprocess.Popen(argv, env=postgres.psql_env(), stdout=subprocess.DEVNULL)
    held = "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted"
    wait_for(lambda: postgres.psql("-At", "-c", held, database="duet").strip() != "0", held)
    insert = [*postgres.psql_argv("worker", database="duet"), "-c", "INSERT INTO t VALUES (1)"]
    subprocess.run(insert, env=postgres.psql_env("worker"), check=True, capture_output=True)
    ddl.wait(10)
    time.sleep(0.2)
    # Logged at all means it waited longer than deadlock_timeout (1 ms); its length varies.
    assert lock_waits_since(log, offset) > 1
