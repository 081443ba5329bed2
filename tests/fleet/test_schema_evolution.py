"""Schema evolution by added columns: a partition written before a column existed reads it as null, on both engines."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from kubetally.errors import LedgerError
from kubetally.ledger.engines import DuckDBEngine
from kubetally.ledger.fleet import FleetLedger, read_manifests
from kubetally.ledger.fleet_layout import FLEET_FORMAT, MANIFEST
from kubetally.ledger.spark import SparkEngine

ADDED = "pv_bill_adjustment"
"""The column the older partition lacks."""

SQL = (
    f"SELECT sum(CASE WHEN {ADDED} IS NULL THEN 1 ELSE 0 END) AS missing, count(*) AS n, "
    "sum(total_cost) AS total FROM allocations"
)


@pytest.fixture(scope="module")
def older(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A copy of the fleet whose first allocation partition was written without ``ADDED``; its row count."""
    copy = tmp_path_factory.mktemp("evolved") / "fleet"
    shutil.copytree(fleet, copy)
    manifest = next(m for m in read_manifests(str(copy)) if m.table == "allocations")
    table = pq.read_table(copy / manifest.path).drop_columns([ADDED])
    pq.write_table(table, copy / manifest.path, compression="zstd")
    columns = tuple(c for c in manifest.columns if c != ADDED)
    size = (copy / manifest.path).stat().st_size
    (copy / manifest.directory / MANIFEST).write_bytes(replace(manifest, columns=columns, size_bytes=size).to_json())
    return copy, table.num_rows


def test_an_older_partition_reads_the_added_column_as_null_on_duckdb(fleet: Path, older: tuple[Path, int]) -> None:
    path, dropped = older
    with FleetLedger(str(fleet), DuckDBEngine()) as current, FleetLedger(str(path), DuckDBEngine()) as evolved:
        want = current.fetch(SQL).row(0, named=True)
        got = evolved.fetch(SQL).row(0, named=True)
    assert dropped > 0 and want["missing"] == 0
    assert got["missing"] == dropped
    assert got["n"] == want["n"]
    assert got["total"] == pytest.approx(want["total"], abs=1e-9, rel=1e-12)


def test_an_older_partition_reads_the_added_column_as_null_on_spark(
    older: tuple[Path, int], spark_engine: SparkEngine
) -> None:
    path, dropped = older
    with FleetLedger(str(path), DuckDBEngine()) as duck:
        want = duck.fetch(SQL).row(0, named=True)
    spark = FleetLedger(str(path), spark_engine.sibling())
    got = spark.fetch(SQL).row(0, named=True)
    spark.close()
    assert got["missing"] == dropped
    assert got["n"] == want["n"]
    assert got["total"] == pytest.approx(want["total"], abs=1e-9, rel=1e-12)


def test_a_column_added_by_a_newer_publisher_is_ignored_and_a_newer_format_refused(fleet: Path, tmp_path: Path) -> None:
    copy = tmp_path / "fleet"
    shutil.copytree(fleet, copy)
    manifest = next(m for m in read_manifests(str(copy)) if m.table == "allocations")
    table = pq.read_table(copy / manifest.path)
    table = table.append_column("future_column", pa.array(["x"] * table.num_rows, pa.string()))
    pq.write_table(table, copy / manifest.path, compression="zstd")
    size = (copy / manifest.path).stat().st_size
    newer = replace(manifest, columns=(*manifest.columns, "future_column"), size_bytes=size)
    (copy / manifest.directory / MANIFEST).write_bytes(newer.to_json())
    with FleetLedger(str(fleet)) as current, FleetLedger(str(copy)) as evolved:
        want = current.fetch(SQL).row(0, named=True)
        got = evolved.fetch(SQL).row(0, named=True)
    assert got["n"] == want["n"] and got["total"] == pytest.approx(want["total"], abs=1e-9, rel=1e-12)
    (copy / manifest.directory / MANIFEST).write_bytes(replace(newer, fleet_format=FLEET_FORMAT + 1).to_json())
    with pytest.raises(LedgerError, match="newer than this reader"):
        FleetLedger(str(copy))


KUBERNETES_KINDS = {
    "deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "job": "Job",
    "replicaset": "ReplicaSet",
    "rollout": "Rollout",
}
PODS_SQL = "SELECT pod_uid, controller_kind, controller, cronjob FROM pods ORDER BY pod_uid"


@pytest.fixture(scope="module")
def version_4_pods(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fleet whose first pods partition is in version 4's spelling (``Deployment``, a CronJob's pods
    as ``CronJob``, no ``cronjob`` column)."""
    copy = tmp_path_factory.mktemp("version-4-pods") / "fleet"
    shutil.copytree(fleet, copy)
    manifest = next(m for m in read_manifests(str(copy)) if m.table == "pods")
    frame = pl.read_parquet(copy / manifest.path)
    assert frame.filter(pl.col("cronjob").is_not_null()).height > 0, "the demo has CronJobs"
    old = frame.with_columns(
        controller_kind=pl.when(pl.col("cronjob").is_not_null())
        .then(pl.lit("CronJob"))
        .otherwise(pl.col("controller_kind").replace_strict(KUBERNETES_KINDS, default=None)),
        controller=pl.coalesce("cronjob", "controller"),
    ).drop("cronjob")
    assert set(old.get_column("controller_kind").drop_nulls()) >= {"Deployment", "CronJob"}
    old.write_parquet(copy / manifest.path, compression="zstd")
    size = (copy / manifest.path).stat().st_size
    columns = tuple(c for c in manifest.columns if c != "cronjob")
    (copy / manifest.directory / MANIFEST).write_bytes(replace(manifest, columns=columns, size_bytes=size).to_json())
    return copy


def test_pods_of_a_version_4_ledger_read_with_opencost_controller_names_on_duckdb(
    fleet: Path, version_4_pods: Path
) -> None:
    with FleetLedger(str(fleet), DuckDBEngine()) as current, FleetLedger(str(version_4_pods), DuckDBEngine()) as old:
        assert_frame_equal(old.fetch(PODS_SQL), current.fetch(PODS_SQL))


def test_pods_of_a_version_4_ledger_read_with_opencost_controller_names_on_spark(
    fleet: Path, version_4_pods: Path, spark_engine: SparkEngine
) -> None:
    with FleetLedger(str(fleet), DuckDBEngine()) as current:
        want = current.fetch(PODS_SQL)
    spark = FleetLedger(str(version_4_pods), spark_engine.sibling())
    got = spark.fetch(PODS_SQL)
    spark.close()
    assert_frame_equal(got, want)
