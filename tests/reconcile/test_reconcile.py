from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.domain.window import Window
from kubetally.errors import InvalidParameter
from kubetally.focus.reconcile import reconcile
from kubetally.ledger import Ledger
from kubetally.ledger.rollup import rollup_select_sql
from kubetally.ledger.schema import ROLLUP, SCHEMA_VERSION
from kubetally.query import AllocationQuery
from kubetally.query.cache import QueryCache
from kubetally.query.invariant import check_invariant
from tests.reconcile.conftest import BILLED_DISKS, DISK_MARKDOWN, NODE_MARKUP, demo_bill, focus_rows, hourly_prices

REL = 1e-9


def bounds(ledger: Ledger) -> tuple[datetime, datetime]:
    span = ledger.bounds()
    assert span is not None
    return span


def billed(ledger: Ledger) -> tuple[datetime, datetime]:
    ledger.upsert_cloud_costs(focus_rows(demo_bill(ledger)))
    return bounds(ledger)


def node_totals(ledger: Ledger) -> pl.DataFrame:
    """Per node: Σ asset total_cost, and Σ node resource cost charged to its workload and idle rows."""
    assets = ledger.fetch(
        "SELECT cluster, name AS node, sum(total_cost) AS asset FROM assets WHERE type = 'Node' GROUP BY ALL"
    )
    charged = " + ".join(f"{r}_cost + {r}_cost_adjustment + {r}_bill_adjustment" for r in ("cpu", "ram", "gpu"))
    rows = ledger.fetch(
        f"SELECT cluster, node, sum({charged}) AS rows FROM allocations "
        "WHERE kind IN ('workload', 'idle') AND node IS NOT NULL GROUP BY ALL"
    )
    return assets.join(rows, on=["cluster", "node"], how="left")


def contents(ledger: Ledger) -> dict[str, pl.DataFrame]:
    return {t: ledger.fetch(f"SELECT * FROM {t} ORDER BY ALL") for t in ("allocations", "assets", ROLLUP)}


