"""``./dev bench``: duet beside a floor (floor.py), one run, one machine (README.md, "Performance").

Lines read ``bench: <figure> duet=<x> floor=<y> ratio=<x/y>`` or ``bench: <name> <value> <unit>``;
everything lands in ``.state/bench.json`` and ``.state/bench.png`` (plot.py).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from .plot import main as plot
from .servers import ROLES, Process
from .stack import Stack, http_json, start_celery
from .system import REPO, STATE, read_since, run, say, wait_for
from .venvs import python, venv_dir

TEXT = (
    "Benchmarks measure what tests cannot assert. Latency depends on the machine. "
    "Throughput depends on the number of processes. Memory depends on the libraries loaded."
)
FLOOR = Path(__file__).with_name("floor.py")
FLOOR_DB = "floor"
#: Seconds between paced jobs.
PACE = 0.010
WORKER_ROLE = ROLES["worker"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20


def tree_size_mib(path: Path) -> float:
    return sum(f.lstat().st_size for f in path.rglob("*") if not f.is_dir()) / 2**20


def figure(name: str, value: float, unit: str) -> None:
    say(f"bench: {name} {value:.3f} {unit}")


def compare(name: str, duet: float, floor: float, unit: str = "") -> None:
    ratio = f"{duet / floor:.2f}" if floor else "n/a"
    say(f"bench: {name} duet={duet:.3f}{unit} floor={floor:.3f}{unit} ratio={ratio}")


class ServerLog:
    """The worker role's statements and new sessions, from PostgreSQL's own log."""

    def __init__(self, stack: Stack) -> None:
        self.path = stack.postgres.root / "postgres.log"
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def counts(self) -> tuple[int, int, dict[str, int]]:
        """The worker role's (statements, new sessions, statements by first word) since mark."""
        text = read_since(self.path, self.offset)
        statements = sessions = 0
        kinds: Counter[str] = Counter()
        tag = f" user={WORKER_ROLE} "
        for line in text.splitlines():
            if f"connection authorized: user={WORKER_ROLE} " in line:
                sessions += 1
            elif tag in line and "LOG:  statement: " in line:
                statements += 1
                words = line.split("LOG:  statement: ", 1)[1].split(None, 1)
                word = words[0].strip(";").upper() if words else "?"
                kinds[word] += 1
        return statements, sessions, dict(kinds)


def log_worker_role(stack: Stack) -> None:
    """Log every statement of the worker role (only), and every new session."""
    prefix = "ALTER SYSTEM SET log_line_prefix = '%m [%p] user=%u db=%d '"
    role = f"ALTER ROLE {WORKER_ROLE} SET log_statement = 'all'"
    queries = [prefix, "ALTER SYSTEM SET log_connections = on", role, "SELECT pg_reload_conf()"]
    stack.postgres.psql(*(arg for query in queries for arg in ("-c", query)))


def timed_start(start: Callable[[], Process]) -> tuple[Process, float]:
    began = time.monotonic()
    process = start()
    return process, time.monotonic() - began


def pace(count: int, submit: Callable[[int], object]) -> None:
    began = time.monotonic()
    for index in range(count):
        delay = began + index * PACE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        submit(index)


# -- duet --------------------------------------------------------------------------------------


def duet_rows(stack: Stack, title: str, query: str) -> list[list[str]]:
    return stack.sql(
        query.format(
            jobs="common_summaryjob j JOIN common_document d ON d.id = j.document_id",
            title=f"d.title = '{title}'",
        )
    )


LATENCIES = (
    "SELECT 1000 * extract(epoch FROM j.finished - j.created) FROM {jobs}"
    " WHERE {title} AND j.status = 'succeeded'"
)
DRAIN = (
    "SELECT count(*), extract(epoch FROM max(j.finished) - min(j.started)) FROM {jobs}"
    " WHERE {title} AND j.status = 'succeeded'"
)


