"""A small OpenAI-compatible chat-completions server on loopback: the outside world's LLM.

Each request takes the next scripted reply (or the default); the server records what it
received. It speaks plain HTTP, so it tests the real client stack whatever HTTP library the
SDK uses. The worker's tests script it per request; the fault scenarios run it as a
process (``python worker/tests/fake_llm.py --port N --latency S``) in front of the workers.
Standard library only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    content: str | None = "A short summary."
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None

    def body(self, model: str) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.status != 200:
            return json.dumps(
                {"error": {"message": f"scripted {self.status}", "type": "test", "code": None}}
            ).encode()
        return json.dumps(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": self.content},
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        ).encode()


class FakeOpenAI:
    def __init__(self, port: int = 0) -> None:
        self.replies: list[Reply] = []
        self.default = Reply()
        self.requests: list[dict[str, Any]] = []
        #: Picks the reply for a request body when no scripted reply is left.
        self.choose: Callable[[dict[str, Any]], Reply] = lambda payload: self.default
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "json": payload,
                    }
                )
                reply = fake.replies.pop(0) if fake.replies else fake.choose(payload)
                time.sleep(reply.delay)
                body = reply.body(payload.get("model", "fake-model"))
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


#: Documents containing this marker never get an answer in time (a poison job).
STALL_MARKER = "[[stall]]"


def main() -> None:
    """Serve until killed: every request answers after ``--latency`` seconds, except
    documents containing STALL_MARKER, which stall for ``--stall`` seconds."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--stall", type=float, default=30.0)
    args = parser.parse_args()
    server = FakeOpenAI(args.port)
    server.default = Reply(delay=args.latency)
    stall = Reply(delay=args.stall)

    def choose(payload: dict[str, Any]) -> Reply:
        text = json.dumps(payload.get("messages", []))
        return stall if STALL_MARKER in text else server.default

    server.choose = choose
    server.server.serve_forever()


if __name__ == "__main__":
    main()
