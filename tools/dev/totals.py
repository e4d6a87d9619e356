"""A pytest plugin for ``./dev test``: a suite's outcome counts, from pytest's own tallies."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    stats = terminalreporter.stats
    counts = {key: len(stats.get(key, [])) for key in ("passed", "failed", "error", "skipped")}
    counts["passed"] += len(stats.get("xpassed", []))
    counts["skipped"] += len(stats.get("xfailed", []))
    Path(os.environ["DUET_TOTALS_FILE"]).write_text(json.dumps(counts))
