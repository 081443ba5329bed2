"""Fleet benchmark: publish throughput, and a 30-day by-namespace query on DuckDB and Spark as the fleet grows.

One cluster of the ``demo`` scenario is simulated over ``--days`` days and costed into a ledger; its publication is
timed (rows/s, MiB/s, Parquet bytes per row against the DuckDB file's). Simulating every cluster would take hours,
so the fleet is made by cloning the published partitions under other cluster ids (the same rows, another
``cluster`` value, their own manifests): the engines read exactly what a real fleet of that size holds. Then the
30-day by-namespace allocation query (with idle) runs cold (a new store) and warm (again) on fleets of each size in
``--clusters``, on DuckDB and on Spark (``--spark-master``), and a line is fitted through seconds versus rows.

    nice python -m benchmarks.fleet --days 30 --clusters 10,50 --out benchmarks/fleet_results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console

from kubetally.cli.ingest import ingest_simulation
from kubetally.ledger import Ledger
from kubetally.ledger.engines import DuckDBEngine, FleetEngine
from kubetally.ledger.fleet import FleetLedger, read_manifests
from kubetally.ledger.fleet_layout import MANIFEST, Manifest
from kubetally.ledger.publish import publish
from kubetally.query import AllocationQuery, run_allocation
from kubetally.settings import load_settings
from kubetally.sources.simulator import load_scenario, simulate


def build_ledger(db: Path, days: int, end: datetime) -> None:
    scenario = load_scenario("demo")
    cluster = scenario.clusters[1].model_copy(update={"name": "c000"})
    one = scenario.model_copy(update={"clusters": [cluster], "name": "fleet-bench"})
    sim = simulate(one, seed=7, start=end - timedelta(days=days), hours=24 * days, now=end)
    ingest_simulation(load_settings(None, db=db), sim, Console(quiet=True))


def clone(root: Path, source: str, target: str) -> None:
    """Copy every partition of cluster ``source`` as cluster ``target`` (cluster column rewritten, new manifest)."""
    for manifest in read_manifests(str(root), frozenset({source})):
        table = pq.read_table(root / manifest.path)
        if "cluster" in table.column_names:
            index = table.column_names.index("cluster")
            table = table.set_column(index, "cluster", pa.array([target] * table.num_rows, pa.string()))
        directory = root / manifest.directory.replace(f"cluster={source}", f"cluster={target}")
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, directory / manifest.file, compression="zstd")
        size = (directory / manifest.file).stat().st_size
        copy = Manifest(**{**manifest.__dict__, "cluster": target, "size_bytes": size})
        (directory / MANIFEST).write_bytes(copy.to_json())


def timed_query(engine: FleetEngine, root: Path, clusters: frozenset[str], query: AllocationQuery) -> dict[str, float]:
    started = time.perf_counter()
    store = FleetLedger(str(root), engine, clusters=clusters)
    run_allocation(store, query)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    run_allocation(store, query)
    warm = time.perf_counter() - started
    rows = int(store.fetch("SELECT count(*) AS n FROM allocations").item())
    return {"clusters": len(clusters), "rows": rows, "cold_s": cold, "warm_s": warm}


def slope(points: list[dict[str, float]], key: str) -> float:
    """Seconds per million rows between the smallest and the largest fleet."""
    first, last = points[0], points[-1]
    return (last[key] - first[key]) / max(last["rows"] - first["rows"], 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--clusters", default="10,50")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kubetally-fleet-bench"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/fleet_results.json"))
    args = parser.parse_args()
    sizes = [int(n) for n in args.clusters.split(",")]
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    db, root = args.work / "ledger.duckdb", args.work / "fleet"
    started = time.perf_counter()
    build_ledger(db, args.days, end)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "days": args.days,
        "ledger_seconds": time.perf_counter() - started,
    }
    with Ledger.open(db, read_only=True) as ledger:
        rows = int(ledger.fetch("SELECT count(*) AS n FROM allocations").item())
        started = time.perf_counter()
        report = publish(ledger, str(root), now=end)
        seconds = time.perf_counter() - started
    allocation_bytes = sum(m.size_bytes for m in read_manifests(str(root)) if m.table == "allocations")
    results["publish"] = {
        "allocation_rows": rows,
        "rows_written": report.rows_written,
        "seconds": seconds,
        "rows_per_second": report.rows_written / seconds,
        "mib_per_second": report.bytes_written / 2**20 / seconds,
        "parquet_bytes_per_allocation_row": allocation_bytes / rows,
        "duckdb_file_bytes_per_allocation_row": db.stat().st_size / rows,
        "partitions": report.partitions_written,
    }
    for index in range(1, max(sizes)):
        clone(root, "c000", f"c{index:03d}")
    window = f"{(end - timedelta(days=args.days)).isoformat()},{end.isoformat()}".replace("+00:00", "Z")
    query = AllocationQuery.from_params({"window": window, "aggregate": "namespace", "includeIdle": "true"}, end)
    engines: dict[str, FleetEngine] = {"duckdb": DuckDBEngine()}
    from kubetally.ledger.spark import SparkEngine

    started = time.perf_counter()
    engines["spark"] = SparkEngine(args.spark_master)
    results["spark_start_seconds"] = time.perf_counter() - started
    for name, engine in engines.items():
        points = []
        for size in sizes:
            clusters = frozenset(f"c{i:03d}" for i in range(size))
            points.append(timed_query(engine.sibling() if name == "duckdb" else engine, root, clusters, query))
        results[name] = {"points": points, "warm_s_per_million_rows": slope(points, "warm_s")}
        results[name]["cold_s_per_million_rows"] = slope(points, "cold_s")
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
