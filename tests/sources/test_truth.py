"""The ground truth on ``demo``: schemas, the invariant, idle never negative, and policies."""

from __future__ import annotations

import polars as pl
import pytest

from kubetally.costs import ALLOCATIONS, ASSETS
from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.sources.simulator import Simulation, ground_truth, load_scenario, scenario_pricebook


@pytest.fixture(scope="module")
def prices():  # type: ignore[no-untyped-def]
    return scenario_pricebook(load_scenario("demo"))


def test_demo_truth_adds_up(demo: Simulation, prices) -> None:  # type: ignore[no-untyped-def]
    truth = ground_truth(demo, prices, BillingPolicy())
    assert truth.allocations.schema == ALLOCATIONS and truth.assets.schema == ASSETS
    assert set(truth.assets.get_column("type")) == {"Node", "Disk", "LoadBalancer", "ClusterManagement", "Network"}
    by_hour = truth.assets.group_by("cluster", "hour").agg(pl.col("total_cost").sum().alias("assets"))
    overhead = (
        truth.assets.filter(pl.col("type") == "ClusterManagement")
        .group_by("cluster", "hour")
        .agg(pl.col("total_cost").sum().alias("overhead"))
    )
    allocated = truth.allocations.group_by("cluster", "hour").agg(pl.col("total_cost").sum().alias("allocated"))
    joined = by_hour.join(overhead, on=["cluster", "hour"]).join(allocated, on=["cluster", "hour"])
    error = (joined["allocated"] + joined["overhead"] - joined["assets"]).abs() / joined["assets"]
    assert float(error.max()) < 1e-9  # type: ignore[arg-type]
    idle = truth.allocations.filter(pl.col("kind") == "idle")
    assert idle.select(pl.col("cpu_cost", "ram_cost", "gpu_cost").min()).row(0) >= (0.0, 0.0, 0.0)
    assert truth.allocations.filter(pl.col("cpu_cost_adjustment") < 0).height > 0


def test_minimum_runtime_bills_short_jobs_five_minutes(demo: Simulation, prices) -> None:  # type: ignore[no-untyped-def]
    policy = BillingPolicy(BillingMode.REQUEST, minimum_runtime_seconds=300)
    truth = ground_truth(demo, prices, policy).allocations
    ping = truth.filter(pl.col("container") == "ping")
    assert ping.height > 0 and (ping["running_minutes"] == 5.0).all()
    default = ground_truth(demo, prices, BillingPolicy()).allocations.filter(pl.col("container") == "ping")
    assert ((default["running_minutes"] - 40 / 60).abs() < 1e-12).all()


def test_waiting_is_charged_only_when_asked(demo: Simulation, prices) -> None:  # type: ignore[no-untyped-def]
    canary = pl.col("pod").str.starts_with("search-canary")
    assert ground_truth(demo, prices, BillingPolicy()).allocations.filter(canary & (pl.col("cpu_cost") > 0)).is_empty()
    charged = ground_truth(demo, prices, BillingPolicy(charge_reserved_waiting=True)).allocations.filter(canary)
    assert charged.height == 8 and ((charged["cpu_core_hours"] - 0.5).abs() < 1e-12).all()
