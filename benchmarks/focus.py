"""Benchmarks of the FOCUS work on the ``large`` scenario: export, bill ingest, reconciliation, cloud cost query.

Run with ``python -m benchmarks.focus`` (``--nodes 400 --pods 10000 --days 30`` by default, as ``make bench``).
The ledger is written as in :mod:`benchmarks.run`; then the simulation's cloud bill goes through the FOCUS reader
into ``cloud_costs``, every billed node and disk is reconciled, the whole window is exported as FOCUS at day
granularity (CSV and Parquet), and the cluster and cloud queries are timed after reconciliation. Results print as
a markdown table and are saved in ``focus_results.json`` for docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from benchmarks.run import NOW, Figure, arguments, peak_rss_mib, publish, timed, write_history
from kubetally.domain.policy import BillingPolicy
from kubetally.focus.read import read_focus
from kubetally.focus.reconcile import reconcile
from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, run_allocation
from kubetally.query.cloud import cloud_cost_range
from kubetally.query.cloud_params import CloudCostQuery
from kubetally.query.focus_export import FocusQuery, focus_frame
from kubetally.query.focus_write import write_export
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, simulated_bill, to_history

RESULTS = Path(__file__).with_name("focus_results.json")


def run(nodes: int, pods: int, days: int, query_runs: int) -> list[Figure]:
    """Write ``large`` into a fresh ledger, then ingest its bill, reconcile, export and query."""
    figures: list[Figure] = []
    scenario = load_scenario(f"large:nodes={nodes},pods={pods},days={days}")
    sim = simulate(scenario, seed=1, now=NOW)
    history = to_history(sim)
    window = f"{history.start.strftime('%Y-%m-%dT%H:%M:%SZ')},{history.end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "large.duckdb"
        with Ledger.open(db) as ledger:
            write_history(ledger, history, scenario_pricebook(scenario), BillingPolicy())
            bill_csv = simulated_bill(sim).write_csv().encode()
            batch, seconds = timed(lambda: read_focus(bill_csv, "large-bill.csv"))
            rows = batch.frame.height
            figures.append(Figure("bill read", f"{rows:,} FOCUS rows", rows / seconds, "rows/s", peak_rss_mib()))
            _, seconds = timed(lambda: ledger.upsert_cloud_costs(batch.frame))
            figures.append(Figure("bill upsert", f"{rows:,} FOCUS rows", rows / seconds, "rows/s", peak_rss_mib()))
            report, seconds = timed(lambda: reconcile(ledger, history.start, history.end))
            changed = report.applied.allocations_changed if report.applied is not None else 0
            figures.append(
                Figure(
                    "reconcile",
                    f"{report.assets.height} nodes and disks, {changed:,} allocation rows changed",
                    seconds,
                    "s",
                    peak_rss_mib(),
                )
            )
        with Ledger.open(db, read_only=True) as ledger:
            query = FocusQuery.from_params({"window": window, "granularity": "day"}, NOW)
            frame, seconds = timed(lambda: focus_frame(ledger, query, "USD"))
            figures.append(
                Figure(
                    "FOCUS export", f"{frame.height:,} day rows built", frame.height / seconds, "rows/s", peak_rss_mib()
                )
            )
            for suffix in ("csv", "parquet"):
                path = Path(folder) / f"export.{suffix}"
                _, seconds = timed(lambda path=path: write_export(frame, path))  # type: ignore[misc]
                size = path.stat().st_size / 2**20
                figures.append(
                    Figure("FOCUS export", f"{suffix} written ({size:,.0f} MiB)", seconds, "s", peak_rss_mib())
                )
            allocation = AllocationQuery.from_params(
                {"window": window, "aggregate": "namespace", "idle": "separate"}, NOW
            )
            _, cold = timed(lambda: run_allocation(ledger, allocation))
            warm = [timed(lambda: run_allocation(ledger, allocation))[1] for _ in range(query_runs)]
            figures.append(
                Figure("query", f"{days}-day by namespace, reconciled, first", cold * 1000, "ms", peak_rss_mib())
            )
            figures.append(
                Figure(
                    "query",
                    f"{days}-day by namespace, reconciled, median",
                    statistics.median(warm) * 1000,
                    "ms",
                    peak_rss_mib(),
                )
            )
            cloud = CloudCostQuery.from_params({"window": window, "aggregate": "service", "accumulate": "true"}, NOW)
            times = [timed(lambda: cloud_cost_range(ledger, cloud))[1] for _ in range(query_runs)]
            figures.append(
                Figure(
                    "query",
                    f"/cloudCost {days} days by service, median",
                    statistics.median(times) * 1000,
                    "ms",
                    peak_rss_mib(),
                )
            )
    return figures


def main() -> None:
    """Parse flags, run, print a markdown table and save the JSON results."""
    args = arguments(__doc__, query_runs=10)
    publish(run(args.nodes, args.pods, args.days, args.query_runs), args, RESULTS)


if __name__ == "__main__":
    main()
