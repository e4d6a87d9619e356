"""``./dev faults``: the faults real deployments see, on real processes (README.md, "Faults")."""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dev.releases import build_release, pythonpath
from dev.servers import Process, listening
from dev.stack import Stack, http_json, start_celery
from dev.system import (
    REPO,
    STATE,
    HarnessError,
    clean_env,
    free_port,
    read_since,
    say,
    wait_for,
    write_secret,
)

#: The loopback OpenAI-compatible server the workers call: the worker tests' own.
FAKE_LLM = REPO / "worker" / "tests" / "fake_llm.py"
#: Documents whose text carries it stall in the fake LLM for ``--stall`` seconds.
STALL_MARKER: str = runpy.run_path(str(FAKE_LLM))["STALL_MARKER"]

MAX_ATTEMPTS = 3

TEXT = (
    "Reliability is a property of the whole system. Messages may be delivered twice. "
    "Workers may die at any moment. Brokers and databases restart. "
    "A job must still end exactly once, with its provider called once."
)

#: Worker settings for every scenario: short timeouts that still nest, so that recovery paths
#: run within seconds; the mechanisms are the production ones.
WORKER_ENV = {
    "DUET_PROVIDER": "openai",
    "DUET_OPENAI_MODEL": "fault-model",
    "DUET_PROVIDER_TIMEOUT": "2",
    "CELERY_TASK_SOFT_TIME_LIMIT": "5",
    "CELERY_TASK_TIME_LIMIT": "7",
    "DUET_LEASE_SECONDS": "9",
    "DUET_RETRY_BACKOFF": "0.5",
    "DUET_RETRY_BACKOFF_MAX": "2",
    "DUET_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
}
WEB_ENV = {
    "DUET_SWEEP_STALE_SECONDS": "10",
    "DUET_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "DUET_THROTTLE_USER": "1000000/min",
    "DUET_THROTTLE_SUBMIT": "1000000/min",
}


@dataclass
class Outcome:
    name: str
    jobs: int
    succeeded: int
    failed: int
    lost: int
    duplicated: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    """Scenario-specific expectations that did not hold (5xx answers, crashed workers...)."""
    figures: list[str] = field(default_factory=list)
    """More lines to print after the scenario's line."""

    def line(self) -> str:
        return (
            f"fault: {self.name} jobs={self.jobs} succeeded={self.succeeded} "
            f"failed={self.failed} lost={self.lost} duplicated={self.duplicated} "
            f"seconds={self.seconds:.1f}"
        )

    def expect(self, holds: object, problem: str) -> None:
        if not holds:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and not self.problems


#: Succeeded jobs whose provider was called after their success, or twice with success.
DUPLICATED = (
    "SELECT count(*) FROM {jobs} WHERE {where} AND j.status = 'succeeded' AND ("
    " EXISTS (SELECT FROM common_providercall c WHERE c.job_id = j.id AND c.started > j.finished)"
    " OR (SELECT count(*) FROM common_providercall c"
    " WHERE c.job_id = j.id AND c.outcome = 'ok') > 1)"
)


