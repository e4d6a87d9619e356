#!/usr/bin/env python3
"""duet's round trip, driven through HTTP only. Standard library only.

    python3 scenario.py --base-url http://web:8000 --token TOKEN [--other-token TOKEN]

Bad input gets a 4xx (never a 5xx); a document is submitted, its job polled and checked;
with ``--other-token``, another user sees none of it. It ends with exit 0 and
``roundtrip: ok job=<id> status=succeeded seconds=<float>``, or exit 1 and
``roundtrip: FAILED <reason>``. The e2e tests, ``./dev demo`` and the NixOS VM test run it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TEXT = (
    "Comets are icy bodies that release gas and dust as they approach the Sun. "
    "Their nuclei are a few kilometres across, made of ice, rock and organic compounds. "
    "As a comet warms, sublimating ice forms a glowing coma and often a long tail. "
    "The tail always points away from the Sun, pushed by the solar wind and radiation. "
    "Short-period comets come from the Kuiper belt beyond Neptune. "
    "Long-period comets are thought to come from the distant Oort cloud. "
    "Studying comets tells us about the material that formed the early solar system."
)


class ScenarioFailed(Exception):
    pass


@dataclass
class Client:
    base_url: str
    token: str | None
    timeout: float = 30.0

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        token: str | None = "default",
    ) -> tuple[int, dict[str, str], Any]:
        url = path if path.startswith("http") else self.base_url.rstrip("/") + path
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        token = self.token if token == "default" else token
        if token:
            request.add_header("Authorization", f"Token {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                return reply.status, dict(reply.headers), _decode(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), _decode(error.read())


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return payload.decode(errors="replace")[:200]


def step(message: str) -> None:
    print(f"- {message}", flush=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


def text_limit(client: Client) -> int:
    """The text length limit, as the API's own OpenAPI schema states it."""
    status, _, schema = client.request("GET", "/api/schema/?format=json")
    expect(status == 200, f"GET /api/schema/ answered {status}")
    properties = schema["components"]["schemas"]["DocumentCreateRequest"]["properties"]
    return int(properties["text"]["maxLength"])


def check_bad_input(client: Client) -> None:
    limit = text_limit(client)
    cases: list[tuple[str, dict[str, Any], int, str | None]] = [
        ("empty text", {"body": {"title": "t", "text": ""}}, 400, "text"),
        ("blank title", {"body": {"title": "   ", "text": TEXT}}, 400, "title"),
        ("missing text", {"body": {"title": "t"}}, 400, "text"),
        ("text over the limit", {"body": {"title": "t", "text": "a" * (limit + 1)}}, 400, "text"),
        ("text of the wrong type", {"body": {"title": "t", "text": ["a"]}}, 400, "text"),
        ("title of the wrong type", {"body": {"title": {"x": 1}, "text": TEXT}}, 400, "title"),
        ("a JSON array", {"body": [1, 2]}, 400, None),
        ("a body that is not JSON", {"raw": b"{not json"}, 400, None),
        ("a NUL character", {"body": {"title": "t", "text": "a\u0000b"}}, 400, "text"),
        ("no token", {"body": {"title": "t", "text": TEXT}, "token": None}, 401, None),
        ("a wrong token", {"body": {"title": "t", "text": TEXT}, "token": "0" * 40}, 401, None),
    ]
    for name, kwargs, expected, field in cases:
        status, _, body = client.request("POST", "/api/documents/", **kwargs)
        expect(status < 500, f"{name}: server error {status}")
        expect(status == expected, f"{name}: expected {expected}, got {status}: {body}")
        if field is not None:
            expect(
                isinstance(body, dict) and field in body,
                f"{name}: expected a message for field {field!r}, got {body}",
            )
    step(f"bad input: {len(cases)} cases answered 4xx with messages, none 5xx")


def poll(client: Client, url: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        status, _, job = client.request("GET", url)
        expect(status == 200, f"GET {url} answered {status}: {job}")
        if job["status"] in ("succeeded", "failed"):
            return job
        if time.monotonic() > deadline:
            raise ScenarioFailed(f"job still {job['status']} after {timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def roundtrip(client: Client, other: Client | None, timeout: float) -> tuple[str, float]:
    status, _, health = client.request("GET", "/api/health/", token=None)
    expect(status == 200, f"health check answered {status}: {health}")
    step(f"health: {health}")
    check_bad_input(client)

    started = time.monotonic()
    status, headers, job = client.request(
        "POST", "/api/documents/", {"title": "Comets", "text": TEXT}
    )
    expect(status == 202, f"POST /api/documents/ answered {status}: {job}")
    location = headers.get("Location") or headers.get("location")
    expect(bool(location), "202 without a Location header")
    step(f"submitted: 202, job {job['id']} {job['status']}, Location {location}")

    done = poll(client, location, timeout)
    seconds = time.monotonic() - started
    step(f"polled: {done['status']} after {seconds:.2f} s, attempts={done['attempts']}")
    expect(done["status"] == "succeeded", f"job failed: {done.get('error')}")
    expect(bool(done["summary"].strip()), "succeeded with an empty summary")
    expect(done["provider"] != "", "no provider recorded")
    expect(done["started"] is not None and done["finished"] is not None, "missing timestamps")
    expect(done["created"] <= done["started"] <= done["finished"], "timestamps out of order")
    step(f"summary ({done['provider']}/{done['model']}): {done['summary'][:120]}")

    status, _, page = client.request("GET", "/api/documents/")
    expect(status == 200, f"GET /api/documents/ answered {status}")
    ids = [doc["job"]["id"] for doc in page["results"] if doc.get("job")]
    expect(done["id"] in ids, "the document is missing from its owner's list")
    step(f"listed: {len(page['results'])} document(s) on the first page")

    if other is not None:
        status, _, _ = other.request("GET", location)
        expect(status == 404, f"another user's GET of the job answered {status}, not 404")
        status, _, _ = other.request("GET", done["document"])
        expect(status == 404, f"another user's GET of the document answered {status}")
        status, _, page = other.request("GET", "/api/documents/")
        expect(status == 200, f"another user's list answered {status}")
        others = [doc["job"]["id"] for doc in page["results"] if doc.get("job")]
        expect(done["id"] not in others, "another user's list shows the document")
        step("isolation: another user gets 404 and an empty-of-ours list")
    return done["id"], seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--other-token", help="a second user's token, for isolation checks")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the job")
    args = parser.parse_args(argv)
    client = Client(args.base_url, args.token)
    other = Client(args.base_url, args.other_token) if args.other_token else None
    try:
        job_id, seconds = roundtrip(client, other, args.timeout)
    except (ScenarioFailed, OSError, KeyError, TypeError) as exc:
        print(f"roundtrip: FAILED {type(exc).__name__}: {exc}", flush=True)
        return 1
    print(f"roundtrip: ok job={job_id} status=succeeded seconds={seconds:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
