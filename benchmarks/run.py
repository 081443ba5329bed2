"""Benchmarks: engine throughput, ledger write rate and query latency on the ``large`` scenario, with peak memory.

Run with ``make bench`` (or ``python -m benchmarks.run --pods 10000 --days 30``). Each stage reports wall time and
the process's peak resident memory after it; results print as a markdown table and are saved as JSON next to this
file, so that docs/benchmarks.md can quote them with the date and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import polars as pl

from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.engine import compute
from kubetally.history import ClusterHistory
from kubetally.ledger import Ledger, RunInfo
from kubetally.query import AllocationQuery, run_allocation
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

RESULTS = Path(__file__).with_name("results.json")
NOW = datetime(2026, 11, 1, tzinfo=UTC)
T = TypeVar("T")


@dataclass(frozen=True)
class Figure:
    """One measured figure."""

    stage: str
    metric: str
    value: float
    unit: str
    peak_rss_mib: float


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """``action()`` and the seconds it took."""
    began = time.perf_counter()
    result = action()
    return result, time.perf_counter() - began


def machine() -> str:
    """CPU model, core count and memory of this machine."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0))
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return f"{model}, {cores} cores, {pages / 2**30:.0f} GiB RAM, Python {platform.python_version()}"


def write_history(
    ledger: Ledger, history: ClusterHistory, prices: PriceBook, policy: BillingPolicy
) -> tuple[float, float, int, int]:
    """Cost ``history`` a day at a time into ``ledger``: engine seconds, write seconds, container-hours, rows."""
    engine_seconds = write_seconds = 0.0
    container_hours = rows = 0
    day = history.start
    while day < history.end:
        chunk = history.slice(day, min(day + timedelta(days=1), history.end))
        began = time.perf_counter()
        result = compute(chunk, prices, policy)
        engine_seconds += time.perf_counter() - began
        container_hours += result.allocations.filter(pl.col("kind") == "workload").height
        rows += result.allocations.height
        began = time.perf_counter()
        ledger.write(result, clusters=chunk.clusters, start=chunk.start, end=chunk.end, run=RunInfo("bench"))
        write_seconds += time.perf_counter() - began
        day += timedelta(days=1)
    return engine_seconds, write_seconds, container_hours, rows


def run(nodes: int, pods: int, days: int, query_runs: int) -> list[Figure]:
    """Generate ``large``, cost it day by day, write it into a fresh ledger, then query it."""
    figures: list[Figure] = []
    scenario = load_scenario(f"large:nodes={nodes},pods={pods},days={days}")
    history, seconds = timed(lambda: to_history(simulate(scenario, seed=1, now=NOW)))
    figures.append(Figure("simulate", "seconds", seconds, "s", peak_rss_mib()))

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "large.duckdb"
        with Ledger.open(db) as ledger:
            written = write_history(ledger, history, scenario_pricebook(scenario), BillingPolicy())
        engine_seconds, write_seconds, container_hours, rows = written
        figures.append(
            Figure("engine", "container-hours/s", container_hours / engine_seconds, "rows/s", peak_rss_mib())
        )
        figures.append(Figure("engine", "container-hours", container_hours, "rows", peak_rss_mib()))
        figures.append(Figure("ledger write", "allocation rows/s", rows / write_seconds, "rows/s", peak_rss_mib()))
        figures.append(Figure("ledger", "file size", db.stat().st_size / 2**20, "MiB", peak_rss_mib()))

        window = f"{history.start.strftime('%Y-%m-%dT%H:%M:%SZ')},{history.end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        query = AllocationQuery.from_params({"window": window, "aggregate": "namespace", "idle": "separate"}, NOW)
        with Ledger.open(db, read_only=True) as ledger:
            _, cold = timed(lambda: run_allocation(ledger, query))
            warm = [timed(lambda: run_allocation(ledger, query))[1] for _ in range(query_runs)]
        figures.append(Figure("query", f"{days}-day by namespace + idle, first run", cold * 1000, "ms", peak_rss_mib()))
        figures.append(
            Figure(
                "query", f"{days}-day by namespace + idle, median", statistics.median(warm) * 1000, "ms", peak_rss_mib()
            )
        )
    return figures


def arguments(description: str | None, query_runs: int) -> argparse.Namespace:
    """The flags every benchmark of the ``large`` scenario takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--nodes", type=int, default=400)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--query-runs", type=int, default=query_runs)
    return parser.parse_args()


def publish(figures: list[Figure], args: argparse.Namespace, results: Path) -> None:
    """Print the figures as a markdown table under the date, machine and scenario, and save them as JSON."""
    header = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "scenario": f"large: {args.nodes} nodes, {args.pods} pods, {args.days} days",
    }
    print(f"{header['date']} · {header['machine']} · {header['scenario']}\n")
    print("| stage | figure | value | peak RSS (MiB) |\n|---|---|---:|---:|")
    for figure in figures:
        print(f"| {figure.stage} | {figure.metric} | {figure.value:,.1f} {figure.unit} | {figure.peak_rss_mib:,.0f} |")
    results.write_text(json.dumps({**header, "figures": [asdict(f) for f in figures]}, indent=2) + "\n")


def main() -> None:
    """Parse flags, run, print a markdown table and save the JSON results."""
    args = arguments(__doc__, query_runs=20)
    publish(run(args.nodes, args.pods, args.days, args.query_runs), args, RESULTS)


if __name__ == "__main__":
    main()
