"""The round trip through real processes, driven by the standalone scenario program."""

import re

from dev.stack import http_json
from dev.system import wait_for


def test_the_scenario_program_completes_a_round_trip(stack, token, other_token):
    result = stack.scenario(token, other_token)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        r"roundtrip: ok job=([0-9a-f-]{36}) status=succeeded seconds=([0-9.]+)", last
    )
    assert match, last
    # The worker wrote the result through the ORM, and recorded exactly one provider call.
    [[status, provider, calls]] = stack.sql(
        "SELECT j.status, j.provider, count(c.id) FROM common_summaryjob j "
        f"LEFT JOIN common_providercall c ON c.job_id = j.id WHERE j.id = '{match[1]}' "
        "GROUP BY j.status, j.provider"
    )
    assert (status, provider, calls) == ("succeeded", "extractive", "1")


def test_the_scenario_program_fails_loudly_on_a_bad_token(stack):
    result = stack.scenario("0" * 40)
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1].startswith("roundtrip: FAILED")


def submit(stack, token, text="Duplicates must not cost twice. The claim makes them no-ops."):
    url = f"{stack.base_url}/api/documents/"
    status, _, job = http_json("POST", url, token, {"title": "t", "text": text})
    assert status == 202, job
    return job


def wait_status(stack, token, job, timeout=60):
    current = {}

    def finished():
        current.update(http_json("GET", job["url"], token)[2])
        return current["status"] in ("succeeded", "failed")

    wait_for(finished, f"job {job['id']} to finish", timeout)
    return current


def test_a_job_enqueued_twice_is_summarised_once(stack, token):
    job = submit(stack, token)
    assert wait_status(stack, token, job)["status"] == "succeeded"
    # Publish it twice more, exactly as the web and the sweeper do.
    stack.web_side("republish", job["id"], job["id"])

    def seen():
        done = f"job {job['id']} is already succeeded"
        return sum(worker.log.read_text().count(done) for worker in stack.workers)

    wait_for(lambda: seen() >= 2, "the duplicates to be delivered", 30)
    assert seen() == 2
    [[calls, attempts]] = stack.sql(
        "SELECT count(c.id), j.attempts FROM common_summaryjob j JOIN common_providercall c "
        f"ON c.job_id = j.id WHERE j.id = '{job['id']}' GROUP BY j.attempts"
    )
    assert (calls, attempts) == ("1", "1")
