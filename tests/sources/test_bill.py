"""The simulated cloud bill: one row per resource and day, priced at list prices, clipped to the window."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from kubetally.sources.simulator import Simulation, load_scenario, simulate, simulated_bill
from kubetally.sources.simulator.bill import ON_DEMAND_HOURLY

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(load_scenario("demo"), seed=3, start=None, hours=None, now=NOW)


@pytest.fixture(scope="module")
def bill(sim: Simulation) -> pl.DataFrame:
    frame = simulated_bill(sim)
    numbers = ["BilledCost", "EffectiveCost", "ListCost", "ConsumedQuantity"]
    return frame.with_columns(pl.col(numbers).cast(pl.Float64))


def test_every_node_is_billed_for_exactly_its_hours_in_the_window(sim: Simulation, bill: pl.DataFrame) -> None:
    instances = bill.filter(pl.col("ResourceType") == "Instance")
    for node in sim.nodes:
        instance = node.provider_id.rsplit("/", 1)[-1]
        rows = instances.filter(pl.col("ResourceId").str.ends_with(f"/{instance}"))
        expected_hours = sum(end - start for start, end in node.spans) / 3600.0
        assert rows.get_column("ConsumedQuantity").sum() == pytest.approx(expected_hours), node.name
        list_price = ON_DEMAND_HOURLY[(sim.regions[node.cluster], node.instance_type)]
        assert rows.get_column("ListCost").sum() == pytest.approx(expected_hours * list_price)
        share = rows.get_column("BilledCost").sum() / rows.get_column("ListCost").sum()
        if node.capacity_type == "spot":
            assert 0.30 <= share <= 0.42, node.name
        else:
            assert share == pytest.approx(1.0), node.name


def test_volumes_are_billed_per_gb_month(sim: Simulation, bill: pl.DataFrame) -> None:
    volume = max(sim.volumes, key=lambda v: v.capacity_bytes)
    rows = bill.filter(pl.col("ResourceId").str.ends_with(f"/{volume.provider_id}"))
    hours = (volume.span[1] - volume.span[0]) / 3600.0
    gib = volume.capacity_bytes / 1024**3
    price = {"gp3": 0.08, "io2": 0.125}[volume.storage_class]
    assert rows.get_column("BilledCost").sum() == pytest.approx(hours * gib * price / 730.0)


def test_charge_periods_are_whole_utc_days_inside_a_billing_month(bill: pl.DataFrame) -> None:
    times = bill.select(
        pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
        for c in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd")
    )
    assert (times["ChargePeriodEnd"] - times["ChargePeriodStart"]).dt.total_hours().unique().to_list() == [24]
    assert (times["ChargePeriodStart"].dt.hour() == 0).all()
    assert (times["BillingPeriodStart"] <= times["ChargePeriodStart"]).all()
    assert (times["ChargePeriodEnd"] <= times["BillingPeriodEnd"]).all()


def test_the_bill_holds_services_outside_kubernetes_and_is_reproducible(sim: Simulation, bill: pl.DataFrame) -> None:
    services = set(bill.get_column("ServiceName"))
    assert {"Amazon Relational Database Service", "Amazon Simple Storage Service"} <= services
    assert simulated_bill(sim).equals(simulated_bill(sim))
    keys = ["ResourceId", "ResourceName", "ChargePeriodStart", "ChargePeriodEnd", "SkuPriceId"]
    assert bill.select(keys).is_duplicated().sum() == 0