def bench_duet(stack: Stack, log: ServerLog, jobs: int, paced: int) -> dict[str, object]:
    results: dict[str, object] = {}
    token = stack.create_token("bench")
    url = f"{stack.base_url}/api/documents/"
    done = 0

    def post(title: str) -> None:
        status, _, body = http_json("POST", url, token, {"title": title, "text": TEXT})
        assert status == 202, (status, body)

    worker = stack.workers.pop()
    worker.stop()
    log_worker_role(stack)  # new sessions of the role log their statements
    _, results["cold_start"] = timed_start(stack.start_worker)

    posts, gets, ids = [], [], []
    for _ in range(200):
        started = time.perf_counter()
        _, _, job = http_json("POST", url, token, {"title": "seq", "text": TEXT})
        posts.append(time.perf_counter() - started)
        ids.append(job["url"])
    for job_url in ids:
        started = time.perf_counter()
        http_json("GET", job_url, token)
        gets.append(time.perf_counter() - started)
    for name, values in (("post", posts), ("get_job", gets)):
        results[f"http_{name}_p50"] = 1000 * statistics.median(values)
        results[f"http_{name}_p95"] = 1000 * percentile(values, 0.95)
    done += len(ids)
    stack.wait_for_jobs(done, timeout=300)

    began = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: post("conc"), range(jobs)))
    results["http_post_throughput_c16"] = jobs / (time.monotonic() - began)
    done += jobs
    stack.wait_for_jobs(done, timeout=300)

    pace(20, lambda i: post("warm"))
    done += 20
    stack.wait_for_jobs(done, timeout=120)
    log.mark()
    began = time.monotonic()
    pace(paced, lambda i: post("paced"))
    # Sequential POSTs may not keep up with the pace: the floor gets the same arrival rate.
    results["pace"] = max(PACE, (time.monotonic() - began) / paced)
    done += paced
    stack.wait_for_jobs(done, timeout=300)
    results["statements"], results["sessions"], results["statement_kinds"] = log.counts()
    results["latencies"] = sorted(float(r[0]) for r in duet_rows(stack, "paced", LATENCIES))

    if stack.web is not None:
        results["rss_web"] = tree_rss_mib(stack.web.pid)
    results["rss_worker"] = tree_rss_mib(stack.workers[-1].pid)

    worker = stack.workers.pop()
    worker.stop()
    stack.web_side("enqueue", "drain", str(jobs), TEXT)  # the web's code, no HTTP
    stack.start_worker()
    done += jobs
    stack.wait_for_jobs(done, timeout=600)
    count, seconds = duet_rows(stack, "drain", DRAIN)[0]
    results["drain"] = int(count) / float(seconds)
    return results


# -- the floor ---------------------------------------------------------------------------------


def bench_floor(
    stack: Stack, log: ServerLog, jobs: int, paced: int, interval: float
) -> dict[str, object]:
    results: dict[str, object] = {}
    stack.postgres.psql("-c", f"CREATE DATABASE {FLOOR_DB}")
    env = {
        **stack.service_env("worker"),
        "FLOOR_DATABASE_URL": stack.postgres.role_url("worker", FLOOR_DB),
        "FLOOR_PRODUCER_URL": stack.postgres.superuser_url(FLOOR_DB),
        "FLOOR_BROKER_URL": stack.redis.url(0),
    }
    floor = [str(python("worker")), str(FLOOR)]

    def floor_run(*args: str) -> str:
        return run([*floor, *args], env=env, cwd=REPO, what=f"floor {args[0]}", quiet=True)

    def sql(query: str) -> list[list[str]]:
        return stack.sql(query, database=FLOOR_DB)

    def finished() -> int:
        return int(sql("SELECT count(*) FROM floor_job WHERE status = 'succeeded'")[0][0])

    def start() -> Process:
        argv = [*floor, "worker", "--loglevel", "INFO"]
        argv += [
            "--concurrency",
            str(stack.worker_concurrency),
            "--hostname",
            "floor@%h",
            "--without-mingle",
            "--without-gossip",
        ]
        log = stack.logs / "floor.log"
        return start_celery(Process("floor", argv, log=log, env=env, cwd=REPO, timeout=90))

    floor_run("setup", WORKER_ROLE)
    worker, results["cold_start"] = timed_start(start)
    try:
        floor_run("paced", "20", str(PACE))
        wait_for(lambda: finished() >= 20, "the floor's warm-up", 120, 0.2)
        log.mark()
        floor_run("paced", str(paced), str(interval))
        wait_for(lambda: finished() >= 20 + paced, "the floor's paced jobs", 300, 0.2)
        results["statements"], results["sessions"], results["statement_kinds"] = log.counts()
        results["latencies"] = sorted(
            float(r[0])
            for r in sql(
                "SELECT 1000 * extract(epoch FROM finished - created) FROM floor_job"
                f" WHERE id > 20 ORDER BY id LIMIT {paced}"
            )
        )
        results["rss_worker"] = tree_rss_mib(worker.pid)
    finally:
        worker.stop()
    floor_run("burst", str(jobs))
    worker = start()
    try:
        wait_for(lambda: finished() >= 20 + paced + jobs, "the floor's drain", 600, 0.2)
    finally:
        worker.stop()
    count, seconds = sql(
        "SELECT count(*), extract(epoch FROM max(finished) - min(started)) FROM floor_job"
        f" WHERE id > {20 + paced}"
    )[0]
    results["drain"] = int(count) / float(seconds)
    return results


