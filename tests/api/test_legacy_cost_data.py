"""``/model/costDataModel``: Kubecost's per-container data, checked against unaggregated ``/allocation``.

Clock frozen at 03:30 with hours 00:00–03:00 in the ledger: ``timeWindow=3h&offset=1h`` is those three hours.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kubetally.ledger import Ledger
from kubetally.query import AssetQuery, run_assets
from tests.api.conftest import NOW, WINDOW
from tests.api.test_legacy import allocation, data, error, legacy_client

PATH = "/model/costDataModel"
FIELDS = {
    "name",
    "podName",
    "nodeName",
    "namespace",
    "node",
    "deployments",
    "services",
    "daemonsets",
    "statefulsets",
    "jobs",
    "labels",
    "namespaceLabels",
    "cpureq",
    "cpuused",
    "cpuallocated",
    "ramreq",
    "ramused",
    "ramallocated",
    "gpureq",
    "pvcData",
    "clusterId",
}
"""The fields of opencost-compat §6."""
SERIES = ("cpureq", "cpuused", "cpuallocated", "ramreq", "ramused", "ramallocated", "gpureq")


@pytest.fixture(scope="module")
def served(small_ledger: Path) -> Iterator[tuple[TestClient, Ledger]]:
    with legacy_client(small_ledger, NOW) as pair:
        yield pair


@pytest.fixture(scope="module")
def client(served: tuple[TestClient, Ledger]) -> TestClient:
    return served[0]


@pytest.fixture(scope="module")
def ledger(served: tuple[TestClient, Ledger]) -> Ledger:
    return served[1]


@pytest.fixture(scope="module")
def three_hours(client: TestClient) -> dict[str, dict[str, Any]]:
    return data(client, PATH, timeWindow="3h", offset="1h")


@pytest.fixture(scope="module")
def containers(ledger: Ledger) -> dict[str, dict[str, Any]]:
    """Unaggregated workload allocations keyed as costDataModel keys them."""
    result = {}
    for item in allocation(ledger, includeIdle="false").values():
        p = item["properties"]
        if p.get("pod") and p["pod"] != "__unmounted__":
            result[",".join((p["namespace"], p["pod"], p["container"], p["node"], p["cluster"]))] = item
    return result


def test_keys_and_fields(three_hours: dict[str, dict[str, Any]], containers: dict[str, dict[str, Any]]) -> None:
    assert set(three_hours) == set(containers)
    assert len(three_hours) >= 4
    for key, entry in three_hours.items():
        assert set(entry) == FIELDS
        namespace, pod, container, node, cluster = key.split(",")
        assert (entry["namespace"], entry["podName"], entry["name"]) == (namespace, pod, container)
        assert (entry["nodeName"], entry["clusterId"]) == (node, cluster)
        properties = containers[key]["properties"]
        assert entry["labels"] == properties["labels"]
        assert entry["namespaceLabels"] == properties["namespaceLabels"]
        assert entry["services"] == properties["services"]
        kind = properties.get("controllerKind")
        lists = {"deployment": "deployments", "statefulset": "statefulsets", "daemonset": "daemonsets", "job": "jobs"}
        for controller_kind, field in lists.items():
            assert entry[field] == ([properties["controller"]] if kind == controller_kind else [])


def test_series_match_allocation_averages(
    ledger: Ledger, three_hours: dict[str, dict[str, Any]], containers: dict[str, dict[str, Any]]
) -> None:
    """Weighted by the running minutes of each hour (read from the ledger), the series give the allocation's
    time-weighted averages; ``*allocated`` is ``max(request, usage)`` point by point."""
    running = {
        (row["namespace"], row["pod"], row["container"], int(row["hour"].timestamp())): row["running_minutes"]
        for row in ledger.fetch(
            "SELECT namespace, pod, container, hour, running_minutes FROM allocations WHERE kind = 'workload'"
        ).iter_rows(named=True)
    }
    start, end = (datetime.fromisoformat(part.replace("Z", "+00:00")) for part in WINDOW.split(","))
    for key, entry in three_hours.items():
        for field in SERIES:
            stamps = [point["timestamp"] for point in entry[field]]
            assert stamps == sorted(stamps)
            assert all(start.timestamp() <= stamp < end.timestamp() for stamp in stamps)
        for used, requested, allocated in (
            ("cpuused", "cpureq", "cpuallocated"),
            ("ramused", "ramreq", "ramallocated"),
        ):
            for u, r, a in zip(entry[used], entry[requested], entry[allocated], strict=True):
                assert a["value"] == max(u["value"], r["value"])
        item = containers[key]
        for field, average in (
            ("cpureq", "cpuCoreRequestAverage"),
            ("cpuused", "cpuCoreUsageAverage"),
            ("ramreq", "ramByteRequestAverage"),
            ("ramused", "ramByteUsageAverage"),
        ):
            weighted = sum(
                point["value"] * running[(entry["namespace"], entry["podName"], entry["name"], point["timestamp"])]
                for point in entry[field]
            )
            assert math.isclose(weighted / item["minutes"], item[average], rel_tol=1e-5, abs_tol=1e-5), (key, field)


def test_pvc_data_and_node_prices(
    ledger: Ledger, three_hours: dict[str, dict[str, Any]], containers: dict[str, dict[str, Any]]
) -> None:
    with_pvcs = {key: entry for key, entry in three_hours.items() if entry["pvcData"]}
    assert with_pvcs
    for key, entry in with_pvcs.items():
        assert math.isclose(sum(p["cost"] for p in entry["pvcData"]), containers[key]["pvCost"], abs_tol=1e-5)
        assert {p["volumeName"] for p in entry["pvcData"]} == {
            pv.split("name=")[1] for pv in containers[key]["pvs"] or {}
        }
        assert all(p["claim"] and p["class"] and p["namespace"] for p in entry["pvcData"])
    (assets,) = run_assets(ledger, AssetQuery.from_params({"window": WINDOW, "aggregate": "name"}, NOW))
    for entry in three_hours.values():
        node = entry["node"]
        asset = assets[entry["nodeName"]]
        assert float(node["CPU"]) == asset["cpuCores"]
        assert float(node["RAMBytes"]) == asset["ramBytes"]
        assert node["RAM"] == f"{int(asset['ramBytes'] // 1024)}Ki"
        assert math.isclose(float(node["CPUHourlyCost"]), asset["cpuCost"] / asset["cpuCoreHours"], rel_tol=1e-5)
        assert math.isclose(float(node["hourlyCost"]), asset["totalCost"] / (asset["minutes"] / 60), rel_tol=1e-5)
        assert node["instanceType"] == asset["nodeType"]
        assert node["providerID"] == asset["properties"]["providerID"]


def test_filter_fields_is_a_blacklist(client: TestClient, three_hours: dict[str, dict[str, Any]]) -> None:
    result = data(client, PATH, timeWindow="3h", offset="1h", filterFields="cpuused,RAMREQ,node")
    assert set(result) == set(three_hours)
    for key, entry in result.items():
        assert set(entry) == FIELDS - {"cpuused", "ramreq", "node"}
        assert entry["cpureq"] == three_hours[key]["cpureq"]


def test_namespace_filter(client: TestClient, three_hours: dict[str, dict[str, Any]]) -> None:
    result = data(client, PATH, timeWindow="3h", offset="1h", namespace="data")
    assert result
    assert set(result) == {key for key, entry in three_hours.items() if entry["namespace"] == "data"}
    assert result == {key: three_hours[key] for key in result}


def test_offset(client: TestClient) -> None:
    assert data(client, PATH, timeWindow="1h") == {}
    last_hour = data(client, PATH, timeWindow="1h", offset="1h")
    assert last_hour
    hour = datetime(2026, 1, 1, 2, tzinfo=UTC).timestamp()
    assert {point["timestamp"] for entry in last_hour.values() for point in entry["cpureq"]} == {hour}
    assert data(client, PATH, timeWindow=WINDOW) == data(client, PATH, timeWindow="3h", offset="1h")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "timeWindow"),
        ({"timeWindow": "7x"}, "timeWindow"),
        ({"timeWindow": "1000d"}, "timeWindow"),
        ({"timeWindow": "1d", "offset": "-1d"}, "offset"),
        ({"timeWindow": WINDOW, "offset": "1d"}, "offset"),
        ({"timeWindow": "1d", "filterFields": "cpuused,colour"}, "filterFields"),
    ],
)
def test_bad_parameters(client: TestClient, params: dict[str, str], parameter: str) -> None:
    body = error(client, PATH, **params)
    assert body["message"].startswith(f"{parameter}: "), body["message"]
    assert body["error"]["parameter"] == parameter
