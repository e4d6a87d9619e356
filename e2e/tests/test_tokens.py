"""API tokens on the real stack: hashed at rest, revocable and expiring, kept by ./dev up."""

import pytest

from dev.stack import http_json


@pytest.fixture(scope="module")
def tokens(stack):
    first = stack.create_token("dump-check", "--name", "first")
    second = stack.create_token("dump-check", "--name", "second", "--expires-in", "30d")
    return first, second


def test_a_database_dump_holds_no_token(stack, tokens):
    dump = stack.pg_dump()
    for token in tokens:
        token_id, secret = token.split("_")[1:]
        assert token_id in dump, "the dump should list the token's public id"
        assert token not in dump and secret not in dump


def test_both_tokens_of_one_user_work_until_revoked_or_expired(stack, tokens):
    url = f"{stack.base_url}/api/documents/"
    first, second = tokens
    assert [http_json("GET", url, t)[0] for t in tokens] == [200, 200]
    stack.manage("revoke_api_token", first.split("_")[1])
    second_id = second.split("_")[1]
    stack.sql(
        "UPDATE api_tokens_apitoken SET expires = now() - interval '1 second'"
        f" WHERE id = '{second_id}'"
    )
    assert [http_json("GET", url, t)[0] for t in tokens] == [401, 401]
    listing = stack.manage("list_api_tokens", "dump-check")
    assert first.split("_")[1] not in listing
    assert second_id in listing and "(expired)" in listing


def test_dev_up_keeps_its_token_while_it_works(stack):
    kept = stack.remembered_token("dev-up")
    assert (stack.state / "secrets" / "api-token-dev-up").stat().st_mode & 0o777 == 0o600
    assert stack.remembered_token("dev-up") == kept
    stack.manage("revoke_api_token", kept.split("_")[1])
    renewed = stack.remembered_token("dev-up")
    assert renewed != kept
    assert http_json("GET", f"{stack.base_url}/api/documents/", renewed)[0] == 200
