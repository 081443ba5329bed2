"""R8: LoadBalancer assets (3.6 $/h) split among the running pods the service selects."""

from __future__ import annotations

import pytest

from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute, invariant_gap
from tests.engine.conftest import FixedPrices, at, history, node, one, select, total


def test_load_balancer_split_by_segments_and_unmounted() -> None:
    h = history(
        1,
        nodes=[node()],
        pods=[{"pod": "a", "pod_uid": "ua"}, {"pod": "b", "pod_uid": "ub"}],
        containers=[{"pod_uid": "ua"}, {"pod_uid": "ub"}],
        pod_intervals=[
            {"pod_uid": "ua", "start": at(0), "end": at(60)},
            {"pod_uid": "ub", "start": at(0), "end": at(30)},
        ],
        services=[
            {"service": "web", "start": at(0), "end": at(60)},
            {"service": "idle", "namespace": "other", "start": at(0), "end": at(60)},
            {"service": "internal", "service_type": "ClusterIP", "start": at(0), "end": at(60)},
        ],
        service_pods=[
            {"service": "web", "pod_uid": "ua"},
            {"service": "web", "pod_uid": "ub"},
            {"service": "internal", "pod_uid": "ua"},
        ],
    )
    result = compute(h, FixedPrices(), BillingPolicy())
    # [0, 30): a and b share 1.8 -> 0.9 each; [30, 60): a alone 1.8
    assert total(result.allocations, "load_balancer_cost", pod_uid="ua") == pytest.approx(0.9 + 1.8)
    assert total(result.allocations, "load_balancer_cost", pod_uid="ub") == pytest.approx(0.9)
    unmounted = one(result.allocations, kind="unmounted")
    assert unmounted["namespace"] == "other"
    assert unmounted["load_balancer_cost"] == pytest.approx(3.6)
    assert select(result.assets, type="LoadBalancer").height == 2
    assert one(result.assets, type="LoadBalancer", name="default/web")["total_cost"] == pytest.approx(3.6)
    detail = one(result.allocation_lbs, kind="workload", pod_uid="ub")
    assert detail["service"] == "web" and detail["ip"] == "10.0.0.1"
    assert detail["hours"] == pytest.approx(0.25)
    assert detail["load_balancer_cost"] == pytest.approx(0.9)
    assert sorted(one(result.pods, pod_uid="ua")["services"]) == ["internal", "web"]
    assert invariant_gap(result) < 1e-9
