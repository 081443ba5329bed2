"""The vectorised engine equals the simulator's plain per-container ground truth, row by row, to 1e-9.

The ground truth (kubetally.sources.simulator.truth) is computed from the scenario's own timeline with loops and
never calls the engine; the engine sees only the ClusterHistory. Agreement on every built-in scenario under every
billing policy is what makes the cost model's rules executable.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.engine import compute
from kubetally.sources.simulator import ground_truth, load_scenario, scenario_pricebook, simulate, to_history
from tests.integration.compare import ALLOCATION_KEY, ASSET_KEY, assert_same_rows

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

POLICIES = {
    "default": BillingPolicy(),
    "request": BillingPolicy(mode=BillingMode.REQUEST),
    "usage": BillingPolicy(mode=BillingMode.USAGE),
    "minimum-runtime-and-waiting": BillingPolicy(minimum_runtime_seconds=300.0, charge_reserved_waiting=True),
}

SCENARIOS = ["small", "demo", "large:nodes=6,pods=60,days=1"]


@pytest.mark.parametrize("scenario_name", SCENARIOS)
@pytest.mark.parametrize("policy_name", list(POLICIES))
def test_engine_equals_ground_truth(scenario_name: str, policy_name: str) -> None:
    scenario = load_scenario(scenario_name)
    simulation = simulate(scenario, seed=7, now=NOW)
    prices, policy = scenario_pricebook(scenario), POLICIES[policy_name]
    result = compute(to_history(simulation), prices, policy)
    truth = ground_truth(simulation, prices, policy)
    assert result.allocations.height > 0
    assert_same_rows(result.allocations, truth.allocations, ALLOCATION_KEY, "allocations")
    assert_same_rows(result.assets, truth.assets, ASSET_KEY, "assets")
