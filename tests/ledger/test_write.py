from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.costs import COST_SCHEMAS, CostResult
from kubetally.errors import InvalidParameter, LedgerError
from kubetally.ledger import Ledger, RunInfo
from tests.ledger.builders import START, make_result
from tests.ledger.conftest import assert_rollup_fresh, in_order, snapshot, stored

H = timedelta(hours=1)
RUN = RunInfo(source="test", warnings=("a series was missing",))


def write(ledger: Ledger, result: CostResult, clusters: tuple[str, ...], start: datetime, hours: int) -> int:
    return ledger.write(result, clusters=clusters, start=start, end=start + hours * H, run=RUN).generation


def hours_between(frame: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    return frame.filter((pl.col("hour") >= start) & (pl.col("hour") < end))


def test_written_rows_read_back_equal_with_the_cost_schemas(ledger_path: Path) -> None:
    result = make_result(("a", "b"), START, 3, 40, seed=1)
    with Ledger.open(ledger_path) as ledger:
        report = ledger.write(result, clusters=["b", "a"], start=START, end=START + 3 * H, run=RUN)
        assert report.clusters == ("a", "b")
        assert report.hours == 3
        assert report.rows_inserted["allocations"] == result.allocations.height
        for table in COST_SCHEMAS:
            assert_frame_equal(stored(ledger, table), in_order(getattr(result, table)))


def test_rows_are_stored_in_hour_then_cluster_order(ledger_path: Path) -> None:
    result = make_result(("b", "a"), START, 4, 30, seed=1)
    shuffled = replace(result, allocations=result.allocations.sample(fraction=1.0, shuffle=True, seed=7))
    with Ledger.open(ledger_path) as ledger:
        write(ledger, shuffled, ("a", "b"), START, 4)
        physical = ledger.fetch("SELECT hour, cluster FROM allocations ORDER BY rowid")
    assert physical.equals(physical.sort("hour", "cluster"))


def test_writing_the_same_result_twice_changes_nothing(ledger_path: Path, tmp_path: Path) -> None:
    result = make_result(("a", "b"), START, 6, 50, seed=1)
    with Ledger.open(ledger_path) as ledger:
        first = write(ledger, result, ("a", "b"), START, 6)
        once = snapshot(ledger)
        rollup_once = stored(ledger, "allocations_daily")
        second = write(ledger, result, ("a", "b"), START, 6)
        twice = snapshot(ledger)
        assert second == first + 1 == ledger.generation
        assert_frame_equal(stored(ledger, "allocations_daily"), rollup_once, rel_tol=1e-12)
        assert_rollup_fresh(ledger)
    for table in COST_SCHEMAS:
        assert_frame_equal(twice[table], once[table])
    with Ledger.open(tmp_path / "fresh.duckdb") as fresh:
        write(fresh, result, ("a", "b"), START, 6)
        for table in COST_SCHEMAS:
            assert_frame_equal(stored(fresh, table), once[table])


def test_writing_a_sub_range_replaces_only_those_hours(ledger_path: Path) -> None:
    old = make_result(("a",), START, 24, 20, seed=1)
    middle_start = START + 6 * H
    new = make_result(("a",), middle_start, 6, 35, seed=2)
    with Ledger.open(ledger_path) as ledger:
        first = write(ledger, old, ("a",), START, 24)
        second = write(ledger, new, ("a",), middle_start, 6)
        for table in ("allocations", "allocation_pvs", "allocation_lbs", "assets"):
            expected = pl.concat(
                [
                    hours_between(getattr(old, table), START, middle_start),
                    getattr(new, table),
                    hours_between(getattr(old, table), middle_start + 6 * H, START + 24 * H),
                ]
            )
            assert_frame_equal(stored(ledger, table), in_order(expected))
        coverage = ledger.coverage("a")
    generations = dict(zip(coverage.get_column("hour"), coverage.get_column("generation"), strict=True))
    assert len(generations) == 24
    assert all(generations[START + h * H] == (second if 6 <= h < 12 else first) for h in range(24)), generations


def test_an_empty_result_clears_the_hours_and_still_covers_them(ledger_path: Path) -> None:
    old = make_result(("a",), START, 4, 10, seed=1)
    empty = CostResult(**{table: pl.DataFrame(schema=schema) for table, schema in COST_SCHEMAS.items()})
    with Ledger.open(ledger_path) as ledger:
        write(ledger, old, ("a",), START, 4)
        report = ledger.write(empty, clusters=["a"], start=START + H, end=START + 3 * H, run=RUN)
        assert report.rows_deleted["allocations"] == 2 * 10
        assert report.rows_inserted["allocations"] == 0
        hours = ledger.fetch("SELECT DISTINCT hour FROM allocations ORDER BY hour").get_column("hour").to_list()
        assert hours == [START, START + 3 * H]
        assert ledger.coverage("a").height == 4
        assert ledger.bounds() == (START, START + 4 * H)


def test_two_clusters_are_replaced_independently(ledger_path: Path) -> None:
    a_old = make_result(("a",), START, 5, 12, seed=1)
    b_only = make_result(("b",), START, 5, 17, seed=2)
    a_new = make_result(("a",), START, 5, 9, seed=3)
    with Ledger.open(ledger_path) as ledger:
        write(ledger, a_old, ("a",), START, 5)
        write(ledger, b_only, ("b",), START, 5)
        b_before = stored(ledger, "allocations", "WHERE cluster = 'b'")
        write(ledger, a_new, ("a",), START, 5)
        assert_frame_equal(stored(ledger, "allocations", "WHERE cluster = 'b'"), b_before)
        assert_frame_equal(stored(ledger, "allocations", "WHERE cluster = 'a'"), in_order(a_new.allocations))
        assert ledger.clusters() == ("a", "b")
        assert ledger.runs().get_column("cluster").to_list() == ["a", "b", "a"]


def test_pods_are_upserted_by_cluster_and_uid(ledger_path: Path) -> None:
    first = make_result(("a",), START, 2, 10, seed=1)
    later = make_result(("a",), START + 2 * H, 2, 4, seed=2)
    with Ledger.open(ledger_path) as ledger:
        write(ledger, first, ("a",), START, 2)
        write(ledger, later, ("a",), START + 2 * H, 2)
        pods = stored(ledger, "pods")
    uids = later.pods.get_column("pod_uid").to_list()
    assert pods.height == 10
    assert_frame_equal(pods.filter(pl.col("pod_uid").is_in(uids)), in_order(later.pods))
    assert_frame_equal(
        pods.filter(~pl.col("pod_uid").is_in(uids)), in_order(first.pods.filter(~pl.col("pod_uid").is_in(uids)))
    )


def test_each_write_records_its_run(ledger_path: Path) -> None:
    times = iter([datetime(2026, 4, 1, 10, tzinfo=UTC), datetime(2026, 4, 1, 10, 0, 5, tzinfo=UTC)])
    result = make_result(("a", "b"), START, 2, 3, seed=1)
    with Ledger.open(ledger_path, clock=lambda: next(times)) as ledger:
        report = ledger.write(result, clusters=["a", "b"], start=START, end=START + 2 * H, run=RUN)
        runs = ledger.runs()
    assert runs.get_column("run_id").to_list() == [report.run_id] * 2
    assert runs.get_column("rows").to_list() == [6, 6]
    assert runs.row(0, named=True) | {"run_id": None} == {
        "run_id": None,
        "generation": 1,
        "cluster": "a",
        "start": START,
        "end": START + 2 * H,
        "source": "test",
        "started_at": datetime(2026, 4, 1, 10, tzinfo=UTC),
        "finished_at": datetime(2026, 4, 1, 10, 0, 5, tzinfo=UTC),
        "status": "ok",
        "hours_written": 2,
        "rows": 6,
        "warnings": '["a series was missing"]',
    }


def test_read_only_ledger_reads_but_refuses_writes(ledger_path: Path) -> None:
    result = make_result(("a",), START, 2, 3, seed=1)
    with Ledger.open(ledger_path) as ledger:
        write(ledger, result, ("a",), START, 2)
    with Ledger.open(ledger_path, read_only=True) as reader:
        assert reader.read_only
        assert reader.generation == 1
        assert_frame_equal(stored(reader, "allocations"), in_order(result.allocations))
        with pytest.raises(LedgerError, match="read-only"):
            write(reader, result, ("a",), START, 2)


@pytest.mark.parametrize(
    ("start", "end", "parameter", "message"),
    [
        (START.replace(tzinfo=None), START + H, "start", "no time zone"),
        (START, START + timedelta(minutes=30), "end", "not on a whole hour"),
        (START + H, START + H, "end", "must be after start"),
    ],
)
def test_bad_ranges_are_refused(
    ledger_path: Path, start: datetime, end: datetime, parameter: str, message: str
) -> None:
    result = make_result(("a",), START, 1, 1)
    with Ledger.open(ledger_path) as ledger, pytest.raises(InvalidParameter, match=message) as caught:
        ledger.write(result, clusters=["a"], start=start, end=end, run=RUN)
    assert caught.value.parameter == parameter


def test_rows_outside_the_written_range_are_refused(ledger_path: Path) -> None:
    result = make_result(("a", "b"), START, 3, 2)
    with Ledger.open(ledger_path) as ledger:
        with pytest.raises(InvalidParameter, match=r"allocations: 6 rows outside .*cluster='b'"):
            ledger.write(result, clusters=["a"], start=START, end=START + 3 * H, run=RUN)
        with pytest.raises(InvalidParameter, match="allocations: 8 rows outside"):
            ledger.write(result, clusters=["a", "b"], start=START, end=START + H, run=RUN)
        assert ledger.generation == 0
        assert stored(ledger, "allocations").is_empty()


def test_wrong_columns_are_refused_naming_them(ledger_path: Path) -> None:
    result = make_result(("a",), START, 1, 2)
    broken = replace(result, assets=result.assets.drop("zone").with_columns(colour=pl.lit("red")))
    retyped = replace(result, pods=result.pods.with_columns(labels=pl.lit("team=a")))
    with Ledger.open(ledger_path) as ledger:
        with pytest.raises(
            InvalidParameter, match=r"assets: missing columns \['zone'\], unexpected columns \['colour'\]"
        ):
            ledger.write(broken, clusters=["a"], start=START, end=START + H, run=RUN)
        with pytest.raises(InvalidParameter, match=r"pods: columns of the wrong type .*labels"):
            ledger.write(retyped, clusters=["a"], start=START, end=START + H, run=RUN)


def test_clusters_must_be_names(ledger_path: Path) -> None:
    result = make_result(("a",), START, 1, 1)
    with Ledger.open(ledger_path) as ledger:
        with pytest.raises(InvalidParameter, match="clusters: expected a sequence"):
            ledger.write(result, clusters="a", start=START, end=START + H, run=RUN)
        with pytest.raises(InvalidParameter, match="clusters: cluster names must be non-empty"):
            ledger.write(result, clusters=["a", ""], start=START, end=START + H, run=RUN)


def test_a_failing_write_is_rolled_back(ledger_path: Path) -> None:
    old = make_result(("a",), START, 2, 5, seed=1)
    new = make_result(("a",), START, 2, 8, seed=2)

    def fail(step: str) -> None:
        if step == "insert:pods":
            raise RuntimeError("interrupted")

    with Ledger.open(ledger_path) as ledger:
        write(ledger, old, ("a",), START, 2)
        before = snapshot(ledger)
    with Ledger.open(ledger_path, hook=fail) as ledger:
        with pytest.raises(RuntimeError, match="interrupted"):
            write(ledger, new, ("a",), START, 2)
        assert ledger.generation == 1
        after = snapshot(ledger)
    for table in COST_SCHEMAS:
        assert_frame_equal(after[table], before[table])
