"""The round trip through real processes, driven by the standalone scenario program."""

import re
import subprocess
import sys
import time
from pathlib import Path

from dev.stack import http_json

SCENARIO = Path(__file__).resolve().parents[1] / "scenario.py"


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
    result = subprocess.run(
        [sys.executable, str(SCENARIO), "--base-url", stack.base_url, "--token", "0" * 40],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1].startswith("roundtrip: FAILED")


def submit(stack, token, text="Duplicates must not cost twice. The claim makes them no-ops."):
    status, _, job = http_json(
        "POST", f"{stack.base_url}/api/documents/", token, {"title": "t", "text": text}
    )
    assert status == 202, job
    return job


def wait_status(stack, token, job, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, _, current = http_json("GET", job["url"], token)
        if current["status"] in ("succeeded", "failed"):
            return current
        time.sleep(0.2)
    raise AssertionError(f"job {job['id']} not finished after {timeout} s")


def test_a_job_enqueued_twice_is_summarised_once(stack, token):
    job = submit(stack, token)
    assert wait_status(stack, token, job)["status"] == "succeeded"
    # Publish it twice more, exactly as the web and the sweeper do.
    stack.manage(
        "shell",
        "-c",
        "from documents.publish import publish; import uuid; "
        f"job = uuid.UUID('{job['id']}'); assert publish(job) and publish(job)",
    )
    logs = [w.log for w in stack.workers]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = sum(log.read_text().count(f"job {job['id']} is already succeeded") for log in logs)
        if seen >= 2:
            break
        time.sleep(0.2)
    assert seen == 2, "the duplicates were not delivered"
    [[calls, attempts]] = stack.sql(
        "SELECT count(c.id), j.attempts FROM common_summaryjob j JOIN common_providercall c "
        f"ON c.job_id = j.id WHERE j.id = '{job['id']}' GROUP BY j.attempts"
    )
    assert (calls, attempts) == ("1", "1")
