"""Tenancy: an identity scoped to namespace ``shop`` sees its own costs plus its share of idle, and nothing of
``data`` (the other namespace) or of cluster totals, through every endpoint, aggregation, filter and legacy
endpoint. The forbidden figures are computed from unscoped answers of the same ledger.

Its share of each resource's idle is by request share, never by cost: the cluster's idle CPU cost x shop's
requested core-minutes / every namespace's requested core-minutes (likewise RAM and GPU), computed here from
the unscoped answers' idle rows and request averages."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator
from tests.api.conftest import NOW, WINDOW
from tests.api.test_auth import (
    ADMIN_TOKEN,
    CLUSTER_TOKEN,
    ELSEWHERE_TOKEN,
    SHOP_PASSWORD,
    SHOP_TOKEN,
    basic,
    bearer,
    settings,
)

ADMIN = bearer(ADMIN_TOKEN)
SHOP = bearer(SHOP_TOKEN)
COST_FIELDS = ("cpuCost", "ramCost", "gpuCost", "pvCost", "networkCost", "loadBalancerCost", "totalCost")
CONTAINER_KEYS = ("cluster", "node", "namespace", "pod", "container")
AGGREGATES = ["", "namespace", "cluster", "node", "controller", "pod", "label:team", "label:env", "cluster,namespace"]
RESERVED = ("__idle__", "__shared__", "__unmounted__")
REQUESTS = {"cpu": "cpuCoreRequestAverage", "ram": "ramByteRequestAverage", "gpu": "gpuRequestAverage"}


@pytest.fixture(scope="module")
def secured(small_ledger: Path) -> Iterator[TestClient]:
    app = create_app(small_ledger, clock=lambda: NOW, auth=Authenticator.from_settings(settings()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def get(client: TestClient, path: str, headers: dict[str, str], **params: str) -> Any:
    response = client.get(path, params={"window": WINDOW, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def numbers(value: Any) -> list[float]:
    """Every number in a JSON value."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for item in value.values() for n in numbers(item)]
    if isinstance(value, list):
        return [n for item in value for n in numbers(item)]
    return []