def test_each_node_and_what_its_allocations_are_charged_for_it_cost_what_the_bill_says(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = billed(ledger)
        before = node_totals(ledger)
        report = reconcile(ledger, start, end)
        after = node_totals(ledger)
    expected = before.with_columns(bill=pl.col("asset") * NODE_MARKUP)
    joined = after.join(expected.select("cluster", "node", "bill"), on=["cluster", "node"])
    assert joined.height == before.height == 30
    for row in joined.iter_rows(named=True):
        assert row["asset"] == pytest.approx(row["bill"], rel=REL)
        assert row["rows"] == pytest.approx(row["bill"], rel=REL)
    nodes = report.assets.filter(pl.col("type") == "Node")
    assert nodes.height == 30
    assert nodes.get_column("difference_pct").to_list() == pytest.approx([7.0] * 30)
    assert report.unmatched.is_empty()


def test_billed_disks_move_to_their_bill_and_their_volume_rows_follow(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = billed(ledger)
        prices = hourly_prices(ledger).filter(pl.col("type") == "Disk")
        reconcile(ledger, start, end)
        disks = ledger.fetch(
            "SELECT name, sum(total_cost) AS cost, sum(adjustment) AS adjustment FROM assets "
            "WHERE type = 'Disk' GROUP BY ALL"
        )
        pv_adjustment = ledger.fetch("SELECT sum(pv_bill_adjustment) FROM allocations").item()
    listed = prices.group_by("name").agg(pl.col("price").sum())
    joined = disks.join(listed, on="name")
    saved = 0.0
    for row in joined.iter_rows(named=True):
        factor = DISK_MARKDOWN if row["name"] in BILLED_DISKS else 1.0
        assert row["cost"] == pytest.approx(row["price"] * factor, rel=REL)
        saved += row["price"] * (1 - factor)
    assert saved > 0
    assert pv_adjustment == pytest.approx(-saved, rel=REL)


def test_the_cluster_gains_the_difference_and_every_dollar_still_adds_up(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = billed(ledger)
        window = Window(start, end)
        old = check_invariant(ledger, window)
        report = reconcile(ledger, start, end)
        new = check_invariant(ledger, window)
        min_idle = ledger.fetch("SELECT min(total_cost) FROM allocations WHERE kind = 'idle'").item()
        assert_rollup_matches(ledger)
    assert new.holds
    assert new.assets == pytest.approx(old.assets + report.difference, rel=REL)
    assert new.allocations + new.idle == pytest.approx(old.allocations + old.idle + report.difference, rel=REL)
    assert report.difference > 0
    assert min_idle >= 0


def assert_rollup_matches(ledger: Ledger) -> None:
    stored = ledger.fetch(f"SELECT * FROM {ROLLUP} ORDER BY ALL")
    fresh = ledger.fetch(f"SELECT * FROM ({rollup_select_sql('true')}) ORDER BY ALL")
    assert_frame_equal(stored, fresh, rel_tol=1e-12, abs_tol=1e-9)


def test_reconciling_again_changes_nothing(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = billed(ledger)
        reconcile(ledger, start, end)
        first = contents(ledger)
        generation = ledger.generation
        again = reconcile(ledger, start, end)
        assert again.applied is not None
        assert (again.applied.allocations_changed, again.applied.assets_changed) == (0, 0)
        assert ledger.generation == generation
        for table, frame in contents(ledger).items():
            assert_frame_equal(frame, first[table], check_exact=True)


def test_a_bill_that_disappears_restores_the_estimates(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        original = contents(ledger)
        start, end = billed(ledger)
        reconcile(ledger, start, end)
    connection = duckdb.connect(str(ledger_path))
    connection.execute("DELETE FROM cloud_costs")
    connection.close()
    with Ledger.open(ledger_path) as ledger:
        report = reconcile(ledger, start, end)
        restored = contents(ledger)
        bills = ledger.fetch("SELECT count(*) FILTER (WHERE cpu_bill_adjustment <> 0) FROM allocations").item()
    assert report.assets.is_empty()
    assert bills == 0
    for table, frame in restored.items():
        assert_frame_equal(frame, original[table], rel_tol=1e-12, abs_tol=1e-12)


def test_the_allocation_api_shows_bill_adjustments_in_cost_adjustments(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = billed(ledger)
        query = AllocationQuery.from_params(
            {"window": f"{start.isoformat()},{end.isoformat()}", "aggregate": "namespace", "accumulate": "true"},
            end,
        )
        cache = QueryCache()
        before = cache.allocation(ledger, query)[0]
        report = reconcile(ledger, start, end)
        after = cache.allocation(ledger, query)[0]

    def total(data: dict[str, dict[str, float]], field: str) -> float:
        return sum(item[field] or 0.0 for item in data.values())

    assert total(after, "totalCost") == pytest.approx(total(before, "totalCost") + report.difference, abs=1e-3)
    adjustments = ("cpuCostAdjustment", "ramCostAdjustment", "gpuCostAdjustment", "pvCostAdjustment")
    workloads = {name: item for name, item in after.items() if name != "__idle__"}
    gained = sum(total(workloads, f) for f in adjustments) - sum(
        total({n: i for n, i in before.items() if n != "__idle__"}, f) for f in adjustments
    )
    idle_gain = after["__idle__"]["totalCost"] - before["__idle__"]["totalCost"]
    assert gained > 0
    rounding = 1e-5 * (len(after) + 1)
    assert gained + idle_gain == pytest.approx(report.difference, abs=rounding)
    assert total(after, "pvCostAdjustment") < 0
    for item in after.values():
        parts = sum(
            item[f] or 0.0
            for f in ("cpuCost", "ramCost", "gpuCost", "pvCost", "networkCost", "loadBalancerCost", "sharedCost")
        )
        assert item["totalCost"] == pytest.approx(parts + sum(item[f] or 0.0 for f in adjustments), abs=1e-4)


def test_the_basis_chooses_the_bill_column(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = billed(ledger)
        effective = reconcile(ledger, start, end, apply=False)
        invoiced = reconcile(ledger, start, end, basis="billed", apply=False)
        with pytest.raises(InvalidParameter, match="basis"):
            reconcile(ledger, start, end, basis="list", apply=False)  # type: ignore[arg-type]
    assert invoiced.bill == pytest.approx(2 * effective.bill, rel=REL)


def test_a_dry_run_writes_nothing(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = billed(ledger)
        before, generation = contents(ledger), ledger.generation
        report = reconcile(ledger, start, end, apply=False)
        assert report.applied is None and report.difference > 0
        assert ledger.generation == generation
        for table, frame in contents(ledger).items():
            assert_frame_equal(frame, before[table], check_exact=True)


def test_bill_rows_that_match_nothing_are_reported_and_not_applied(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = bounds(ledger)
        extra = pl.DataFrame(
            {
                "ResourceId": ["i-0unknown", "i-0unknown", "arn:aws:rds:us-east-1:1:db:orders"],
                "ServiceCategory": ["Compute", "Compute", "Databases"],
                "ChargePeriodStart": [start, start, start],
                "ChargePeriodEnd": [end, end, end],
                "EffectiveCost": [5.0, 2.5, 100.0],
                "SkuPriceId": ["a", "b", "c"],
            }
        )
        ledger.upsert_cloud_costs(focus_rows(extra))
        before = contents(ledger)
        report = reconcile(ledger, start, end)
        after = contents(ledger)
    assert report.unmatched.to_dicts() == [{"resource_id": "i-0unknown", "category": "Compute", "rows": 2, "cost": 7.5}]
    assert report.assets.is_empty()
    for table, frame in after.items():
        assert_frame_equal(frame, before[table], check_exact=True)


def test_a_window_inside_a_charge_period_reconciles_the_whole_period(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, _ = billed(ledger)
        day = start.replace(hour=0)
        report = reconcile(ledger, day.replace(hour=20), day.replace(hour=21))
    assert report.start == start.replace(hour=0)
    assert (report.end - report.start).days == 1
    assert report.assets.get_column("hours").max() == 24 - start.hour


def test_a_charge_period_of_several_days_is_spread_across_them_and_applied_day_by_day(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        start, end = bounds(ledger)
        prices = hourly_prices(ledger).filter(pl.col("type") == "Node")
        node = prices.get_column("provider_id").sort()[0]
        estimate = float(prices.filter(pl.col("provider_id") == node).get_column("price").sum())
        weekly = pl.DataFrame(
            {
                "ResourceId": [f"arn:aws:ec2:us-east-1:123456789012:instance/{node.rsplit('/', 1)[-1]}"],
                "ServiceCategory": ["Compute"],
                "ChargePeriodStart": [start],
                "ChargePeriodEnd": [end],
                "EffectiveCost": [estimate * 1.5],
                "BilledCost": [estimate * 1.5],
            }
        )
        ledger.upsert_cloud_costs(focus_rows(weekly))
        report = reconcile(ledger, start, end)
        days = ledger.fetch(
            "SELECT date_trunc('day', hour) AS day, sum(total_cost) AS cost, sum(adjustment) AS adjustment "
            "FROM assets WHERE provider_id = ? GROUP BY 1 ORDER BY 1",
            [node],
        )
        spread = ledger.fetch(
            "SELECT sum(cpu_bill_adjustment + ram_bill_adjustment + gpu_bill_adjustment) AS spread FROM allocations"
        ).item()
    assert report.applied is not None and report.applied.allocations_changed > 0
    assert days.height >= 7, "the week's days each got their share"
    assert days.get_column("cost").sum() == pytest.approx(estimate * 1.5, rel=REL)
    assert (days.get_column("adjustment") > 0).all()
    assert spread == pytest.approx(estimate * 0.5, rel=REL)


RUNNING_BOUNDS = ("running_start", "running_end")
"""Columns of version 5, which a version-2 ledger lacks too (migrated, its rows keep them null)."""
V2_COLUMNS = (*(f"{r}_bill_adjustment" for r in ("cpu", "ram", "gpu", "pv")), *RUNNING_BOUNDS)
V2_DROPPED = {"allocations": V2_COLUMNS, ROLLUP: V2_COLUMNS}


def downgrade_to_version_2(path: Path) -> None:
    """Turn a ledger into a version-2 file: no bill adjustment columns, no cloud_usage table."""
    connection = duckdb.connect(str(path))
    for table, columns in V2_DROPPED.items():
        for column in columns:
            connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    connection.execute("DROP TABLE IF EXISTS cloud_usage")
    connection.execute("UPDATE ledger_meta SET value = '2' WHERE key = 'schema_version'")
    connection.close()


def test_a_version_2_ledger_is_migrated_and_then_reconciles(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        original = contents(ledger)
    downgrade_to_version_2(ledger_path)
    with Ledger.open(ledger_path) as ledger:
        assert ledger.fetch("SELECT value FROM ledger_meta WHERE key = 'schema_version'").item() == str(SCHEMA_VERSION)
        for table, frame in contents(ledger).items():
            unchanged = [c for c in frame.columns if c not in RUNNING_BOUNDS]
            assert_frame_equal(frame.select(unchanged), original[table].select(unchanged), check_exact=True)
        assert ledger.fetch("SELECT count(*) FROM cloud_usage").item() == 0
        start, end = billed(ledger)
        report = reconcile(ledger, start, end)
        assert check_invariant(ledger, Window(start, end)).holds
    assert report.difference > 0
