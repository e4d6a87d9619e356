"""The round trip on the production broker: SQS, served on loopback by moto's server mode,
through kombu's real SQS transport (boto3 to create and send, kombu's HTTP client to poll)."""

import json
import re
import shutil

import pytest

from dev.servers import Process, listening
from dev.stack import Stack
from dev.system import STATE, clean_env, free_port
from dev.venvs import venv_dir

TRANSPORT = json.dumps({"region": "us-east-1", "is_secure": False, "wait_time_seconds": 1})


@pytest.fixture(scope="module")
def sqs_stack():
    state = STATE / "e2e-sqs"
    shutil.rmtree(state, ignore_errors=True)
    port = free_port()
    moto = Process(
        "moto",
        [str(venv_dir("web") / "bin" / "python"), "-m", "moto.server", "-p", str(port)],
        log=state / "logs" / "moto.log",
        env=clean_env(),
        ready=lambda: listening(port),
        timeout=30,
    ).start()
    options = {"CELERY_BROKER_TRANSPORT_OPTIONS": TRANSPORT}
    try:
        with Stack(
            state,
            fast_db=True,
            sweep_interval=1.0,
            broker_url=f"sqs://duet-key:duet-secret@127.0.0.1:{port}",
            web_env=options,
            worker_env=options,
        ) as running:
            yield running
    finally:
        moto.stop()


def test_the_round_trip_runs_on_sqs(sqs_stack):
    token = sqs_stack.create_token("sqs")
    result = sqs_stack.scenario(token)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"roundtrip: ok job=\S+ status=succeeded", result.stdout)
    # The message went through SQS: the worker consumed from the SQS queue.
    log = sqs_stack.workers[0].log.read_text()
    assert "sqs://" in log and "redis://" not in log
    for path in sqs_stack.logs.glob("*.log"):
        assert "duet-secret" not in path.read_text(), f"the SQS secret key is in {path.name}"
