"""One boot of the vm-native hosts for the whole suite: the VM test's script runs on it first."""

from __future__ import annotations

import os
import signal

import pytest

from dev import vmdriver, vmhosts, vmnodes

SUMMARY: dict[str, object] = {}


@pytest.fixture(scope="session")
def evaluation() -> vmnodes.Evaluation:
    return vmnodes.evaluate()


@pytest.fixture(scope="session")
def hosts(evaluation):
    if os.geteuid() != 0:
        pytest.skip("vm-native needs root (systemd-nspawn, overlay mounts, a bridge)")

    # A cancelled run (SIGTERM) unwinds like Ctrl-C, so the hosts are torn down.
    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    with vmhosts.Hosts(evaluation) as running:
        yield running


@pytest.fixture(scope="session")
def script_run(hosts, evaluation):
    """The VM test's testScript, unchanged, on the hosts (its failure is kept, not raised)."""
    try:
        subtests, machines = vmdriver.run_script(hosts, evaluation.script)
        error = None
    except Exception as exc:  # reported by the test that reads it
        subtests, machines, error = vmdriver.LAST_SUBTESTS, {}, exc
    SUMMARY["subtests"] = len(subtests.entered)
    SUMMARY["passed"] = len(subtests.passed)
    return subtests, machines, error


def pytest_terminal_summary(terminalreporter) -> None:
    if "subtests" in SUMMARY:
        terminalreporter.write_line(
            f"vm-native: subtests={SUMMARY['subtests']} passed={SUMMARY['passed']} "
            f"units={SUMMARY.get('units', 0)} exposure_max={SUMMARY.get('exposure_max', '-')}"
        )
    for line in SUMMARY.get("lines", []):
        terminalreporter.write_line(str(line))
