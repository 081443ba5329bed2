"""R4–R6: node assets, over-commit, idle (clamped at 0), GPUs, and a node joining mid-hour.

Prices (FixedPrices): CPU 1.0 $/core-h, RAM 0.5 $/GiB-h, GPU 10 $/GPU-h.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubetally.costs import CostResult
from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute, invariant_gap
from tests.engine.conftest import GIB, FixedPrices, at, history, node, one, select


def pods_on_n1(
    requests: list[dict[str, float]],
    node_fields: dict[str, Any],
    hours: int = 1,
    start: float = 0.0,
    prices: FixedPrices | None = None,
) -> CostResult:
    """One single-container pod per request dict, each running over the whole history on node n1."""
    pods = [{"pod": f"p{i}", "pod_uid": f"u{i}"} for i in range(len(requests))]
    containers = [{"pod_uid": f"u{i}", **request} for i, request in enumerate(requests)]
    intervals = [{"pod_uid": f"u{i}", "start": at(start), "end": at(60 * hours)} for i in range(len(requests))]
    h = history(
        hours,
        nodes=[node(end=60.0 * hours, **node_fields)],
        pods=pods,
        containers=containers,
        container_intervals=intervals,
    )
    return compute(h, prices or FixedPrices(), BillingPolicy())


def test_node_asset_costs_capacity_times_hours_times_price() -> None:
    result = pods_on_n1([], {"cpu_cores": 4.0, "ram_bytes": 16 * GIB, "gpu_count": 1.0})
    asset = one(result.assets, type="Node", name="n1")
    assert asset["minutes"] == pytest.approx(60.0)
    assert asset["cpu_cost"] == pytest.approx(4 * 1.0)
    assert asset["ram_cost"] == pytest.approx(16 * 0.5)
    assert asset["gpu_cost"] == pytest.approx(1 * 10.0)
    assert asset["total_cost"] == pytest.approx(4.0 + 8.0 + 10.0)
    idle = one(result.allocations, kind="idle", node="n1")
    assert idle["total_cost"] == pytest.approx(22.0)


def test_node_joining_mid_hour() -> None:
    h = history(
        2,
        nodes=[node(start=at(30), end=120.0)],
        pods=[{"pod": "p1", "pod_uid": "u1"}],
        containers=[{"pod_uid": "u1", "cpu_request_cores": 1.0, "ram_request_bytes": 2 * GIB}],
        container_intervals=[{"pod_uid": "u1", "start": at(30), "end": at(120)}],
    )
    result = compute(h, FixedPrices(), BillingPolicy())
    first = one(result.assets, type="Node", hour=at(0))
    # 30 minutes of a 4-core, 16 GiB node: 4 x 0.5 x 1.0 and 16 x 0.5 x 0.5
    assert first["minutes"] == pytest.approx(30.0)
    assert first["cpu_cost"] == pytest.approx(2.0)
    assert first["ram_cost"] == pytest.approx(4.0)
    assert one(result.assets, type="Node", hour=at(60))["cpu_cost"] == pytest.approx(4.0)
    idle = one(result.allocations, kind="idle", hour=at(0))
    # the container ran 30 minutes: 1 core x 0.5 h = 0.5; 2 GiB x 0.5 h x 0.5 = 0.5
    assert idle["cpu_cost"] == pytest.approx(2.0 - 0.5)
    assert idle["ram_cost"] == pytest.approx(4.0 - 0.5)
    assert idle["running_minutes"] == pytest.approx(30.0)


def test_over_commit_spreads_the_node_cost_pro_rata() -> None:
    result = pods_on_n1([{"cpu_request_cores": 1.5}, {"cpu_request_cores": 1.5}], {"cpu_cores": 2.0})
    for uid in ("u0", "u1"):
        row = one(result.allocations, kind="workload", pod_uid=uid)
        # A = 3 core-h > C = 2 core-h: adjustment = 1.5 x (2/3 - 1) = -0.5
        assert row["cpu_cost"] == pytest.approx(1.5)
        assert row["cpu_cost_adjustment"] == pytest.approx(-0.5)
        assert row["total_cost"] == pytest.approx(1.0)
        assert row["ram_cost_adjustment"] == 0.0
    idle = one(result.allocations, kind="idle")
    assert idle["cpu_cost"] == pytest.approx(0.0, abs=1e-12)
    assert idle["ram_cost"] == pytest.approx(16 * 0.5)


def test_within_capacity_there_is_no_adjustment() -> None:
    result = pods_on_n1([{"cpu_request_cores": 1.0}, {"cpu_request_cores": 2.0}], {"cpu_cores": 4.0})
    assert result.allocations.get_column("cpu_cost_adjustment").abs().max() == 0.0
    assert one(result.allocations, kind="idle")["cpu_cost"] == pytest.approx(4.0 - 3.0)


@pytest.mark.parametrize(
    ("cores", "requests", "price"),
    [(1.3, [0.7, 0.7, 0.7], 0.037), (0.3, [0.1, 0.1, 0.1, 0.1], 0.0313), (2.9, [1.1, 0.9, 1.3], 0.071)],
)
def test_idle_is_never_negative(cores: float, requests: list[float], price: float) -> None:
    result = pods_on_n1(
        [{"cpu_request_cores": r} for r in requests], {"cpu_cores": cores}, prices=FixedPrices(cpu=price)
    )
    idle = one(result.allocations, kind="idle")
    assert 0.0 <= idle["cpu_cost"] < 1e-12
    assert 0.0 <= idle["cpu_core_hours"] < 1e-12
    assert invariant_gap(result) < 1e-9


def test_shared_gpu_fractions() -> None:
    result = pods_on_n1([{"gpu_request": 0.5}, {"gpu_request": 0.25}], {"gpu_count": 1.0})
    assert one(result.allocations, pod_uid="u0")["gpu_hours"] == pytest.approx(0.5)
    assert one(result.allocations, pod_uid="u0")["gpu_cost"] == pytest.approx(0.5 * 10.0)
    assert one(result.allocations, pod_uid="u1")["gpu_cost"] == pytest.approx(0.25 * 10.0)
    assert one(result.allocations, kind="idle")["gpu_cost"] == pytest.approx(10.0 - 7.5)


def test_gpu_usage_above_request_is_billed() -> None:
    h = history(
        1,
        nodes=[node(gpu_count=1.0)],
        pods=[{"pod": "p1", "pod_uid": "u1"}],
        containers=[{"pod_uid": "u1", "gpu_request": 0.25}],
        container_intervals=[{"pod_uid": "u1", "start": at(0), "end": at(60)}],
        usage=[{"pod_uid": "u1", "hour": at(0), "gpu_usage_avg": 0.4}],
    )
    row = one(compute(h, FixedPrices(), BillingPolicy()).allocations, kind="workload")
    assert row["gpu_hours"] == pytest.approx(0.4)
    assert row["gpu_usage_average"] == pytest.approx(0.4)
    assert row["gpu_request_average"] == pytest.approx(0.25)


def test_container_on_a_node_absent_in_that_hour_is_charged_nothing() -> None:
    h = history(
        2,
        nodes=[node(end=60.0)],
        pods=[{"pod": "p1", "pod_uid": "u1"}],
        containers=[{"pod_uid": "u1", "cpu_request_cores": 1.0}],
        container_intervals=[{"pod_uid": "u1", "start": at(0), "end": at(120)}],
    )
    result = compute(h, FixedPrices(), BillingPolicy())
    late = one(result.allocations, kind="workload", hour=at(60))
    assert late["cpu_cost"] == pytest.approx(1.0)
    assert late["cpu_cost"] + late["cpu_cost_adjustment"] == pytest.approx(0.0)
    assert select(result.allocations, kind="idle", hour=at(60)).height == 0
    assert invariant_gap(result) < 1e-9