# -- the run -----------------------------------------------------------------------------------


def bench(jobs: int = 1000, paced: int = 300) -> None:
    state = STATE / "bench"
    shutil.rmtree(state, ignore_errors=True)
    limits = {"DUET_THROTTLE_USER": "1000000/min", "DUET_THROTTLE_SUBMIT": "1000000/min"}
    with Stack(state, web_env=limits) as stack:
        log = ServerLog(stack)
        duet = bench_duet(stack, log, jobs, paced)
        # The floor runs alone: every duet process stops first.
        for process in stack.processes():
            process.stop()
        stack.workers.clear()
        floor = bench_floor(stack, log, jobs, paced, duet["pace"])

    for fraction in (0.50, 0.90, 0.99):
        name = f"paced_p{round(fraction * 100)}"
        compare(
            name, percentile(duet["latencies"], fraction), percentile(floor["latencies"], fraction)
        )
    say(f"bench: paced jobs arrived every {1000 * duet['pace']:.1f} ms on both sides")
    compare("drain_jobs_per_s", duet["drain"], floor["drain"])
    compare("worker_cold_start_s", duet["cold_start"], floor["cold_start"])
    for side in (duet, floor):
        side["statements_per_job"] = side["statements"] / paced
        side["sessions_per_job"] = side["sessions"] / paced
    compare("statements_per_job", duet["statements_per_job"], floor["statements_per_job"])
    compare("new_connections_per_job", duet["sessions_per_job"], floor["sessions_per_job"])
    say(f"bench: statement kinds in {paced} jobs: duet {duet['statement_kinds']}")
    say(f"bench: statement kinds in {paced} jobs: floor {floor['statement_kinds']}")
    for name in ("http_post_p50", "http_post_p95", "http_get_job_p50", "http_get_job_p95"):
        figure(name, duet[name], "ms (sequential)")
    figure("http_post_throughput_c16", duet["http_post_throughput_c16"], "requests/s")
    if "rss_web" in duet:
        figure("rss_web", duet["rss_web"], "MiB (gunicorn, 2 workers)")
    figure("rss_worker", duet["rss_worker"], "MiB (celery, 2 processes)")
    figure("rss_floor_worker", floor["rss_worker"], "MiB (celery, 2 processes)")
    sizes = {service: tree_size_mib(venv_dir(service)) for service in ("web", "worker")}
    for service, size in sizes.items():
        figure(f"venv_{service}", size, "MiB (with the dev group)")

    summary = {
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "paced_jobs": paced,
        "drain_jobs": jobs,
        "pace_seconds": duet["pace"],
        "duet": duet,
        "floor": floor,
        "venv_mib": sizes,
    }
    out = STATE / "bench.json"
    out.write_text(json.dumps(summary, indent=1) + "\n")
    picture = STATE / "bench.png"
    plot(str(out), str(picture))
    say(f"bench: wrote {out} and {picture}")
