"""R11: row kinds, price sources, the pod dimension table, output schemas and bad input."""

from __future__ import annotations

import polars as pl
import pytest

from kubetally.costs import COST_SCHEMAS
from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute
from kubetally.history import ClusterHistory
from tests.engine.conftest import GIB, FixedPrices, at, history, node, one


def small_history() -> ClusterHistory:
    return history(
        1,
        nodes=[node(provider_id="i-123")],
        namespaces=[{"namespace": "default", "labels": [{"key": "team", "value": "red"}]}],
        pods=[
            {
                "pod": "p1",
                "pod_uid": "u1",
                "controller_kind": "Deployment",
                "controller": "web",
                "labels": [{"key": "app", "value": "web"}],
                "annotations": [{"key": "note", "value": "x"}],
            },
            {"pod": "pending", "pod_uid": "u2", "node": None},
        ],
        containers=[{"pod_uid": "u1", "cpu_request_cores": 1.0}, {"pod_uid": "u2", "cpu_request_cores": 1.0}],
        container_intervals=[{"pod_uid": "u1", "start": at(0), "end": at(60)}],
        volumes=[{"pv": "pv1", "capacity_bytes": GIB, "start": at(0), "end": at(60)}],
    )


def test_output_frames_have_the_cost_schemas() -> None:
    result = compute(small_history(), FixedPrices(), BillingPolicy())
    for name, schema in COST_SCHEMAS.items():
        assert getattr(result, name).schema == schema, name


def test_row_kinds_and_price_sources() -> None:
    result = compute(small_history(), FixedPrices(source="prometheus"), BillingPolicy())
    kinds = result.allocations.group_by("kind").len().sort("kind").rows()
    # one workload row (the pending pod is never charged), one unmounted (pv1), one idle
    assert kinds == [("idle", 1), ("unmounted", 1), ("workload", 1)]
    assert one(result.allocations, kind="workload")["price_source"] == "prometheus"
    assert one(result.allocations, kind="idle")["price_source"] == "prometheus"
    assert one(result.allocations, kind="unmounted")["price_source"] == "default"
    assert one(result.assets, type="Node")["price_source"] == "prometheus"


def test_total_cost_is_the_sum_of_its_parts() -> None:
    result = compute(small_history(), FixedPrices(), BillingPolicy())
    parts = [
        "cpu_cost",
        "cpu_cost_adjustment",
        "ram_cost",
        "ram_cost_adjustment",
        "gpu_cost",
        "gpu_cost_adjustment",
        "pv_cost",
        "network_cost",
        "load_balancer_cost",
    ]
    recomputed = result.allocations.select(pl.sum_horizontal(parts)).to_series()
    assert ((recomputed - result.allocations.get_column("total_cost")).abs() < 1e-12).all()


def test_pod_dimensions() -> None:
    result = compute(small_history(), FixedPrices(), BillingPolicy())
    assert result.pods.height == 2
    row = one(result.pods, pod_uid="u1")
    assert row["provider_id"] == "i-123"
    assert row["controller_kind"] == "Deployment" and row["controller"] == "web"
    assert row["labels"] == [{"key": "app", "value": "web"}]
    assert row["annotations"] == [{"key": "note", "value": "x"}]
    assert row["namespace_labels"] == [{"key": "team", "value": "red"}]
    assert row["services"] == []
    assert one(result.pods, pod_uid="u2")["node"] is None


def test_a_container_on_a_node_absent_from_the_history_keeps_its_time_and_costs_nothing() -> None:
    """A node deleted before its pods (or never reported) has no cost to divide: as on a node absent in a bucket."""
    h = history(
        1,
        nodes=[node()],
        pods=[{"pod": "p1", "pod_uid": "u1", "node": "ghost"}, {"pod": "p2", "pod_uid": "u2"}],
        containers=[{"pod_uid": "u1", "cpu_request_cores": 2.0}, {"pod_uid": "u2", "cpu_request_cores": 1.0}],
        container_intervals=[
            {"pod_uid": "u1", "start": at(0), "end": at(30)},
            {"pod_uid": "u2", "start": at(0), "end": at(60)},
        ],
    )
    result = compute(h, FixedPrices(), BillingPolicy())
    ghost = one(result.allocations, pod="p1")
    assert ghost["running_minutes"] == 30.0 and ghost["cpu_core_hours"] == 1.0
    assert ghost["total_cost"] == 0.0 and ghost["cpu_cost"] == 0.0 and ghost["cpu_cost_adjustment"] == 0.0
    known = one(result.allocations, pod="p2")
    assert known["cpu_cost"] > 0 and known["cpu_cost_adjustment"] == 0.0
    node_cost = result.assets.filter(pl.col("type") == "Node").get_column("total_cost").sum()
    assert result.allocations.get_column("total_cost").sum() == pytest.approx(node_cost, rel=1e-12)


def test_empty_history() -> None:
    result = compute(history(1), FixedPrices(), BillingPolicy())
    assert result.allocations.height == 0 and result.assets.height == 0
