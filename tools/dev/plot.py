"""bench.png from bench.json: latency CDFs of duet and the floor, and throughput bars."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(source: str, target: str) -> None:
    data = json.loads(Path(source).read_text())
    duet, floor = data["duet"], data["floor"]
    figure, (cdf, bars) = plt.subplots(1, 2, figsize=(11, 4.2), width_ratios=(3, 2))
    for name, side, colour in (("duet", duet, "tab:blue"), ("floor", floor, "tab:gray")):
        values = side["latencies"]
        fractions = [(i + 1) / len(values) for i in range(len(values))]
        cdf.step(values, fractions, where="post", label=name, color=colour)
    cdf.set_xscale("log")
    cdf.set_xlabel("job latency, finished − created (ms, log scale)")
    cdf.set_ylabel("fraction of jobs")
    cdf.set_title(f"{data['paced_jobs']} jobs, one every {1000 * data['pace_seconds']:.0f} ms")
    cdf.grid(True, which="both", alpha=0.3)
    cdf.legend(loc="lower right")

    names = ["drain (jobs/s)", "POST c=16 (req/s)"]
    duet_values = [duet["drain"], duet["http_post_throughput_c16"]]
    floor_values = [floor["drain"], 0.0]
    positions = range(len(names))
    bars.bar([p - 0.2 for p in positions], duet_values, 0.4, label="duet", color="tab:blue")
    bars.bar([p + 0.2 for p in positions], floor_values, 0.4, label="floor", color="tab:gray")
    for p, value in zip(positions, duet_values, strict=True):
        bars.annotate(f"{value:.0f}", (p - 0.2, value), ha="center", va="bottom")
    for p, value in zip(positions, floor_values, strict=True):
        if value:
            bars.annotate(f"{value:.0f}", (p + 0.2, value), ha="center", va="bottom")
    bars.set_xticks(list(positions), names)
    bars.set_title(f"throughput ({data['machine']['cpus']} CPUs, shared)")
    bars.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=110)