class Run:
    """One scenario's stack, fake LLM and HTTP clients."""

    def __init__(
        self,
        name: str,
        latency: float = 0.05,
        worker_env: dict[str, str] | None = None,
        session_settings: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.state = STATE / "faults" / name
        shutil.rmtree(self.state, ignore_errors=True)
        self.state.mkdir(parents=True)
        self.llm_port = free_port()
        api_key = write_secret(self.state / "secrets" / "openai-api-key", f"sk-{uuid.uuid4()}")
        argv = [sys.executable, str(FAKE_LLM), "--port", str(self.llm_port)]
        self.llm = Process(
            "fake-llm",
            [*argv, "--latency", str(latency)],
            log=self.state / "logs" / "fake-llm.log",
            env=clean_env(),
            ready=lambda: listening(self.llm_port),
            timeout=20,
        )
        self.stack = Stack(
            self.state,
            sweep_interval=1.0,
            web_env=WEB_ENV,
            worker_env={
                **WORKER_ENV,
                "OPENAI_BASE_URL": f"http://127.0.0.1:{self.llm_port}/v1",
                "OPENAI_API_KEY_FILE": str(api_key),
                **(worker_env or {}),
            },
            session_settings=session_settings or {},
        )
        self.answers: Counter[int] = Counter()
        self._lock = threading.Lock()
        self.restarts: list[str] = []
        self.failed_restarts: list[str] = []
        self._restarting = threading.Lock()
        self._done = threading.Event()

    def __enter__(self) -> Run:
        self.llm.start()
        try:
            self.stack.start()
            self.stack.start_worker()  # a second node: at least two worker processes
            self.token = self.stack.create_token("faults")
            self.started = time.monotonic()
            threading.Thread(target=self.supervise, daemon=True).start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        with self._restarting:  # a restart under way ends first
            self.stack.stop()
        self.llm.stop()

    def supervise(self) -> None:
        """Restart workers that fail on their own, as Restart=on-failure (not 78) does."""
        while not self._done.wait(0.5):
            for worker in list(self.stack.workers):
                code = worker.process and worker.process.poll()
                if not code or code < 0 or code == 78:  # running, stopped, killed, stepped aside
                    continue
                with self._restarting:
                    if self._done.is_set():
                        return
                    worker.stop()  # and whatever it left behind
                    log = worker.log.read_text(errors="replace").splitlines()
                    critical = [
                        line[line.index("CRITICAL") :] for line in log if "CRITICAL" in line
                    ]
                    self.restarts.append(critical[-1] if critical else f"exit {code}")
                    try:
                        start_celery(worker)
                    except HarnessError as exc:
                        self.failed_restarts.append(f"{worker.name} did not come back: {exc}")

    # -- load -----------------------------------------------------------------------------

    def submit(self, count: int, text: str = TEXT, threads: int = 8) -> list[str]:
        """POST ``count`` documents concurrently; return the ids of accepted jobs."""

        def one(i: int) -> str | None:
            status, _, body = http_json(
                "POST",
                f"{self.stack.base_url}/api/documents/",
                self.token,
                {"title": f"{self.name} {i}", "text": text},
            )
            with self._lock:
                self.answers[status] += 1
            return body["id"] if status == 202 else None

        with ThreadPoolExecutor(threads) as pool:
            return [job for job in pool.map(one, range(count)) if job]

    @contextmanager
    def steady_load(self, per_second: float, text: str = TEXT) -> Iterator[list[str]]:
        """Keep submitting in the background while the body runs; yields accepted ids."""
        accepted: list[str] = []
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                accepted.extend(self.submit(1, text, threads=1))
                stop.wait(1 / per_second)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield accepted
        finally:
            stop.set()
            thread.join()

    # -- observing ------------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        rows = self.stack.sql("SELECT status, count(*) FROM common_summaryjob GROUP BY status")
        return Counter({status: int(n) for status, n in rows})

    def terminal(self) -> int:
        counts = self.counts()
        return counts["succeeded"] + counts["failed"]

    def wait_terminal(self, total: int | None = None, deadline: float = 90) -> None:
        """Until ``total`` jobs (default: every accepted one) are terminal, or ``deadline``."""
        total = self.counts().total() if total is None else total
        end = time.monotonic() + deadline
        while time.monotonic() < end and self.terminal() < total:
            time.sleep(0.5)

    def duplicated(self) -> int:
        """Jobs whose provider was called again after their success (the worker's records)."""
        [[count]] = self.stack.sql(DUPLICATED.format(jobs="common_summaryjob j", where="TRUE"))
        return int(count)

    def secrets_in_logs(self) -> list[str]:
        """Secret values (passwords, keys) found in any log file of the scenario."""
        secrets = {
            path.name: path.read_text().strip()
            for path in (self.state / "secrets").iterdir()
            if not path.name.endswith("-url") and "url-" not in path.name
        }
        found = []
        for log in self.state.rglob("*.log"):
            text = log.read_text(errors="replace")
            found += [f"{name} in {log.name}" for name, value in secrets.items() if value in text]
        return found

    def outcome(self, expected_jobs: int | None = None) -> Outcome:
        counts = self.counts()
        jobs, succeeded, failed = counts.total(), counts["succeeded"], counts["failed"]
        problems = [f"secret leaked: {hit}" for hit in self.secrets_in_logs()]
        problems += self.failed_restarts
        server_errors = {s: n for s, n in self.answers.items() if s >= 500 and s != 503}
        if server_errors:
            problems.append(f"server errors: {server_errors}")
        if expected_jobs is not None and jobs != expected_jobs:
            problems.append(f"expected {expected_jobs} accepted jobs, found {jobs}")
        seconds = time.monotonic() - self.started
        lost, duplicated = jobs - succeeded - failed, self.duplicated()
        outcome = Outcome(self.name, jobs, succeeded, failed, lost, duplicated, seconds, problems)
        if self.restarts:
            reason = self.restarts[0]
            outcome.figures.append(f"{self.name}: worker restarts={len(self.restarts)} ({reason})")
        return outcome

    def wait_progress(self, fraction: float, total: int) -> None:
        done = f"{fraction:.0%} of {total} jobs to finish"
        wait_for(lambda: self.terminal() >= fraction * total, done, 120, 0.1)


# -- the scenarios ------------------------------------------------------------------------


def worker_kill(scale: float) -> Outcome:
    """kill -9 a whole worker node three times mid-run, starting a new one each time."""
    total = int(1000 * scale)
    # Fewer jobs take longer each, so that every kill still lands on work in flight.
    with Run("worker-kill", latency=max(0.05, 0.02 / scale)) as run:
        submitter = threading.Thread(target=run.submit, args=(total,))
        submitter.start()
        idle_kills = 0
        for kill, fraction in enumerate((0.25, 0.5, 0.75)):
            run.wait_progress(fraction, total)
            idle_kills += run.counts()["running"] == 0
            victim = [w for w in run.stack.workers if w.alive()][kill % 2]
            victim.kill()
            run.stack.start_worker()
        submitter.join()
        run.wait_terminal(total, deadline=90)
        outcome = run.outcome(expected_jobs=total)
        outcome.expect(not idle_kills, f"{idle_kills} of 3 kills found no job running")
        return outcome


def broker_outage(scale: float) -> Outcome:
    """Redis stopped while clients keep submitting; the API keeps answering 202."""
    outage = max(5.0, 30 * scale)
    with Run("broker-outage") as run:
        with run.steady_load(per_second=10):
            time.sleep(3)
            run.stack.redis.stop()
            time.sleep(outage)
            run.stack.redis.start()
            time.sleep(3)
        run.wait_terminal()
        outcome = run.outcome()
        rejected = {s: n for s, n in run.answers.items() if s != 202}
        outcome.expect(not rejected, f"not every submission got 202: {rejected}")
        return outcome


def db_restart(scale: float) -> Outcome:
    """PostgreSQL restarted mid-run; nobody else is restarted."""
    total = int(300 * scale)
    with Run("db-restart") as run:
        pids = {p.name: p.pid for p in run.stack.processes()}
        accepted = run.submit(total)
        with run.steady_load(per_second=10):
            run.wait_progress(0.3, len(accepted))
            run.stack.postgres.stop()
            time.sleep(3)
            run.stack.postgres.start()
            time.sleep(3)
        run.wait_terminal()
        outcome = run.outcome()
        restarted = [
            p.name for p in run.stack.processes() if not p.alive() or p.pid != pids[p.name]
        ]
        outcome.expect(not restarted, f"processes died: {restarted}")
        return outcome


def poison(scale: float) -> Outcome:
    """Unknown ids, wrong payload types and a provider that always times out."""
    healthy_count, stalling_count = int(100 * scale), max(3, int(10 * scale))
    with Run("poison") as run:
        pids = {p.name: p.pid for p in run.stack.workers}
        unknown = [{"job_id": str(uuid.uuid4())} for _ in range(10)]
        bad = [{"job_id": 42}, {"job_id": ["a"]}, {"job_id": None}, {"job_id": "not-a-uuid"}]
        run.stack.web_side("raw", json.dumps(unknown + bad))  # by task name, as the web does
        stalling = run.submit(stalling_count, text=f"{TEXT} {STALL_MARKER}")
        healthy = run.submit(healthy_count)
        run.wait_terminal(len(stalling) + len(healthy), deadline=120)
        outcome = run.outcome(expected_jobs=stalling_count + healthy_count)
        rows = run.stack.sql(
            "SELECT count(*) FROM common_summaryjob j JOIN common_document d "
            f"ON d.id = j.document_id WHERE d.text LIKE '%{STALL_MARKER}%' "
            f"AND j.status = 'failed' AND j.attempts = {MAX_ATTEMPTS} "
            f"AND j.error LIKE 'gave up after {MAX_ATTEMPTS} attempts%'"
        )
        outcome.expect(
            int(rows[0][0]) == stalling_count,
            f"only {rows[0][0]}/{stalling_count} stalled jobs failed",
        )
        outcome.expect(
            outcome.succeeded == healthy_count, f"healthy jobs: {outcome.succeeded}/{healthy_count}"
        )
        crashed = [w.name for w in run.stack.workers if not w.alive() or w.pid != pids[w.name]]
        outcome.expect(not crashed, f"workers crashed: {crashed}")
        return outcome


def duplicate_delivery(scale: float) -> Outcome:
    """Every job published twice: each is summarised exactly once."""
    total = int(200 * scale)
    with Run("duplicate-delivery") as run:
        accepted = run.submit(total)
        run.stack.web_side("republish", *accepted)  # as the web and the sweeper publish
        run.wait_terminal(total, deadline=90)
        outcome = run.outcome(expected_jobs=total)
        [[calls]] = run.stack.sql("SELECT count(*) FROM common_providercall")
        outcome.expect(int(calls) == total, f"{calls} provider calls for {total} jobs")
        return outcome


#: Every job write (web and worker sessions) logs a lock wait longer than 1 ms, and how
#: long it waited once it got the lock; the migrator's sessions log nothing.
LOCK_WAIT_LOGGING = {"log_lock_waits": "on", "deadlock_timeout": "1ms", "log_min_messages": "log"}
LOCK_WAIT = re.compile(r"process \d+ (?:acquired|still waiting for) .* after ([\d.]+) ms")


def lock_waits_since(log_file: Path, offset: int) -> float:
    """The longest lock wait PostgreSQL logged in ``log_file`` after ``offset``, in ms."""
    waits = LOCK_WAIT.findall(read_since(log_file, offset))
    return max((float(ms) for ms in waits), default=0.0)


def _migrate_release(run: Run, release: Path) -> float:
    """Run migrate as ``release``'s migrate job; return the longest job-write lock wait."""
    log = run.stack.postgres.root / "postgres.log"
    offset = log.stat().st_size
    env = pythonpath(release, run.stack.service_env("web"))
    run.stack.manage("migrate", "--noinput", role="migrator", env=env)
    time.sleep(1)  # a write that waited logs its wait once it got the lock
    return lock_waits_since(log, offset)


def _start_workers(run: Run, release: Path, nodes: int) -> list[Process]:
    env = pythonpath(release, run.stack.service_env("worker"))
    return [run.stack.start_worker(env=env) for _ in range(nodes)]


def rolling_deploy(scale: float) -> Outcome:
    """Two releases under load: a compatible migration, then a breaking one (README.md)."""
    check = 1.0  # seconds between a running worker's schema checks
    with Run(
        "rolling-deploy",
        worker_env={"DUET_SCHEMA_CHECK_INTERVAL": str(check)},
        session_settings=LOCK_WAIT_LOGGING,
    ) as run:
        releases = {name: build_release(name, run.state / "releases") for name in ("v2", "v3")}
        problems: list[str] = []
        v1 = list(run.stack.workers)
        with run.steady_load(per_second=max(4.0, 25 * scale)):
            time.sleep(3)
            # (a) the compatible migration, then the worker release.
            wait_v2 = _migrate_release(run, releases["v2"])
            done = run.terminal()
            time.sleep(3 * check)
            wait_for(lambda: run.terminal() > done, "v1 workers to finish jobs after v2's migrate")
            for worker in v1:
                if not worker.alive():
                    problems.append(f"v1 {worker.name} died after a compatible migration")
                elif "9001_summaryjob_note (compatible)" not in worker.log.read_text():
                    problems.append(f"v1 {worker.name} did not name the compatible migration")
            v2 = _start_workers(run, releases["v2"], 2)
            for worker in v1:
                if (code := worker.stop_gracefully()) != 0:
                    problems.append(f"v1 {worker.name} stopped with exit {code}, not 0")
            done = run.terminal()
            wait_for(lambda: run.terminal() > done, "v2 workers to finish jobs", 60)
            # (b) the breaking migration, with v2 workers still running.
            wait_v3 = _migrate_release(run, releases["v3"])
            v3 = _start_workers(run, releases["v3"], 2)
            for worker in v2:
                code = worker.wait(60)
                if code != 78:
                    problems.append(f"v2 {worker.name} exited {code}, not 78 (stepping aside)")
                elif "stepping aside" not in worker.log.read_text():
                    problems.append(f"v2 {worker.name} exited 78 without saying why")
            time.sleep(2)
        run.wait_terminal(deadline=120)
        outcome = run.outcome()
        outcome.problems += problems
        outcome.expect(not outcome.failed, f"{outcome.failed} jobs failed")
        dead = [w.name for w in v3 if not w.alive()]
        outcome.expect(not dead, f"v3 workers died: {dead}")
        outcome.figures.append(
            f"rolling-deploy: max_lock_wait_ms={max(wait_v2, wait_v3):.1f} "
            f"(v2 migrate {wait_v2:.1f}, v3 migrate {wait_v3:.1f}; waits under 1 ms go unlogged)"
        )
        return outcome


SCENARIOS: dict[str, Callable[[float], Outcome]] = {
    "worker-kill": worker_kill,
    "broker-outage": broker_outage,
    "db-restart": db_restart,
    "poison": poison,
    "duplicate-delivery": duplicate_delivery,
    "rolling-deploy": rolling_deploy,
}


def partition(scale: float) -> Outcome:
    """Network partitions between separate hosts (on_hosts.py; root: booted containers)."""
    from .on_hosts import partition as on_hosts

    return on_hosts(scale)


#: Scenarios on the vm-native hosts: root only; ./dev test runs them in the vm-native suite.
HOST_SCENARIOS: dict[str, Callable[[float], Outcome]] = {"partition": partition}
SCENARIOS.update(HOST_SCENARIOS)


def run_faults(names: list[str] | None = None, scale: float = 1.0) -> list[Outcome]:
    outcomes = []
    for name in names or list(SCENARIOS):
        if name not in SCENARIOS:
            raise HarnessError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        if name in HOST_SCENARIOS and os.geteuid() != 0:
            say(f"fault: {name} skipped: it needs root (systemd-nspawn containers)")
            continue
        outcome = SCENARIOS[name](scale)
        say(outcome.line())
        for figure in outcome.figures:
            say(figure)
        for problem in outcome.problems:
            say(f"  problem: {problem}")
        outcomes.append(outcome)
    say(
        f"faults: scenarios={len(outcomes)} jobs={sum(o.jobs for o in outcomes)} "
        f"lost={sum(o.lost for o in outcomes)} duplicated={sum(o.duplicated for o in outcomes)}"
    )
    if not all(o.ok for o in outcomes):
        raise HarnessError("some fault scenarios did not hold")
    return outcomes
