"""Fleet benchmark: publish throughput, and a 30-day by-namespace query on DuckDB and Spark as the fleet grows.

One cluster of the ``large`` scenario (``--pods`` containers on ``--nodes`` nodes over ``--days`` days) is costed
into a ledger a day at a time; its publication is timed (rows/s, MiB/s, Parquet bytes per row against the DuckDB
file's). Simulating and costing every cluster would take hours on a small machine, so the fleet is made by cloning
the published partitions under other cluster ids (the same rows, another ``cluster`` value, their own manifests):
the engines read exactly what a real fleet of that size holds. Then the by-namespace allocation query over the
last ``--window-days`` (default: the whole period; with idle) runs cold (a new store) and warm (the median of
``--warm`` more runs) on fleets of each size in ``--clusters``, through the window's pruned file list as the API
reads it, on DuckDB and on Spark (``--spark-master``), and a least-squares line is fitted through
seconds versus clusters. The load average is recorded with the results (the machine may be shared).

    nice python -m benchmarks.fleet --pods 1000 --days 30 --clusters 10,30,50 --out benchmarks/fleet_results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.run import write_history
from kubetally.domain.policy import BillingPolicy
from kubetally.ledger import Ledger
from kubetally.ledger.engines import DuckDBEngine, FleetEngine
from kubetally.ledger.fleet import FleetLedger, read_manifests
from kubetally.ledger.fleet_layout import MANIFEST, Manifest
from kubetally.ledger.publish import publish
from kubetally.query import AllocationQuery, run_allocation
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

SOURCE = "c000"


def build_ledger(db: Path, nodes: int, pods: int, days: int, end: datetime) -> dict[str, float]:
    """Simulate and cost one ``large`` cluster named ``c000`` into ``db``; seconds and rows."""
    started = time.perf_counter()
    scenario = load_scenario(f"large:nodes={nodes},pods={pods},days={days}")
    renamed = scenario.model_copy(update={"clusters": [scenario.clusters[0].model_copy(update={"name": SOURCE})]})
    history = to_history(simulate(renamed, seed=7, start=end - timedelta(days=days), hours=24 * days, now=end))
    with Ledger.open(db) as ledger:
        _, write_seconds, container_hours, rows = write_history(
            ledger, history, scenario_pricebook(renamed), BillingPolicy()
        )
    return {
        "seconds": time.perf_counter() - started,
        "ledger_write_seconds": write_seconds,
        "container_hours": container_hours,
        "allocation_rows": rows,
    }


def clone(root: Path, manifests: list[Manifest], target: str) -> None:
    """Copy every partition in ``manifests`` as cluster ``target`` (cluster column rewritten, new manifest)."""
    for manifest in manifests:
        table = pq.read_table(root / manifest.path)
        if "cluster" in table.column_names:
            index = table.column_names.index("cluster")
            table = table.set_column(index, "cluster", pa.array([target] * table.num_rows, pa.string()))
        directory = root / manifest.directory.replace(f"cluster={SOURCE}", f"cluster={target}")
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, directory / manifest.file, compression="zstd")
        size = (directory / manifest.file).stat().st_size
        copy = Manifest(**{**manifest.__dict__, "cluster": target, "size_bytes": size})
        (directory / MANIFEST).write_bytes(copy.to_json())


def timed_query(
    engine: FleetEngine, root: Path, clusters: frozenset[str], query: AllocationQuery, warm_runs: int, *, rollup: bool
) -> dict[str, float]:
    """Cold: open a store over ``clusters`` (manifests read) and answer once through the window's store (views
    defined on that first query); warm: the median."""
    started = time.perf_counter()
    whole = FleetLedger(str(root), engine, clusters=clusters)
    opened = time.perf_counter() - started
    store = whole.windowed(query.window.start, query.window.end)
    run_allocation(store, query, rollup=rollup)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(warm_runs):
        started = time.perf_counter()
        run_allocation(store, query, rollup=rollup)
        warm.append(time.perf_counter() - started)
    hourly = int(store.fetch("SELECT count(*) AS n FROM allocations").item())
    daily = int(store.fetch("SELECT count(*) AS n FROM allocations_daily").item())
    return {
        "clusters": len(clusters),
        "files": len(whole.manifests),
        "files_listed": len(store.manifests),
        "hourly_rows": hourly,
        "daily_rows": daily,
        "open_s": opened,
        "cold_s": cold,
        "warm_s": statistics.median(warm),
        "load_average": os.getloadavg()[0],
    }


def fit(points: list[dict[str, float]], key: str) -> dict[str, float]:
    """Least-squares ``key = intercept + slope * clusters``."""
    xs, ys = [p["clusters"] for p in points], [p[key] for p in points]
    if len(points) < 2:
        return {"intercept_s": ys[0], "s_per_cluster": 0.0}
    slope, intercept = statistics.linear_regression(xs, ys)
    rows_per_cluster = points[-1]["hourly_rows"] / points[-1]["clusters"]
    return {
        "intercept_s": intercept,
        "s_per_cluster": slope,
        "s_per_million_hourly_rows": slope / rows_per_cluster * 1e6,
    }


def publish_figures(db: Path, root: Path, end: datetime) -> dict[str, float]:
    with Ledger.open(db, read_only=True) as ledger:
        rows = int(ledger.fetch("SELECT count(*) AS n FROM allocations").item())
        started = time.perf_counter()
        report = publish(ledger, str(root), now=end)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = publish(ledger, str(root), now=end)
        unchanged_seconds = time.perf_counter() - started
    allocation_bytes = sum(m.size_bytes for m in read_manifests(str(root)) if m.table == "allocations")
    return {
        "allocation_rows": rows,
        "rows_written": report.rows_written,
        "bytes_written": report.bytes_written,
        "seconds": seconds,
        "rows_per_second": report.rows_written / seconds,
        "mib_per_second": report.bytes_written / 2**20 / seconds,
        "parquet_bytes_per_allocation_row": allocation_bytes / rows,
        "parquet_bytes_per_row_all_tables": report.bytes_written / report.rows_written,
        "duckdb_file_bytes_per_allocation_row": db.stat().st_size / rows,
        "partitions": report.partitions_written,
        "republish_unchanged_seconds": unchanged_seconds,
        "republish_bytes_written": again.bytes_written,
        "load_average": os.getloadavg()[0],
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=40)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--clusters", default="10,30,50")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--window-days", type=int, default=0, help="the query's window (default: --days)")
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--spark-master", default="local-cluster[2,1,1024]")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kubetally-fleet-bench"))
    parser.add_argument("--hourly", action="store_true", help="read the hourly rows, not the daily rollup")
    parser.add_argument("--reuse", action="store_true", help="keep a fleet already built in --work")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/fleet_results.json"))
    return parser.parse_args()


def main() -> None:
    args = arguments()
    sizes = [int(n) for n in args.clusters.split(",")]
    end = datetime(2026, 11, 1, tzinfo=UTC)
    db, root = args.work / "ledger.duckdb", args.work / "fleet"
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "scenario": f"large:nodes={args.nodes},pods={args.pods},days={args.days}",
        "load_average_at_start": os.getloadavg(),
        "rows_read": "hourly" if args.hourly else "daily rollup for whole days",
        "window_days": args.window_days or args.days,
    }
    if not (args.reuse and root.exists()):
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.mkdir(parents=True)
        results["ledger"] = build_ledger(db, args.nodes, args.pods, args.days, end)
        results["publish"] = publish_figures(db, root, end)
        source = read_manifests(str(root), frozenset({SOURCE}))
        started = time.perf_counter()
        for index in range(1, max(sizes)):
            clone(root, source, f"c{index:03d}")
        results["clone_seconds"] = time.perf_counter() - started
    print(json.dumps(results, indent=2), flush=True)
    span = timedelta(days=args.window_days or args.days)
    window = f"{(end - span).isoformat()},{end.isoformat()}".replace("+00:00", "Z")
    query = AllocationQuery.from_params({"window": window, "aggregate": "namespace", "includeIdle": "true"}, end)
    for name in args.engines.split(","):
        engine = engine_for(name, args.spark_master, results)
        points = []
        for size in sizes:
            clusters = frozenset(f"c{i:03d}" for i in range(size))
            points.append(timed_query(engine.sibling(), root, clusters, query, args.warm, rollup=not args.hourly))
            print(name, json.dumps(points[-1]), flush=True)
        results[name] = {"points": points, "cold_fit": fit(points, "cold_s"), "warm_fit": fit(points, "warm_s")}
        args.out.write_text(json.dumps(results, indent=2))
        session = getattr(engine, "session", None)
        if session is not None:
            session.stop()
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def engine_for(name: str, master: str, results: dict[str, Any]) -> FleetEngine:
    if name == "duckdb":
        return DuckDBEngine()
    from kubetally.ledger.spark import SparkEngine

    started = time.perf_counter()
    try:
        engine = SparkEngine(master)
    except Exception as exc:  # a local-cluster needs SPARK_HOME's scripts: fall back, and say so
        results["spark_master_fallback"] = f"{master} failed ({type(exc).__name__}: {exc}); local[2] used"
        master = "local[2]"
        engine = SparkEngine(master)
    results["spark_master"] = master
    results["spark_start_seconds"] = time.perf_counter() - started
    return engine


if __name__ == "__main__":
    main()
