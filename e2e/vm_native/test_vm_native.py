"""On one boot of the hosts: vm.nix's testScript unchanged, each unit scored and verified,
and broken copies of the worker's unit that the script's own checks must turn red on."""

from __future__ import annotations

import re

import pytest

from dev import vmnodes, vmprobe
from dev.vmdriver import Machine
from faults import on_hosts

from .conftest import SUMMARY

#: The exposure level vm.nix asserts for every duet unit (systemd-analyze security, 0-10).
MAX_EXPOSURE = 3.0
EXPOSURE = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")


def test_every_subtest_of_the_vm_test_passes(script_run, evaluation):
    subtests, _, error = script_run
    declared = re.findall(r'with subtest\("([^"]+)"\)', evaluation.script)
    assert error is None, f"the testScript failed in {subtests.entered[-1:]}: {error}"
    assert subtests.entered == declared
    assert subtests.passed == declared


def duet_units(evaluation, hosts):
    for name in sorted(evaluation.nodes):
        for unit in sorted(hosts.rendered[name].units):
            yield hosts.hosts[name], unit


def test_every_unit_scores_at_most_the_stated_exposure(script_run, evaluation, hosts):
    exposures = {}
    for host, unit in duet_units(evaluation, hosts):
        if not unit.endswith(".service"):
            continue
        status, report = host.execute(f"systemd-analyze security --no-pager {unit}")
        found = EXPOSURE.search(report)
        assert status == 0 and found, f"{host.name}: {unit}: {report}{host.last_stderr}"
        exposures[f"{host.name}/{unit}"] = float(found.group(1))
    SUMMARY["exposure_max"] = max(exposures.values())
    SUMMARY.setdefault("lines", []).extend(
        f"vm-native: exposure {unit}={value}" for unit, value in sorted(exposures.items())
    )
    too_exposed = {unit: value for unit, value in exposures.items() if value > MAX_EXPOSURE}
    assert not too_exposed, too_exposed


def test_systemd_analyze_verify_accepts_every_unit(script_run, evaluation, hosts):
    verified = 0
    for host, unit in duet_units(evaluation, hosts):
        status, output = host.execute(f"systemd-analyze verify {unit} 2>&1")
        assert status == 0, f"{host.name}: {unit}: {output}"
        verified += 1
    SUMMARY["units"] = verified


# --- mutants: a broken copy of a module's unit, started beside the real one ---------------


def worker_unit(hosts) -> str:
    return hosts.rendered["worker"].units["duet-worker.service"]


@pytest.fixture
def script_passed(script_run):
    if script_run[2] is not None:
        pytest.skip("the testScript failed; this test needs its hosts as it leaves them")


@pytest.fixture
def start_copy(script_passed, hosts):
    """Start a copy of a unit under a new name, beside the real one; stopped afterwards."""
    machine, started = Machine(hosts.hosts["worker"]), []

    def start(name: str, text: str) -> Machine:
        # Its own runtime directory: systemd removes a unit's RuntimeDirectory when it
        # stops, which would take the real worker's pgpass along.
        text = text.replace("RuntimeDirectory=duet-worker\n", f"RuntimeDirectory={name}\n")
        hosts.hosts["worker"].write(
            f"/etc/systemd/system/{name}.service",
            text.replace("/run/duet-worker/", f"/run/{name}/"),
        )
        started.append(name)
        machine.succeed(f"systemctl daemon-reload && systemctl start {name}.service")
        return machine

    yield start
    for name in started:
        machine.execute(f"systemctl stop {name}.service; systemctl reset-failed {name}.service")


def test_the_real_worker_unit_passes_the_script_checks_a_mutant_fails(start_copy, hosts):
    """Control for the mutants below: an exact copy starts and becomes ready."""
    machine = start_copy("duet-worker-copy", worker_unit(hosts))
    machine.wait_until_succeeds(
        "journalctl -u duet-worker-copy.service | grep -q ' ready.'", timeout=300
    )


