"""The daily rollup ``allocations_daily``: kept equal to the aggregation of the hourly rows by every write."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.costs import COST_SCHEMAS, CostResult
from kubetally.errors import LedgerError
from kubetally.ledger import Ledger, RunInfo
from kubetally.ledger.schema import ROLLUP, SCHEMA_VERSION
from tests.ledger.builders import START, make_result
from tests.ledger.conftest import assert_rollup_fresh, stored

H = timedelta(hours=1)
RUN = RunInfo(source="test")
KEYS = ["cluster", "day", "kind", "node", "namespace", "pod", "pod_uid", "container"]


def polars_rollup(allocations: pl.DataFrame) -> pl.DataFrame:
    """The rollup computed with Polars from the hourly rows, following the documented column rules."""
    averages = [c for c in allocations.columns if c.endswith("_average")]
    maxima = [c for c in allocations.columns if c.endswith("_max")]
    sums = [c for c, t in allocations.schema.items() if t == pl.Float64 and c not in {*averages, *maxima}]
    return (
        allocations.with_columns(day=pl.col("hour").dt.truncate("1d"))
        .group_by(KEYS)
        .agg(
            pl.col("hour").min().alias("first_hour"),
            pl.col("hour").max().alias("last_hour"),
            *(pl.col(c).sum() for c in sums),
            *(pl.col(c).max() for c in maxima),
            *(
                (pl.col(c) * pl.col("running_minutes")).sum().alias(c.removesuffix("_average") + "_minutes")
                for c in averages
            ),
            pl.col("price_source").min(),
        )
    )


def stable_containers(result: CostResult) -> CostResult:
    """``result`` with one container per pod across hours (the builder names rows uniquely), and some null
    averages, so that the rollup really adds several hours per row."""
    allocations = result.allocations.with_columns(
        node=pl.format("node-{}", pl.col("pod_uid").str.len_chars() % 3),
        namespace=pl.format("ns-{}", pl.col("pod_uid").str.tail(1)),
        pod=pl.format("pod-{}", "pod_uid"),
        container=pl.lit("app"),
        cpu_core_usage_average=pl.when(pl.col("hour").dt.hour() == 22).then(None).otherwise("cpu_core_usage_average"),
    )
    return CostResult(allocations, result.allocation_pvs, result.allocation_lbs, result.pods, result.assets)


def stored_rollup(ledger: Ledger, columns: list[str]) -> pl.DataFrame:
    return ledger.fetch(f"SELECT * FROM {ROLLUP}").select(columns).sort(KEYS, nulls_last=True)


def test_the_rollup_sums_maxes_and_weights_each_container_day(ledger_path: Path) -> None:
    start = START + 20 * H
    result = stable_containers(make_result(("a", "b"), start, 10, 20, seed=4))
    with Ledger.open(ledger_path) as ledger:
        report = ledger.write(result, clusters=("a", "b"), start=start, end=start + 10 * H, run=RUN)
        expected = polars_rollup(result.allocations).sort(KEYS, nulls_last=True)
        assert report.rows_inserted[ROLLUP] == expected.height == 2 * 2 * 20
        assert_frame_equal(stored_rollup(ledger, expected.columns), expected, rel_tol=1e-12)
        days = ledger.fetch(f"SELECT DISTINCT day FROM {ROLLUP} ORDER BY day").get_column("day").to_list()
    assert days == [START, START + 24 * H]


def test_a_partial_rewrite_recomputes_only_the_touched_cluster_days(ledger_path: Path) -> None:
    old = make_result(("a", "b"), START, 48, 15, seed=1)
    new = make_result(("a",), START + 30 * H, 4, 15, seed=2)
    with Ledger.open(ledger_path) as ledger:
        ledger.write(old, clusters=("a", "b"), start=START, end=START + 48 * H, run=RUN)
        before = stored(ledger, ROLLUP)
        ledger.write(new, clusters=("a",), start=START + 30 * H, end=START + 34 * H, run=RUN)
        after = stored(ledger, ROLLUP)
        assert_rollup_fresh(ledger)
    touched = (pl.col("cluster") == "a") & (pl.col("day") == START + 24 * H)
    assert_frame_equal(after.filter(~touched), before.filter(~touched))
    assert not after.filter(touched).equals(before.filter(touched))


def test_an_empty_write_leaves_only_the_remaining_hours_in_the_rollup(ledger_path: Path) -> None:
    old = make_result(("a",), START, 24, 10, seed=1)
    empty = CostResult(**{table: pl.DataFrame(schema=schema) for table, schema in COST_SCHEMAS.items()})
    with Ledger.open(ledger_path) as ledger:
        ledger.write(old, clusters=("a",), start=START, end=START + 24 * H, run=RUN)
        ledger.write(empty, clusters=("a",), start=START + 2 * H, end=START + 24 * H, run=RUN)
        assert_rollup_fresh(ledger)
        hours = ledger.fetch(f"SELECT min(first_hour) AS first, max(last_hour) AS last, count(*) AS n FROM {ROLLUP}")
    assert hours.row(0) == (START, START + H, 2 * 10)


def downgrade_to_version_1(path: Path) -> None:
    """Turn a ledger into a version-1 file: no rollup table."""
    connection = duckdb.connect(str(path))
    connection.execute(f"DROP TABLE {ROLLUP}")
    connection.execute("UPDATE ledger_meta SET value = '1' WHERE key = 'schema_version'")
    connection.close()


def test_a_version_1_ledger_is_migrated_when_opened_for_writing(ledger_path: Path) -> None:
    result = make_result(("a", "b"), START + 12 * H, 24, 10, seed=3)
    with Ledger.open(ledger_path) as ledger:
        ledger.write(result, clusters=("a", "b"), start=START + 12 * H, end=START + 36 * H, run=RUN)
        written = stored(ledger, ROLLUP)
    downgrade_to_version_1(ledger_path)
    with pytest.raises(LedgerError, match=r"schema version 1.*open it for writing once"):
        Ledger.open(ledger_path, read_only=True)
    with Ledger.open(ledger_path) as ledger:
        assert ledger.fetch("SELECT value FROM ledger_meta WHERE key = 'schema_version'").item() == str(SCHEMA_VERSION)
        assert_frame_equal(stored(ledger, ROLLUP), written, rel_tol=1e-12)
    with Ledger.open(ledger_path, read_only=True) as ledger:
        assert_rollup_fresh(ledger)
