"""The shared log formats: ids bound in context reach each line, in both environments."""

import io
import json
import logging
import logging.config

import pytest

from shared_resource import logs


def capture(log_format: str) -> tuple[logging.Logger, io.StringIO]:
    config = logs.logging_config(log_format)
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    config["root"]["handlers"] = []
    config["loggers"] = {"t": {"handlers": ["console"], "level": "INFO", "propagate": False}}
    logging.config.dictConfig(config)
    return logging.getLogger("t"), stream


def test_json_lines_carry_the_ids_bound_around_them():
    logger, stream = capture("json")
    logger.info("before")
    with logs.bound(request_id="r-1", job_id="j-1"):
        logger.warning("during %s", "work")
    logger.info("after")
    before, during, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert "request_id" not in before and "job_id" not in after
    assert during["message"] == "during work"
    assert (during["level"], during["logger"]) == ("WARNING", "t")
    assert (during["request_id"], during["job_id"]) == ("r-1", "j-1")
    assert during["time"].endswith("+00:00")


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="DUET_LOG_FORMAT must be 'plain' or 'json'"):
        logs.logging_config("xml")
