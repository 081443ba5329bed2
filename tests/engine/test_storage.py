"""R7: Disk assets and their split among the pods mounting the claim.

The volume is 10 GiB at 0.1 $/GiB-h, so it costs 1.0 $ per hour of existence.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubetally.costs import CostResult
from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute, invariant_gap
from tests.engine.conftest import GIB, FixedPrices, at, history, node, one, select, total

CLAIMED = {"pv": "pv1", "capacity_bytes": 10 * GIB, "claim_namespace": "data", "claim": "db"}


def storage_history(
    runs: dict[str, list[tuple[float, float]]],
    volume: dict[str, Any] | None = None,
    hours: int = 1,
    containers: int = 1,
    mounted: bool = True,
) -> CostResult:
    """Pods ``uid`` running over the given minute ranges, mounting claim data/db when ``mounted``."""
    pods = [{"pod": uid, "pod_uid": uid, "namespace": "data"} for uid in runs]
    spec = [{"pod_uid": uid, "container": f"c{i}"} for uid in runs for i in range(containers)]
    pod_intervals = [{"pod_uid": uid, "start": at(s), "end": at(e)} for uid, spans in runs.items() for s, e in spans]
    h = history(
        hours,
        nodes=[node(end=60.0 * hours)],
        pods=pods,
        containers=spec,
        pod_intervals=pod_intervals,
        volumes=[{"start": at(0), "end": at(60 * hours), **(volume or CLAIMED)}],
        mounts=[{"pod_uid": uid, "namespace": "data", "claim": "db"} for uid in runs] if mounted else [],
    )
    result = compute(h, FixedPrices(), BillingPolicy())
    assert invariant_gap(result) < 1e-9
    return result


def pv_cost(result: CostResult, uid: str) -> float:
    return total(result.allocations, "pv_cost", kind="workload", pod_uid=uid)


def test_disk_asset() -> None:
    asset = one(storage_history({}).assets, type="Disk", name="pv1")
    assert asset["total_cost"] == pytest.approx(10 * 0.1)
    assert asset["byte_hours"] == pytest.approx(10 * GIB)
    assert asset["claim"] == "db" and asset["claim_namespace"] == "data"


def test_one_pod_for_the_whole_hour_pays_all() -> None:
    result = storage_history({"u1": [(0, 60)]})
    row = one(result.allocations, kind="workload", pod_uid="u1")
    assert row["pv_cost"] == pytest.approx(1.0)
    assert row["pv_byte_hours"] == pytest.approx(10 * GIB)
    assert row["total_cost"] == pytest.approx(1.0)
    assert select(result.allocations, kind="unmounted").height == 0
    detail = one(result.allocation_pvs, kind="workload", pod_uid="u1")
    assert detail["pv"] == "pv1" and detail["container"] == "c0" and detail["pv_cost"] == pytest.approx(1.0)


def test_two_pods_split_evenly() -> None:
    result = storage_history({"u1": [(0, 60)], "u2": [(0, 60)]})
    assert pv_cost(result, "u1") == pytest.approx(0.5)
    assert pv_cost(result, "u2") == pytest.approx(0.5)


def test_overlapping_pods_split_each_segment() -> None:
    result = storage_history({"u1": [(0, 60)], "u2": [(30, 60)]})
    # [0, 30): u1 alone -> 0.5; [30, 60): both -> 0.25 each
    assert pv_cost(result, "u1") == pytest.approx(0.5 + 0.25)
    assert pv_cost(result, "u2") == pytest.approx(0.25)


def test_pod_mounting_for_half_the_volume_life_pays_half() -> None:
    result = storage_history({"u1": [(0, 60)]}, hours=2)
    # the volume lives 2 h (2.0 $); the pod runs the first hour only
    assert pv_cost(result, "u1") == pytest.approx(1.0)
    unmounted = one(result.allocations, kind="unmounted", hour=at(60))
    assert unmounted["pv_cost"] == pytest.approx(1.0)
    assert unmounted["namespace"] == "data"
    assert unmounted["pod"] == "__unmounted__"


def test_pod_running_half_an_hour_leaves_the_rest_unmounted() -> None:
    result = storage_history({"u1": [(0, 20), (40, 50)]})
    # running 20 + 10 = 30 of 60 minutes
    assert pv_cost(result, "u1") == pytest.approx(0.5)
    assert one(result.allocations, kind="unmounted")["pv_cost"] == pytest.approx(0.5)
    assert one(result.allocation_pvs, kind="unmounted")["pv_byte_hours"] == pytest.approx(10 * GIB * 0.5)


def test_claim_never_mounted_goes_to_the_claim_namespace() -> None:
    result = storage_history({"u1": [(0, 60)]}, mounted=False)
    row = one(result.allocations, kind="unmounted")
    assert row["namespace"] == "data"
    assert row["pv_cost"] == pytest.approx(1.0)
    assert row["price_source"] == "default"
    assert total(result.allocations, "pv_cost", kind="workload") == 0.0


def test_unclaimed_volume_goes_to_the_cluster_unmounted_row() -> None:
    volume = {"pv": "pv9", "capacity_bytes": 10 * GIB, "claim_namespace": None, "claim": None}
    result = storage_history({"u1": [(0, 60)]}, volume=volume)
    row = one(result.allocations, kind="unmounted")
    assert row["namespace"] is None
    assert row["pv_cost"] == pytest.approx(1.0)


def test_pod_share_is_split_among_its_containers() -> None:
    result = storage_history({"u1": [(0, 60)]}, containers=2)
    for name in ("c0", "c1"):
        row = one(result.allocations, kind="workload", container=name)
        assert row["pv_cost"] == pytest.approx(0.5)


def test_volume_existing_part_of_the_hour() -> None:
    volume = {**CLAIMED}
    h = history(
        1,
        nodes=[node()],
        pods=[{"pod": "u1", "pod_uid": "u1", "namespace": "data"}],
        containers=[{"pod_uid": "u1", "container": "c0"}],
        pod_intervals=[{"pod_uid": "u1", "start": at(0), "end": at(60)}],
        volumes=[{"start": at(15), "end": at(45), **volume}],
        mounts=[{"pod_uid": "u1", "namespace": "data", "claim": "db"}],
    )
    result = compute(h, FixedPrices(), BillingPolicy())
    assert one(result.assets, type="Disk")["minutes"] == pytest.approx(30.0)
    assert pv_cost(result, "u1") == pytest.approx(0.5)