@pytest.mark.parametrize(
    ("mutation", "old", "new"),
    [
        (
            "misspelt LoadCredential name",
            "LoadCredential=database-password:",
            "LoadCredential=database-passwd:",
        ),
        (
            "hardening that stops the worker",
            "RestrictAddressFamilies=AF_INET\nRestrictAddressFamilies=AF_INET6\n",
            "",
        ),
    ],
)
def test_a_broken_worker_unit_never_becomes_ready(start_copy, hosts, mutation, old, new):
    text = worker_unit(hosts)
    assert old in text, f"the module's unit no longer has {old!r}"
    name = "duet-worker-mutant-" + re.sub(r"\W+", "-", mutation)
    machine = start_copy(name, text.replace(old, new))
    # It exits (the launcher or the schema check cannot get through) and is restarted.
    machine.wait_until_succeeds(
        f'test "$(systemctl show -P NRestarts {name}.service)" -ge 1', timeout=300
    )
    status, _ = machine.execute(f"journalctl -u {name}.service | grep -q ' ready.'")
    assert status != 0, f"{mutation}: the worker became ready"


def test_without_restart_prevent_exit_status_a_refusing_worker_loops(start_copy, hosts):
    """The script's first check (exit 78, then failed, not restarting) is red on a mutant."""
    db = Machine(hosts.hosts["db"])
    ahead = "INSERT INTO django_migrations (app, name, applied) VALUES ('common', '0999_vm', now())"
    machine = Machine(hosts.hosts["worker"])
    db.succeed(f'runuser -u postgres -- psql -d duet -c "{ahead}"')
    try:
        text = worker_unit(hosts)
        assert "RestartPreventExitStatus=78\n" in text
        start_copy("duet-worker-copy78", text)
        start_copy("duet-worker-mutant-restarts", text.replace("RestartPreventExitStatus=78\n", ""))
        # The real unit: exit 78, failed, no restart (the testScript's own checks).
        machine.wait_until_succeeds(
            'test "$(systemctl show -P ExecMainStatus duet-worker-copy78.service)" = 78',
            timeout=300,
        )
        machine.succeed("systemctl is-failed duet-worker-copy78.service")
        # The mutant: restarted after its exit 78, so `systemctl is-failed` is red.
        machine.wait_until_succeeds(
            'test "$(systemctl show -P NRestarts duet-worker-mutant-restarts.service)" -ge 1',
            timeout=300,
        )
        status, _ = machine.execute("systemctl is-failed duet-worker-mutant-restarts.service")
        assert status != 0
    finally:
        db.succeed(
            "runuser -u postgres -- psql -d duet -c "
            "\"DELETE FROM django_migrations WHERE name = '0999_vm'\""
        )
        # The real worker checks the schema too (every 30 s) and may have stepped aside.
        machine.succeed("systemctl reset-failed duet-worker.service")
        machine.succeed("systemctl start duet-worker.service")


def test_every_store_path_a_unit_names_is_mapped(evaluation, hosts):
    assert vmnodes.check_mapped(evaluation, hosts.rendered) == []
    kinds = {entry.kind for entry in evaluation.store.values()}
    assert {"app-web", "app-worker", "shell", "text", "stock", "source"} <= kinds


def test_every_hardening_directive_takes_effect_in_the_containers(hosts):
    """The probe of docs/vm-native.md: nested systemd drops none but the known ones."""
    findings = vmprobe.probe(hosts.hosts["client"])
    SUMMARY.setdefault("lines", []).extend(
        f"vm-native: probe {f.directive} effective={f.effective} {f.journal[:120]!r}"
        for f in findings
    )
    assert {f.directive for f in findings} == set(vmprobe.CHECKS)
    dropped = {f.directive for f in findings if not f.effective}
    assert dropped == vmprobe.DROPPED


def test_a_partition_loses_and_duplicates_nothing(script_passed, hosts):
    """./dev faults partition at a tenth of its size, on this boot of the hosts."""
    outcome = on_hosts.partition(0.1, hosts)
    SUMMARY.setdefault("lines", []).append(outcome.line())
    assert outcome.jobs > 0
    assert outcome.lost == 0, outcome.line()
    assert outcome.duplicated == 0, outcome.line()
    assert outcome.problems == []