def rows(data: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    assert len(data) == 1
    return data[0]


def request_share_idle(client: TestClient, namespace: str = "shop", **params: str) -> list[float]:
    """Per set, ``namespace``'s share of idle by request share, from unscoped answers: each cluster's idle cost
    of a resource x the namespace's requested minutes of it / all namespaces' requested minutes of it."""
    idle_sets = get(client, "/allocation", ADMIN, aggregate="cluster", splitIdle="true", **params)
    request_sets = get(client, "/allocation", ADMIN, aggregate="cluster,namespace", includeIdle="false", **params)
    shares = []
    for idle, requests in zip(idle_sets, request_sets, strict=True):
        share = 0.0
        for key, row in idle.items():
            if not key.endswith("/__idle__"):
                continue
            cluster = key.removesuffix("/__idle__")
            in_cluster = [r for name, r in requests.items() if name.startswith(f"{cluster}/")]
            for resource, average in REQUESTS.items():
                total = sum(r[average] * r["minutes"] for r in in_cluster)
                own = sum(r[average] * r["minutes"] for r in in_cluster if r["name"] == f"{cluster}/{namespace}")
                if total > 0:
                    share += row[f"{resource}Cost"] * own / total
        shares.append(share)
    return shares


def cost_figures(row: dict[str, Any]) -> set[float]:
    return {round(float(row[field]), 5) for field in COST_FIELDS if row.get(field)}


def container_idle(
    containers: dict[str, dict[str, Any]], idle: dict[str, dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Each container's share of its cluster's idle per resource, by request share (from unscoped answers)."""
    shares: dict[str, dict[str, float]] = {}
    for key, row in containers.items():
        if key in RESERVED or "properties" not in row or "namespace" not in row["properties"]:
            continue
        cluster = row["properties"]["cluster"]
        peers = [r for r in containers.values() if r.get("properties", {}).get("cluster") == cluster]
        shares[key] = {}
        for resource, average in REQUESTS.items():
            total = sum(r[average] * r["minutes"] for r in peers)
            weight = row[average] * row["minutes"]
            cost = idle[f"{cluster}/__idle__"][f"{resource}Cost"] if f"{cluster}/__idle__" in idle else 0.0
            shares[key][resource] = cost * weight / total if total > 0 else 0.0
    return shares


@pytest.fixture(scope="module")
def truth(secured: TestClient) -> dict[str, Any]:
    """Unscoped answers: each namespace's own cost, its cost with idle shared by cost (forbidden: it is weighted
    by the others' cost), and what shop may see: its own costs plus idle by request share."""
    own = rows(get(secured, "/allocation", ADMIN, aggregate="namespace", includeIdle="false"))
    shared = rows(get(secured, "/allocation", ADMIN, aggregate="namespace", shareIdle="true"))
    separate = rows(get(secured, "/allocation", ADMIN, aggregate="namespace"))
    containers = rows(get(secured, "/allocation", ADMIN, includeIdle="false"))
    by_cluster = rows(get(secured, "/allocation", ADMIN, aggregate="cluster"))
    idle = rows(get(secured, "/allocation", ADMIN, aggregate="cluster", splitIdle="true"))
    by_node = rows(get(secured, "/allocation", ADMIN, aggregate="node", shareIdle="true"))
    data_rows = [row for row in containers.values() if row["properties"].get("namespace") == "data"]
    shop_rows = [row for row in containers.values() if row["properties"].get("namespace") == "shop"]
    assert data_rows and shop_rows
    forbidden: set[float] = set()
    for row in (own["data"], shared["data"], shared["shop"], separate["__idle__"], *data_rows):
        forbidden |= cost_figures(row)
    for row in (*by_cluster.values(), *by_node.values()):
        forbidden |= cost_figures(row)
    forbidden |= {round(shared["shop"][f"{r}CostIdle"], 5) for r in REQUESTS}
    forbidden.add(round(own["data"]["totalCost"] + own["shop"]["totalCost"], 5))
    forbidden.add(round(sum(row["totalCost"] for row in separate.values()), 5))
    # What shop may see: its own unscoped rows, and its scoped containers once each one's idle is checked
    # against the request-share oracle.
    legit = {round(n, 5) for row in (own["shop"], *shop_rows) for n in numbers(row)}
    expected = container_idle(containers, idle)
    scoped = rows(get(secured, "/allocation", SHOP))
    assert set(scoped) == {key for key, row in containers.items() if row["properties"].get("namespace") == "shop"}
    for key, row in scoped.items():
        for resource, share in expected[key].items():
            assert math.isclose(row[f"{resource}CostIdle"], share, abs_tol=1e-4), (key, resource)
        legit |= {round(n, 5) for n in numbers(row)}
    forbidden -= legit | {0.0}
    assert forbidden, "the ledger must give the other namespace some cost"
    (shop_idle,) = request_share_idle(secured)
    assert math.isclose(shop_idle, sum(sum(expected[key].values()) for key in scoped), abs_tol=1e-4)
    cost_weighted = sum(shared["shop"][f"{r}CostIdle"] for r in REQUESTS)
    assert abs(shop_idle - cost_weighted) > 1e-3, "the ledger must tell request share from cost weighting"
    total = own["shop"]["totalCost"] + shop_idle
    return {"forbidden": forbidden, "own": own, "shop_idle": shop_idle, "shop_total": total}


def assert_nothing_forbidden(truth: dict[str, Any], body: Any) -> None:
    leaked = {round(n, 5) for n in numbers(body)} & truth["forbidden"]
    assert not leaked, f"numbers of other tenants in the answer: {sorted(leaked)}"
    text = str(body)
    assert "'data'" not in text and "data/" not in text and "/data" not in text
    for name in RESERVED:
        assert name not in text


def test_the_forbidden_numbers_do_appear_for_an_unscoped_identity(secured: TestClient, truth: dict[str, Any]) -> None:
    body = get(secured, "/allocation", ADMIN, aggregate="namespace", includeIdle="false")
    assert {round(n, 5) for n in numbers(body)} & truth["forbidden"]


@pytest.mark.parametrize("aggregate", AGGREGATES)
@pytest.mark.parametrize("path", ["/allocation", "/model/allocation/compute"])
def test_a_namespace_scoped_identity_sees_its_cost_plus_its_idle_share(
    secured: TestClient, truth: dict[str, Any], path: str, aggregate: str
) -> None:
    for headers in (SHOP, basic("shop", SHOP_PASSWORD)):
        for extra in (
            {},
            {"includeIdle": "false"},
            {"splitIdle": "true", "idleByNode": "false"},
            {"idleByNode": "true"},
            {"idle": "separate"},
        ):
            body = get(secured, path, headers, aggregate=aggregate, **extra)
            assert_nothing_forbidden(truth, body)
            allocations = rows(body)
            assert allocations
            for row in allocations.values():
                assert row["properties"].get("namespace", "shop") == "shop"
            total = sum(row["totalCost"] for row in allocations.values())
            assert math.isclose(total, truth["shop_total"], abs_tol=1e-4)


@pytest.mark.parametrize(
    "filter_", ['namespace:"data"', 'namespace!:"shop"', 'label[team]:"platform"', 'controllerName:"db"']
)
def test_a_filter_for_another_namespace_shows_nothing(secured: TestClient, filter_: str) -> None:
    assert get(secured, "/allocation", SHOP, aggregate="namespace", filter=filter_) == [{}]
    assert get(secured, "/allocation", ADMIN, aggregate="namespace", filter=filter_) != [{}]


def test_steps_and_summaries_are_scoped(secured: TestClient, truth: dict[str, Any]) -> None:
    stepped = get(secured, "/allocation", SHOP, aggregate="namespace", step="1h")
    own = get(secured, "/allocation", ADMIN, aggregate="namespace", step="1h", includeIdle="false")
    idle = request_share_idle(secured, step="1h")
    assert len(stepped) == len(own) == len(idle) == 3
    assert_nothing_forbidden(truth, stepped)
    for scoped, unscoped, shop_idle in zip(stepped, own, idle, strict=True):
        assert math.isclose(scoped["shop"]["totalCost"], unscoped["shop"]["totalCost"] + shop_idle, abs_tol=1e-4)
    for path in ("/allocation/summary", "/model/allocation/compute/summary"):
        for aggregate in ("namespace", "cluster", "label:team"):
            summary = get(secured, path, SHOP, aggregate=aggregate)
            assert_nothing_forbidden(truth, summary["sets"])
            allocations = summary["sets"][0]["allocations"]
            total = sum(row["totalCost"] for row in allocations.values())
            assert math.isclose(total, truth["shop_total"], abs_tol=1e-4)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("shareNamespaces", "data"),
        ("shareLabels", "team:platform"),
        ("shareFilter", 'namespace:"data"'),
        ("shareCost", "100"),
        ("shareTenancyCosts", "true"),
    ],
)
def test_sharing_is_refused_to_a_scoped_identity(secured: TestClient, parameter: str, value: str) -> None:
    response = secured.get(
        "/allocation", params={"window": WINDOW, "aggregate": "namespace", parameter: value}, headers=SHOP
    )
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"]["code"] == "forbidden" and body["message"].startswith(f"{parameter}: ")
    allowed = secured.get("/allocation", params={"window": WINDOW, parameter: value}, headers=ADMIN)
    assert allowed.status_code == 200


def test_assets_are_forbidden_to_a_namespace_scoped_identity(secured: TestClient) -> None:
    for path in ("/assets", "/model/assets"):
        for headers in (SHOP, basic("shop", SHOP_PASSWORD)):
            response = secured.get(path, params={"window": WINDOW, "aggregate": "type"}, headers=headers)
            assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
            assert "0." not in response.text


def test_cluster_scoped_identities_see_only_their_clusters(secured: TestClient) -> None:
    everything = get(secured, "/assets", ADMIN, aggregate="type")
    assert get(secured, "/assets", bearer(CLUSTER_TOKEN), aggregate="type") == everything
    assert everything and get(secured, "/assets", bearer(ELSEWHERE_TOKEN), aggregate="type") == {}
    assert get(secured, "/assets", bearer(ELSEWHERE_TOKEN), filter='cluster:"small"') == {}
    assert get(secured, "/allocation", bearer(ELSEWHERE_TOKEN), aggregate="cluster") == [{}]
    small = rows(get(secured, "/allocation", bearer(CLUSTER_TOKEN), aggregate="namespace"))
    assert set(small) == {"shop", "data"}
    assert get(secured, "/model/costDataModel", bearer(ELSEWHERE_TOKEN), timeWindow=WINDOW, window="") == {}


@pytest.mark.parametrize("aggregation", ["namespace", "cluster", "controller", "pod", "label"])
@pytest.mark.parametrize("allocate_idle", ["true", "false"])
def test_aggregated_cost_model_is_scoped(
    secured: TestClient, truth: dict[str, Any], aggregation: str, allocate_idle: str
) -> None:
    params = {"aggregation": aggregation, "allocateIdle": allocate_idle}
    if aggregation == "label":
        params["aggregationSubfield"] = "team"
    body = get(secured, "/model/aggregatedCostModel", SHOP, **params)
    assert_nothing_forbidden(truth, body)
    assert body
    total = sum(entry["totalCost"] for entry in body.values())
    assert math.isclose(total, truth["shop_total"], abs_tol=1e-4)
    refused = secured.get(
        "/model/aggregatedCostModel", params={"window": WINDOW, **params, "sharedNamespaces": "data"}, headers=SHOP
    )
    assert refused.status_code == 403 and refused.json()["message"].startswith("sharedNamespaces: ")


def test_cost_data_model_lists_only_the_scope(secured: TestClient, truth: dict[str, Any]) -> None:
    everything = get(secured, "/model/costDataModel", ADMIN, timeWindow=WINDOW, window="")
    assert any(key.startswith("data,") for key in everything)
    scoped = get(secured, "/model/costDataModel", SHOP, timeWindow=WINDOW, window="")
    assert scoped and all(key.startswith("shop,") for key in scoped)
    capacity = ("CPU", "RAM", "RAMBytes", "GPU")
    own = {key: entry for key, entry in everything.items() if key.startswith("shop,")}
    assert all(set(entry["node"]) - set(capacity) for entry in own.values()), "unscoped entries carry node prices"
    narrowed = {
        key: {**entry, "node": {k: v for k, v in entry["node"].items() if k in capacity}} for key, entry in own.items()
    }
    assert scoped == narrowed
    assert get(secured, "/model/costDataModel", SHOP, timeWindow=WINDOW, window="", namespace="data") == {}
    pvcs = [pvc for entry in scoped.values() for pvc in entry["pvcData"]]
    assert all(pvc["namespace"] in (None, "shop") for pvc in pvcs)


def test_answers_are_cached_per_scope(small_ledger: Path) -> None:
    app = create_app(small_ledger, clock=lambda: NOW, auth=Authenticator.from_settings(settings()))
    with TestClient(app) as client:
        scoped = rows(get(client, "/allocation", SHOP, aggregate="namespace"))
        unscoped = rows(get(client, "/allocation", ADMIN, aggregate="namespace"))
        again = rows(get(client, "/allocation", SHOP, aggregate="namespace"))
        assert set(scoped) == {"shop"} and "data" in unscoped and again == scoped
        assert app.state.kubetally.cache.stats.hits == 1
