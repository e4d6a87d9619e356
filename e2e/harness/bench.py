"""``./dev bench``: figures, not pass/fail. Speed and memory of the native stack.

Prints one line per figure, ``bench: <name> <value> <unit>``:

- HTTP latency of POST /api/documents/ and GET /api/jobs/<id>/ (p50, p95), sequential;
- end-to-end throughput: jobs submitted concurrently until all succeeded (extractive);
- the extractive summariser alone, on a 10,000-word document, in the worker venv;
- resident memory of the gunicorn and Celery process trees once the run is over.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .stack import Stack, http_json
from .system import REPO, STATE, run, say
from .venvs import python

TEXT = (
    "Benchmarks measure what tests cannot assert. Latency depends on the machine. "
    "Throughput depends on the number of processes. Memory depends on the libraries loaded."
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def figure(name: str, value: float, unit: str) -> None:
    say(f"bench: {name} {value:.3f} {unit}")


def bench(jobs: int = 500) -> None:
    state = STATE / "bench"
    shutil.rmtree(state, ignore_errors=True)
    limits = {"DUET_THROTTLE_USER": "1000000/min", "DUET_THROTTLE_SUBMIT": "1000000/min"}
    with Stack(state, web_env=limits) as stack:
        stack.start_worker()
        token = stack.create_token("bench")
        url = f"{stack.base_url}/api/documents/"

        posts, gets, ids = [], [], []
        for _ in range(200):
            started = time.perf_counter()
            _, _, job = http_json("POST", url, token, {"title": "b", "text": TEXT})
            posts.append(time.perf_counter() - started)
            ids.append(job["url"])
        for job_url in ids:
            started = time.perf_counter()
            http_json("GET", job_url, token)
            gets.append(time.perf_counter() - started)
        for name, values in (("post", posts), ("get_job", gets)):
            figure(f"http_{name}_p50", 1000 * statistics.median(values), "ms")
            figure(f"http_{name}_p95", 1000 * percentile(values, 0.95), "ms")
        stack.wait_for_jobs(len(ids), timeout=120)

        before = len(ids)
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda i: http_json("POST", url, token, {"title": f"{i}", "text": TEXT}),
                    range(jobs),
                )
            )
        stack.wait_for_jobs(before + jobs, timeout=300)
        elapsed = time.monotonic() - started
        figure("roundtrip_throughput", jobs / elapsed, "jobs/s")
        figure("roundtrip_seconds", elapsed, f"s for {jobs} jobs")

        if stack.web is not None:
            figure("rss_web", tree_rss_mib(stack.web.pid), "MiB (gunicorn, 2 workers)")
        for worker in stack.workers:
            figure(f"rss_{worker.name}", tree_rss_mib(worker.pid), "MiB (celery, 2 processes)")

    code = (
        "import time; from summaries.providers.extractive import summarise_text; "
        "text = open(0).read(); t = time.perf_counter(); "
        "[summarise_text(text) for _ in range(20)]; "
        "print((time.perf_counter() - t) / 20 * 1000)"
    )
    document = " ".join(TEXT.split() * 400)  # about 10,000 words
    milliseconds = run(
        [str(python("worker")), "-c", code],
        cwd=REPO / "worker",
        input=document,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "duet_worker.settings"},
        what="extractive benchmark",
    )
    figure("extractive_10k_words", float(milliseconds), "ms per document")
