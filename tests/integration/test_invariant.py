"""Every dollar adds up: Σ allocations (incl. __unmounted__) + Σ idle + Σ overhead = Σ assets, idle ≥ 0.

Checked on the ``demo`` scenario end to end (simulate → ingest → ledger → SQL), and as a property on random
scenarios under random billing policies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubetally.costs import CostResult
from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.domain.window import Window
from kubetally.engine import compute
from kubetally.ingest import ingest
from kubetally.ledger import Ledger
from kubetally.query.invariant import check_invariant
from kubetally.sources import StaticSource
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def sums(result: CostResult) -> tuple[float, float, float, float]:
    """(assets, allocations incl. unmounted, idle, overhead) of a CostResult, summed in Python floats."""
    allocations = result.allocations
    assets = result.assets
    return (
        float(assets.get_column("total_cost").sum()),
        float(allocations.filter(pl.col("kind") != "idle").get_column("total_cost").sum()),
        float(allocations.filter(pl.col("kind") == "idle").get_column("total_cost").sum()),
        float(assets.filter(pl.col("type") == "ClusterManagement").get_column("total_cost").sum()),
    )


def assert_adds_up(result: CostResult) -> None:
    assets, allocations, idle, overhead = sums(result)
    assert assets > 0
    assert abs(allocations + idle + overhead - assets) / assets < 1e-9
    idle_rows = result.allocations.filter(pl.col("kind") == "idle")
    for column in ("cpu_cost", "ram_cost", "gpu_cost", "total_cost"):
        assert idle_rows.get_column(column).min() is None or idle_rows.get_column(column).min() >= 0.0  # type: ignore[operator]


def test_demo_adds_up_through_the_ledger(tmp_path: Path) -> None:
    scenario = load_scenario("demo")
    history = to_history(simulate(scenario, seed=3, now=NOW))
    with Ledger.open(tmp_path / "demo.duckdb") as ledger:
        ingest(
            StaticSource(name="demo", history=history),
            ledger,
            prices=scenario_pricebook(scenario),
            policy=BillingPolicy(),
            start=history.start,
            end=history.end,
        )
    with Ledger.open(tmp_path / "demo.duckdb", read_only=True) as ledger:
        report = check_invariant(ledger, Window(history.start, history.end))
    assert report.holds
    assert report.assets > 0
    assert report.idle >= 0
    assert abs(report.allocations + report.idle + report.overhead - report.assets) / report.assets < 1e-9


policies = st.builds(
    BillingPolicy,
    mode=st.sampled_from(list(BillingMode)),
    minimum_runtime_seconds=st.sampled_from([0.0, 60.0, 300.0]),
    charge_reserved_waiting=st.booleans(),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nodes=st.integers(min_value=1, max_value=6),
    pods=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    policy=policies,
)
def test_random_scenarios_add_up(nodes: int, pods: int, seed: int, policy: BillingPolicy) -> None:
    scenario = load_scenario(f"large:nodes={nodes},pods={pods},days=1")
    result = compute(to_history(simulate(scenario, seed=seed, now=NOW)), scenario_pricebook(scenario), policy)
    assert_adds_up(result)


def test_builtin_scenarios_add_up_under_every_policy() -> None:
    for name in ("small", "demo"):
        scenario = load_scenario(name)
        history = to_history(simulate(scenario, seed=11, now=NOW))
        for mode in BillingMode:
            assert_adds_up(compute(history, scenario_pricebook(scenario), BillingPolicy(mode=mode)))
