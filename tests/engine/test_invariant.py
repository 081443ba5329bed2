"""Property: on random small histories every asset dollar is allocated or overhead, and idle is never negative."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.engine import compute, invariant_gap
from kubetally.history import ClusterHistory
from tests.engine.conftest import GIB, FixedPrices, at, history

HOURS = 3
MINUTES = 60 * HOURS


@st.composite
def spans(draw: st.DrawFn, most: int = 3) -> list[tuple[float, float]]:
    """Up to ``most`` disjoint [start, end) minute ranges inside the history."""
    cuts = sorted(set(draw(st.lists(st.integers(0, MINUTES * 4), min_size=2, max_size=2 * most))))
    pairs = [(cuts[i] / 4, cuts[i + 1] / 4) for i in range(0, len(cuts) - 1, 2)]
    return [(s, e) for s, e in pairs if s < e]


@st.composite
def histories(draw: st.DrawFn) -> ClusterHistory:
    nodes = [
        {
            "node": name,
            "start": at(s),
            "end": at(e),
            "cpu_cores": draw(st.sampled_from([0.5, 1.0, 2.0, 4.0])),
            "ram_bytes": draw(st.sampled_from([1.0, 2.0, 8.0])) * GIB,
            "gpu_count": draw(st.sampled_from([0.0, 1.0])),
        }
        for name in [f"n{i}" for i in range(draw(st.integers(1, 3)))]
        for s, e in draw(spans(2))
    ]
    # A pod is placed on a node the history knows (ClusterHistory's contract): a drawn node may have no span.
    node_names = sorted({row["node"] for row in nodes})
    pods: list[dict[str, Any]] = []
    containers: list[dict[str, Any]] = []
    intervals: list[dict[str, Any]] = []
    pod_intervals: list[dict[str, Any]] = []
    usage: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    service_pods: list[dict[str, Any]] = []
    egress: list[dict[str, Any]] = []
    for p in range(draw(st.integers(0, 5)) if node_names else 0):
        uid, namespace = f"u{p}", draw(st.sampled_from(["a", "b"]))
        pods.append({"pod": f"p{p}", "pod_uid": uid, "namespace": namespace, "node": draw(st.sampled_from(node_names))})
        running = draw(spans())
        pod_intervals += [{"pod_uid": uid, "start": at(s), "end": at(e)} for s, e in running]
        for c in range(draw(st.integers(0, 2))):
            name = f"c{c}"
            containers.append(
                {
                    "pod_uid": uid,
                    "container": name,
                    "cpu_request_cores": draw(st.sampled_from([0.0, 0.1, 0.5, 1.5])),
                    "ram_request_bytes": draw(st.sampled_from([0.0, 0.5, 3.0])) * GIB,
                    "gpu_request": draw(st.sampled_from([0.0, 0.25, 1.0])),
                }
            )
            for s, e in running:
                waiting = draw(st.booleans())
                intervals.append(
                    {
                        "pod_uid": uid,
                        "container": name,
                        "state": "waiting" if waiting else "running",
                        "start": at(s),
                        "end": at(e),
                    }
                )
            for hour in range(HOURS):
                if draw(st.booleans()):
                    usage.append(
                        {
                            "pod_uid": uid,
                            "container": name,
                            "hour": at(60 * hour),
                            "cpu_core_seconds": draw(st.floats(0, 7200)),
                            "ram_bytes_avg": draw(st.floats(0, 4 * GIB)),
                            "gpu_usage_avg": draw(st.floats(0, 1)),
                        }
                    )
        if draw(st.booleans()):
            mounts.append({"pod_uid": uid, "namespace": namespace, "claim": draw(st.sampled_from(["x", "y"]))})
        if draw(st.booleans()):
            service_pods.append({"pod_uid": uid, "namespace": namespace, "service": "lb"})
        if draw(st.booleans()):
            egress.append(
                {
                    "pod_uid": uid,
                    "hour": at(60 * draw(st.integers(0, HOURS - 1))),
                    "zone_bytes": draw(st.floats(0, GIB)),
                    "internet_bytes": draw(st.floats(0, GIB)),
                }
            )
    volumes = [
        {
            "pv": f"pv{v}",
            "capacity_bytes": draw(st.sampled_from([1.0, 5.0])) * GIB,
            "claim_namespace": draw(st.sampled_from([None, "a", "b"])),
            "claim": draw(st.sampled_from([None, "x", "y"])),
            "start": at(s),
            "end": at(e),
        }
        for v in range(draw(st.integers(0, 2)))
        for s, e in draw(spans(1))
    ]
    services = [
        {"service": "lb", "namespace": ns, "start": at(s), "end": at(e)}
        for ns in draw(st.lists(st.sampled_from(["a", "b"]), unique=True))
        for s, e in draw(spans(1))
    ]
    return history(
        HOURS,
        nodes=nodes,
        pods=pods,
        pod_intervals=pod_intervals,
        containers=containers,
        container_intervals=intervals,
        usage=usage,
        volumes=volumes,
        mounts=mounts,
        services=services,
        service_pods=service_pods,
        egress=egress,
    )


policies = st.builds(
    BillingPolicy,
    st.sampled_from(list(BillingMode)),
    st.sampled_from([0.0, 300.0, 3600.0]),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), policies, st.sampled_from([0.0, 0.2]))
def test_every_dollar_adds_up(h: ClusterHistory, policy: BillingPolicy, management: float) -> None:
    result = compute(h, FixedPrices(management=management, unclassified=0.03), policy)
    assert invariant_gap(result) < 1e-9
    idle = result.allocations.filter(pl.col("kind") == "idle")
    assert (idle.select(pl.min_horizontal("cpu_cost", "ram_cost", "gpu_cost")).to_series() >= 0).all()
    charged = result.allocations.select(pl.col("total_cost").is_finite().all()).item()
    assert charged
    # no node is charged more than it costs
    on_nodes = (
        result.allocations.filter(pl.col("kind") != "unmounted")
        .group_by("node", "hour")
        .agg((pl.col("cpu_cost") + pl.col("cpu_cost_adjustment")).sum().alias("charged"))
    )
    node_costs = result.assets.filter(pl.col("type") == "Node").select(pl.col("name").alias("node"), "hour", "cpu_cost")
    joined = on_nodes.join(node_costs, on=["node", "hour"], how="left").with_columns(pl.col("cpu_cost").fill_null(0.0))
    assert (joined.get_column("charged") <= joined.get_column("cpu_cost") * (1 + 1e-9) + 1e-12).all()
