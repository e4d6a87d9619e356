"""An oversized POST gets a 413 the client can read, from clients that send the whole body
before reading the answer (urllib, requests), through the real gunicorn."""

import json
import socket
import urllib.error
import urllib.request

import pytest
import requests

#: Six times the default DUET_MAX_BODY_BYTES (1 MiB), under the 16 MiB that is drained.
BIG = b'{"title": "t", "text": "' + b"a" * (6 * 1000 * 1000) + b'"}'


@pytest.fixture
def post_big(stack, token):
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    return {"url": f"{stack.base_url}/api/documents/", "data": BIG, "headers": headers}


def test_urllib_reads_the_413_of_a_6_mb_post(post_big):
    request = urllib.request.Request(**post_big, method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=60)
    assert raised.value.code == 413
    assert "the limit is 1048576 bytes" in json.loads(raised.value.read())["detail"]


def test_requests_reads_the_413_of_a_6_mb_post(post_big):
    reply = requests.post(**post_big, timeout=60)
    assert reply.status_code == 413
    assert "the limit is 1048576 bytes" in reply.json()["detail"]


def test_a_declared_length_beyond_the_drain_limit_is_answered_without_reading_it(stack, token):
    # Only the headers are sent: the answer must come without the server waiting for 64 MiB.
    head = (
        "POST /api/documents/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {64 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", stack.web_port), timeout=20) as sock:
        sock.sendall(head.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
