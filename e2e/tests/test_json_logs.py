"""DUET_LOG_FORMAT=json on real processes: every line is a JSON object, and one job's lines
on both sides carry the same request_id and job_id."""

import json
import uuid

from dev.stack import http_json

from .test_roundtrip import wait_status


def json_lines(path):
    """Every line of a log as a JSON object; fails on the first line that is not one."""
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"{path.name}:{number} is not JSON: {line[:200]!r}") from None
        assert isinstance(record, dict), f"{path.name}:{number}"
        assert {"time", "level", "logger", "message"} <= record.keys(), record
        records.append(record)
    return records


def test_one_jobs_lines_share_its_ids_on_both_sides(stack, token):
    request_id = f"e2e-{uuid.uuid4()}"
    body = {"title": "ids", "text": "One id ties the web to the worker."}
    url, header = f"{stack.base_url}/api/documents/", {"X-Request-ID": request_id}
    status, headers, job = http_json("POST", url, token, body, header)
    assert status == 202 and headers["X-Request-ID"] == request_id
    assert wait_status(stack, token, job)["status"] == "succeeded"

    web = json_lines(stack.web.log)
    workers = [record for worker in stack.workers for record in json_lines(worker.log)]
    # The web: the access line and the publish line carry the request id; the publish
    # line also the job id.
    mine = [r for r in web if r.get("request_id") == request_id]
    assert any(
        r["logger"] == "gunicorn.access" and "POST /api/documents/" in r["message"] for r in mine
    ), mine
    assert any(r.get("job_id") == job["id"] and "published" in r["message"] for r in mine)
    # The worker: every line about the job carries both ids (received, the task's own,
    # succeeded), and there are such lines.
    about_job = [r for r in workers if job["id"] in json.dumps(r)]
    assert len(about_job) >= 2, about_job
    for record in about_job:
        assert record.get("job_id") == job["id"], record
        assert record.get("request_id") == request_id, record


def test_a_request_without_an_id_gets_one_and_a_bad_one_is_replaced(stack, token):
    url = f"{stack.base_url}/api/documents/"
    _, headers, _ = http_json("GET", url, token)
    assert len(headers["X-Request-ID"]) == 32
    _, headers, _ = http_json("GET", url, token, headers={"X-Request-ID": "bad id\twith spaces"})
    assert headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(headers["X-Request-ID"]) == 32


def test_every_line_of_the_sweeper_is_json_too(stack):
    assert stack.sweeper is not None
    json_lines(stack.sweeper.log)
