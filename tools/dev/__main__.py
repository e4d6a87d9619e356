"""``./dev``: duet's one native entry point.

The system Python bootstraps, then every command runs in the web venv (docs/architecture.md).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import venvs
from .system import (
    APT_PACKAGES,
    REPO,
    STATE,
    TEST_APT_PACKAGES,
    HarnessError,
    ensure_apt_packages,
    say,
)

if TYPE_CHECKING:
    from .stack import Stack


def bootstrap(command: str, argv: list[str]) -> int:
    """Debian packages, then the venvs, then the command in the web venv (``lock`` here)."""
    extra = {name: "/nonexistent" for name in venvs.ensure_python_build_support()}
    tests = TEST_APT_PACKAGES if command == "test" else {}
    ensure_apt_packages({**APT_PACKAGES, **extra, **tests})
    if command == "lock":
        return cmd_lock()
    for service in venvs.SERVICES:
        venvs.ensure_venv(service)
    web = str(venvs.python("web"))
    os.execv(web, [web, "-m", "dev", *argv])


def up_stack(state: Path | None = None) -> Stack:
    """The stack of ``./dev up``, described once for ``up`` and ``manage``."""
    from .stack import Stack

    return Stack(state or STATE / "up", development=True, web_env={"DJANGO_DEBUG": "false"})


def cmd_up(args: argparse.Namespace) -> None:
    stack = up_stack()
    with stack:
        token = stack.remembered_token(args.user)
        say(
            f"""
duet is up.
  API:     {stack.base_url}/api/
  token:   {token}   (user {args.user!r}; kept in {stack.state / "secrets"})
  logs:    {stack.logs}/

Try it:
  curl -si -X POST {stack.base_url}/api/documents/ \\
       -H 'Authorization: Token {token}' -H 'Content-Type: application/json' \\
       -d '{{"title": "Hello", "text": "Duet runs a web service and a worker. The worker \
summarises documents. The web answers quickly."}}'
  curl -s {stack.base_url}/api/jobs/<job id>/ -H 'Authorization: Token {token}'

API docs: {stack.base_url}/api/docs/
Another user, from a second terminal: ./dev manage create_api_user <name>
Ctrl-C stops everything."""
        )
        try:  # until Ctrl-C, or SIGTERM (main() turns it into KeyboardInterrupt)
            while True:
                for process in stack.processes():
                    if not process.alive():
                        raise HarnessError(f"{process.name} exited:\n{process.tail()}")
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        say("\nstopping")


def cmd_demo(args: argparse.Namespace) -> None:
    from .stack import Stack

    state = Path(tempfile.mkdtemp(prefix="duet-demo-", dir=STATE if STATE.exists() else None))
    say("1. starting PostgreSQL, Redis, gunicorn, a Celery worker and the sweeper")
    try:
        with Stack(state, fast_db=True) as stack:
            say(f"2. web at {stack.base_url}; creating two users through manage.py")
            token = stack.create_token("demo")
            other = stack.create_token("someone-else")
            say("3. running the scenario program (e2e/scenario.py) against it")
            result = stack.scenario(token, other, capture=False)
            if result.returncode:
                raise HarnessError("the round trip failed; logs in " + str(stack.logs))
    finally:
        shutil.rmtree(state, ignore_errors=True)


def cmd_manage(args: argparse.Namespace) -> int:
    """``manage.py <args>`` on the running ``./dev up`` stack, as the role the command needs."""
    stack = up_stack(args.stack_dir).attach()
    return stack.manage_interactive(args.manage_args)


def cmd_test(args: argparse.Namespace) -> None:
    from .testing import run_all

    run_all(args.suite or None, tuple(args.pytest_args))


def cmd_nix(args: argparse.Namespace) -> None:
    """The offline Nix checks alone (the lint phase of ./dev test runs the same)."""
    from nix_offline.nixcheck import run

    run(tools=venvs.python("web").parent)  # mypy and pyflakes: the web venv's


def cmd_faults(args: argparse.Namespace) -> None:
    from faults import run_faults

    run_faults(args.scenario or None, args.scale)


def cmd_bench(args: argparse.Namespace) -> None:
    from .bench import bench

    bench(args.jobs, args.paced)


def cmd_lock(args: argparse.Namespace | None = None) -> int:
    """Both locks, with plain Poetry 1.8.5 or the wrapper command in $DUET_POETRY."""
    wrapper = os.environ.get("DUET_POETRY")
    for service in venvs.SERVICES:
        say(f"locking {service}")
        lock = ["lock", "--no-update", "--directory", str(REPO / service)]
        if wrapper:
            subprocess.run([*shlex.split(wrapper), *lock], check=True)
        else:
            venvs.poetry(*lock)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the stack with local defaults")
    up.add_argument("--user", default="dev", help="the API user to create (default: dev)")
    up.set_defaults(func=cmd_up)
    commands.add_parser("demo", help="one round trip, step by step").set_defaults(func=cmd_demo)
    test = commands.add_parser("test", help="run every test suite")
    only = "only suites whose name contains this (repeatable)"
    test.add_argument("--suite", action="append", help=only)
    test.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    test.set_defaults(func=cmd_test)
    commands.add_parser(
        "nix", help="the offline Nix checks alone (upstream mode with DUET_POETRY2NIX_SRC...)"
    ).set_defaults(func=cmd_nix)
    faults = commands.add_parser("faults", help="the fault scenarios, with figures")
    faults.add_argument("scenario", nargs="*", help="only these scenarios (default: all)")
    scale = "multiply job counts and the outage (0.1: quick)"
    faults.add_argument("--scale", type=float, default=1.0, help=scale)
    faults.set_defaults(func=cmd_faults)
    bench = commands.add_parser("bench", help="duet beside a bare floor: speed and memory")
    jobs = "jobs for the drain and POST throughput runs"
    bench.add_argument("--jobs", type=int, default=1000, help=jobs)
    bench.add_argument("--paced", type=int, default=300, help="jobs for the paced latency run")
    bench.set_defaults(func=cmd_bench)
    manage = commands.add_parser(
        "manage",
        help="run a web management command against the running ./dev up stack",
        description="e.g. ./dev manage create_api_user alice; ./dev manage migrate",
    )
    folder = "the running stack's state folder (default: .state/up, the one ./dev up uses)"
    manage.add_argument("--stack-dir", type=Path, default=None, help=folder)
    manage.add_argument("manage_args", nargs=argparse.REMAINDER, help="command and arguments")
    manage.set_defaults(func=cmd_manage)
    commands.add_parser("lock", help="refresh both poetry.lock files").set_defaults(func=cmd_lock)
    args = parser.parse_args(argv)

    # A cancelled CI job sends SIGTERM: unwind like Ctrl-C, so every server is stopped.
    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        if Path(sys.prefix) != venvs.venv_dir("web"):
            return bootstrap(args.command, sys.argv[1:] if argv is None else argv)
        status = args.func(args)
    except HarnessError as exc:
        print(f"\n./dev {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
