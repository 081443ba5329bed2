"""run_assets: keys, Node / Disk fields, aggregation, filter and steps on the fixture's assets."""

from __future__ import annotations

from typing import Any

import pytest

from kubetally.ledger import Ledger
from kubetally.query import AssetQuery, run_assets
from tests.query.fixture import NOW, WINDOW


def assets(ledger: Ledger, **params: str) -> list[dict[str, dict[str, Any]]]:
    return run_assets(ledger, AssetQuery.from_params({"window": WINDOW, **params}, NOW))


def test_unaggregated_keys_and_node_fields(ledger: Ledger) -> None:
    (only,) = assets(ledger)
    assert len(only) == 6  # n1, n2, m1, pv-1, network, cluster management
    n1 = only["///Compute/c1/Node/Kubernetes/pid-n1/n1"]
    assert n1["type"] == "Node"
    assert (n1["totalCost"], n1["cpuCost"], n1["ramCost"], n1["minutes"]) == (22.0, 14.0, 8.0, 120.0)
    assert (n1["cpuCores"], n1["cpuCoreHours"], n1["nodeType"], n1["preemptible"]) == (2.0, 4.0, "m5.large", 0.0)
    assert n1["properties"]["providerID"] == "pid-n1"
    disk = only["///Storage/c1/Disk/Kubernetes/disk-1/pv-1"]
    assert (disk["type"], disk["totalCost"], disk["claimName"], disk["storageClass"]) == (
        "Disk",
        2.0,
        "data",
        "standard",
    )
    assert disk["bytes"] == 10 * 2.0**30


def test_aggregate_by_type(ledger: Ledger) -> None:
    (only,) = assets(ledger, aggregate="type")
    assert {k: v["totalCost"] for k, v in only.items()} == pytest.approx(
        {"Node": 38.0, "Disk": 2.0, "Network": 1.0, "ClusterManagement": 0.2}
    )
    assert only["Node"]["type"] == "Node"


def test_aggregate_by_cluster_mixes_types(ledger: Ledger) -> None:
    (only,) = assets(ledger, aggregate="cluster")
    assert {k: v["totalCost"] for k, v in only.items()} == pytest.approx({"c1": 37.2, "c2": 4.0})
    assert only["c1"]["type"] == "Any"


def test_filter_and_step(ledger: Ledger) -> None:
    (only,) = assets(ledger, filter='type:"Node"+cluster:"c1"')
    assert sorted(v["properties"]["name"] for v in only.values()) == ["n1", "n2"]
    h0, h1 = assets(ledger, aggregate="cluster", step="1h")
    assert {k: v["totalCost"] for k, v in h0.items()} == pytest.approx({"c1": 20.1, "c2": 4.0})
    assert {k: v["totalCost"] for k, v in h1.items()} == pytest.approx({"c1": 17.1})
