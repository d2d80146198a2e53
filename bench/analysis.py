"""Pareto frontier: Backchannel against NegMAS on the same random problems, in the same run.

Each measurement runs in a fresh interpreter (``python -m bench.analysis --worker SIDE FILE``) so
peak memory is its own: ``ru_maxrss`` of that process, and the growth over its imports. Both
sides must return the same frontier (utility vectors rounded to 1e-6), or the run fails. Sizes:
10^3 … 10^6 packages, 10^7 with ``BENCH_FULL=1`` (NegMAS needs about a minute and several GiB
there); then Backchannel alone at 10^12 and 10^20, where enumeration is impossible.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

SEED = 20240110
OPTIONS = 10


def problem(issues: int, seed: int) -> dict:
    """A random two-party problem with ``issues`` issues of 10 options each."""
    rng = np.random.default_rng(seed)
    names = [f"i{i}" for i in range(issues)]
    options = [f"o{j}" for j in range(OPTIONS)]
    return {
        "issues": [{"id": n, "options": options} for n in names],
        "parties": [
            {
                "id": party,
                "weights": {n: round(float(rng.random()), 3) for n in names},
                "values": {n: {o: round(float(rng.random()), 3) for o in options} for n in names},
                "reservation": 0,
            }
            for party in ("a", "b")
        ],
    }


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(side: str, path: str) -> None:
    """Measure one side on one problem file; print a JSON line."""
    document = json.loads(Path(path).read_text())
    if side == "negmas":
        from negmas import make_issue
        from negmas.preferences import LinearAdditiveUtilityFunction
        from negmas.preferences.ops import pareto_frontier

        issues = [make_issue(list(i["options"]), name=i["id"]) for i in document["issues"]]
        ufuns = [
            LinearAdditiveUtilityFunction(values=p["values"], weights=p["weights"], issues=issues)
            for p in document["parties"]
        ]
        base = _rss_mib()
        start = time.perf_counter()
        front, _ = pareto_frontier(ufuns, issues=issues)
        seconds = time.perf_counter() - start
        vectors = [[float(u) for u in point] for point in front]
    else:
        from backchannel.engine import analysis

        parsed = analysis.parse(document)
        base = _rss_mib()
        start = time.perf_counter()
        front = analysis.pareto_frontier(parsed)
        seconds = time.perf_counter() - start
        vectors = [list(p.utilities) for p in front.points]
    print(json.dumps({"seconds": seconds, "peak": _rss_mib(), "base": base, "frontier": vectors}))


def measure(side: str, document: dict) -> dict:
    """Run one side in a fresh interpreter and return what it printed."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(document, handle)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.analysis", "--worker", side, handle.name],
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        )
    finally:
        os.unlink(handle.name)
    return json.loads(done.stdout.strip().splitlines()[-1])


def same(a: list[list[float]], b: list[list[float]]) -> bool:
    """Whether two frontiers hold the same utility vectors (rounded to 1e-6)."""

    def key(front: list[list[float]]) -> list[tuple[float, ...]]:
        return sorted(tuple(round(u, 6) for u in v) for v in front)

    return key(a) == key(b)


def main() -> None:
    """Print the table of ratios against NegMAS, then Backchannel alone at 10^12 and 10^20."""
    console = Console(width=140)
    exponents = [3, 4, 5, 6] + ([7] if os.environ.get("BENCH_FULL") else [])
    table = Table(title="Pareto frontier: Backchannel vs NegMAS (same problems, same run)")
    for column in (
        "packages",
        "frontier",
        "NegMAS s",
        "Backchannel s",
        "speed-up",
        "NegMAS peak MiB (Δ)",
        "Backchannel peak MiB (Δ)",
        "same frontier",
    ):
        table.add_column(column, justify="right")
    failed = False
    for exponent in exponents:
        document = problem(exponent, SEED + exponent)
        ours = measure("backchannel", document)
        theirs = measure("negmas", document)
        agree = same(ours["frontier"], theirs["frontier"])
        failed |= not agree
        table.add_row(
            f"10^{exponent}",
            str(len(ours["frontier"])),
            f"{theirs['seconds']:.3f}",
            f"{ours['seconds']:.5f}",
            f"{theirs['seconds'] / ours['seconds']:,.0f}×",
            f"{theirs['peak']:.0f} ({theirs['peak'] - theirs['base']:+.0f})",
            f"{ours['peak']:.0f} ({ours['peak'] - ours['base']:+.0f})",
            "yes" if agree else "NO",
        )
    console.print(table)
    alone = Table(title="Backchannel alone, where enumeration is impossible")
    for column in ("packages", "frontier", "seconds", "peak MiB (Δ)"):
        alone.add_column(column, justify="right")
    for exponent in (12, 20):
        ours = measure("backchannel", problem(exponent, SEED + exponent))
        alone.add_row(
            f"10^{exponent}",
            str(len(ours["frontier"])),
            f"{ours['seconds']:.3f}",
            f"{ours['peak']:.0f} ({ours['peak'] - ours['base']:+.0f})",
        )
    console.print(alone)
    if failed:
        raise SystemExit("the two frontiers differ")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
