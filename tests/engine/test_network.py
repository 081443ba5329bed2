"""R9: egress by class (zone 0.01, region 0.02, internet 0.12 $/GiB), split among the pod's containers."""

from __future__ import annotations

import pytest

from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute, invariant_gap
from kubetally.history import ClusterHistory
from tests.engine.conftest import GIB, FixedPrices, at, history, node, one

EGRESS = {
    "pod_uid": "u1",
    "hour": at(0),
    "zone_bytes": 1 * GIB,
    "region_bytes": 2 * GIB,
    "internet_bytes": 3 * GIB,
    "unclassified_bytes": 4 * GIB,
    "receive_bytes": 5 * GIB,
}


def network_history() -> ClusterHistory:
    return history(
        1,
        nodes=[node()],
        pods=[{"pod": "p1", "pod_uid": "u1"}],
        containers=[{"pod_uid": "u1", "container": "a"}, {"pod_uid": "u1", "container": "b"}],
        egress=[EGRESS],
    )


@pytest.mark.parametrize("unclassified", [0.0, 0.05])
def test_network_cost_by_class_split_over_containers(unclassified: float) -> None:
    result = compute(network_history(), FixedPrices(unclassified=unclassified), BillingPolicy())
    zone, region, internet = 1 * 0.01, 2 * 0.02, 3 * 0.12
    pod_cost = zone + region + internet + 4 * unclassified
    for name in ("a", "b"):
        row = one(result.allocations, kind="workload", container=name)
        assert row["network_cross_zone_cost"] == pytest.approx(zone / 2)
        assert row["network_cross_region_cost"] == pytest.approx(region / 2)
        assert row["network_internet_cost"] == pytest.approx(internet / 2)
        assert row["network_cost"] == pytest.approx(pod_cost / 2)
        assert row["network_transfer_bytes"] == pytest.approx((1 + 2 + 3 + 4) * GIB / 2)
        assert row["network_receive_bytes"] == pytest.approx(5 * GIB / 2)
        # the pod never ran: the row is network only
        assert row["running_minutes"] == 0.0
        assert row["total_cost"] == pytest.approx(pod_cost / 2)
    assert one(result.assets, type="Network")["total_cost"] == pytest.approx(pod_cost)
    assert invariant_gap(result) < 1e-9
