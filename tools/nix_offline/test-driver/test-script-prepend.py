# duet's stand-in for nixos/lib/test-script-prepend.py: the types the NixOS test driver
# declares for a testScript's globals before it runs mypy on the script. Written for duet
# from the driver's API (the 25.05 symbols: see README.md and symbols.txt), not copied.

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol
from unittest import TestCase

from test_driver.driver import Driver
from test_driver.logger import AbstractLogger
from test_driver.machine import Machine
from test_driver.vlan import VLan


class _Retry(Protocol):
    def __call__(self, fn: Callable[..., Any], timeout: int = 900) -> None: ...


class _PollingCondition(Protocol):
    def __call__(
        self,
        fun_: Callable[..., Any] | None = None,
        *,
        seconds_interval: float = 2.0,
        description: str | None = None,
    ) -> Callable[[Callable[..., Any]], AbstractContextManager[Any]] | AbstractContextManager[Any]: ...


class _CreateMachine(Protocol):
    def __call__(
        self,
        start_command: str | dict[str, Any],
        *,
        name: str | None = None,
        keep_vm_state: bool = False,
    ) -> Machine: ...


create_machine: _CreateMachine
driver: Driver
join_all: Callable[[], None]
log: AbstractLogger
machines: list[Machine]
polling_condition: _PollingCondition
retry: _Retry
run_tests: Callable[[], None]
serial_stdout_off: Callable[[], None]
serial_stdout_on: Callable[[], None]
start_all: Callable[[], None]
subtest: Callable[[str], AbstractContextManager[None]]
t: TestCase
test_script: Callable[[], None]
vlans: list[VLan]
