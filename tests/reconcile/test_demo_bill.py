"""``kubetally demo`` with its simulated cloud bill: the bill goes through the FOCUS reader into the ledger and
every billed node and disk ends up costing what the bill says, with every dollar still adding up."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from kubetally.ledger import Ledger
from kubetally.query.focus_export import FocusQuery, focus_frame
from tests.runner import demo_ledger_at


@pytest.fixture(scope="module")
def billed_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_ledger_at(tmp_path_factory.mktemp("billed") / "demo.duckdb", bill=True)


def test_the_bill_is_in_the_ledger_with_resources_outside_kubernetes(billed_demo: Path) -> None:
    with Ledger.open(billed_demo, read_only=True) as ledger:
        bill = ledger.fetch('SELECT source, "ServiceName", "ResourceId", "EffectiveCost" FROM cloud_costs')
    assert set(bill.get_column("source")) == {"simulated-bill.csv"}
    services = set(bill.get_column("ServiceName"))
    assert {
        "Amazon Elastic Compute Cloud",
        "Amazon Elastic Block Store",
        "Amazon Relational Database Service",
    } <= services


def test_every_billed_node_and_disk_costs_its_bill(billed_demo: Path) -> None:
    with Ledger.open(billed_demo, read_only=True) as ledger:
        assets = ledger.fetch(
            "SELECT type, provider_id, sum(total_cost) AS cost, sum(adjustment) AS adjustment FROM assets "
            "WHERE type IN ('Node', 'Disk') GROUP BY type, provider_id"
        )
        bill = ledger.fetch('SELECT "ResourceId", "ServiceCategory", "EffectiveCost" FROM cloud_costs')
    billed = (
        bill.filter(pl.col("ServiceCategory").is_in(["Compute", "Storage"]))
        .group_by(key=pl.col("ResourceId").str.split("/").list.last())
        .agg(pl.col("EffectiveCost").sum().alias("bill"))
    )
    compared = assets.with_columns(key=pl.col("provider_id").str.split("/").list.last()).join(billed, on="key")
    assert compared.height == assets.height, "every node and disk of the demo is in its bill"
    for row in compared.iter_rows(named=True):
        assert row["cost"] == pytest.approx(row["bill"], rel=1e-9), row["provider_id"]
    assert (compared.get_column("adjustment").abs() > 1e-9).any()


def test_allocations_carry_the_bill_and_every_dollar_still_adds_up(billed_demo: Path) -> None:
    with Ledger.open(billed_demo, read_only=True) as ledger:
        totals = ledger.fetch(
            "SELECT (SELECT sum(total_cost) FROM assets) AS assets, "
            "(SELECT sum(total_cost) FROM allocations) AS allocations, "
            "(SELECT sum(total_cost) FROM assets WHERE type = 'ClusterManagement') AS overhead, "
            "(SELECT sum(cpu_bill_adjustment + ram_bill_adjustment + gpu_bill_adjustment + pv_bill_adjustment) "
            " FROM allocations) AS spread, (SELECT sum(adjustment) FROM assets) AS adjusted, "
            "(SELECT min(total_cost) FROM allocations WHERE kind = 'idle') AS least_idle"
        ).row(0, named=True)
    assert totals["assets"] == pytest.approx(totals["allocations"] + totals["overhead"], rel=1e-12)
    assert totals["spread"] == pytest.approx(totals["adjusted"], rel=1e-9)
    assert totals["least_idle"] >= 0.0


def test_the_focus_export_of_the_reconciled_demo_adds_up_to_the_bill_adjusted_total(billed_demo: Path) -> None:
    with Ledger.open(billed_demo, read_only=True) as ledger:
        start, end = ledger.bounds() or pytest.fail("the demo ledger has no hours")
        window = f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"
        rows = focus_frame(ledger, FocusQuery.from_params({"window": window}, end), "USD")
        total = ledger.fetch("SELECT sum(total_cost) AS total FROM assets").item()
    costs = rows.get_column("EffectiveCost").cast(pl.Float64)
    assert costs.sum() == pytest.approx(total, rel=1e-12)
    assert (costs.abs() > 1e-12).all(), "no row of floating-point residue"
