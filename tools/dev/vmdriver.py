"""A stand-in for the NixOS test driver: the VM test's own testScript on the vm-native hosts
(docs/vm-native.md, "Driver").
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from nix_offline.nixcheck import pythonize

from .system import say
from .vmhosts import Host, Hosts


class TestFailed(AssertionError):
    """A driver call failed, as the NixOS driver's RequestedAssertionFailed."""


class Machine:
    """One host, driven as the NixOS test driver drives a VM."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.name = host.name

    def __repr__(self) -> str:
        return f"<Machine '{self.name}'>"

    def log(self, msg: str) -> None:
        for line in msg.splitlines() or [""]:
            say(f"{self.name}: {line}")

    def start(self) -> None:
        self.log("starting")
        self.host.start()

    def execute(
        self, command: str, check_return: bool = True, check_output: bool = True, timeout: int = 900
    ) -> tuple[int, str]:
        if not self.host.process:
            self.start()
        return self.host.execute(command, timeout=timeout)

    def succeed(self, *commands: str, timeout: int | None = None) -> str:
        return self._each(commands, timeout, succeed=True)

    def fail(self, *commands: str, timeout: int | None = None) -> str:
        return self._each(commands, timeout, succeed=False)

    def _each(self, commands: tuple[str, ...], timeout: int | None, succeed: bool) -> str:
        output = ""
        for command in commands:
            status, out = self.execute(command, timeout=timeout or 900)
            if (status == 0) != succeed:
                self.log(f"output: {out}{self.host.last_stderr}")
                failed = f"failed (exit code {status})" if succeed else "unexpectedly succeeded"
                raise TestFailed(f"command `{command}` {failed}")
            output += out
        return output

    def wait_until_succeeds(self, command: str, timeout: int = 900) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status, output = self.execute(command, timeout=timeout)
            if status == 0:
                return output
            if time.monotonic() > deadline:
                raise TestFailed(f"timed out waiting for `{command}` ({timeout} s)")
            time.sleep(1)

    def get_unit_info(self, unit: str) -> dict[str, str]:
        status, output = self.execute(f"systemctl --no-pager show '{unit}'")
        if status != 0:
            raise TestFailed(f"retrieving systemctl info for unit '{unit}' failed: {output}")
        return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)

    def wait_for_unit(self, unit: str, timeout: int = 900) -> None:
        """Until active, as the NixOS driver: failed, or inactive with no job pending, fails."""
        deadline = time.monotonic() + timeout
        while True:
            info = self.get_unit_info(unit)
            state = info.get("ActiveState", "")
            if state == "failed":
                journal = self.execute(f"journalctl -u {unit} --no-pager | tail -30")[1]
                raise TestFailed(f'unit "{unit}" reached state "failed":\n{journal}')
            if state == "inactive":
                jobs = self.execute("systemctl list-jobs --full 2>&1")[1]
                if "No jobs" in jobs and info.get("UnitFileState") != "static":
                    raise TestFailed(f'unit "{unit}" is inactive and there are no pending jobs')
            if state == "active":
                return
            if time.monotonic() > deadline:
                raise TestFailed(f"timed out waiting for unit {unit}")
            time.sleep(1)

    def wait_for_open_port(self, port: int, addr: str = "localhost", timeout: int = 900) -> None:
        self.wait_until_succeeds(f"timeout 2 bash -c '</dev/tcp/{addr}/{port}'", timeout)

    def systemctl(self, q: str) -> tuple[int, str]:
        return self.execute(f"systemctl {q}")


@dataclass
class Subtests:
    entered: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.entered.append(name)
        say(f"subtest: {name}")
        started = time.monotonic()
        yield
        self.passed.append(name)
        say(f"subtest passed ({time.monotonic() - started:.1f} s): {name}")


#: The subtests of the last run_script, also when the script raised.
LAST_SUBTESTS = Subtests()


def run_script(hosts: Hosts, script: str) -> tuple[Subtests, dict[str, Machine]]:
    """Execute the testScript with a Machine per node, as the driver's globals give them."""
    global LAST_SUBTESTS
    machines = {name: Machine(host) for name, host in hosts.hosts.items()}
    subtests = LAST_SUBTESTS = Subtests()

    def start_all() -> None:
        for machine in machines.values():
            machine.start()

    symbols: dict[str, object] = {
        "Machine": Machine,
        "subtest": subtests,
        "start_all": start_all,
        "machines": list(machines.values()),
        **{pythonize(name): machine for name, machine in machines.items()},
    }
    exec(compile(script, "testScript", "exec"), symbols)
    return subtests, machines
