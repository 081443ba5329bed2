"""The OpenCost endpoints over the ``small`` ledger: envelope, both prefixes, every parameter under both names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, AssetQuery, run_allocation, run_assets
from tests.api.conftest import NOW, WINDOW

ALLOCATION_ROUTES = ("/allocation", "/allocation/compute")
SUMMARY_ROUTES = ("/allocation/summary", "/allocation/compute/summary")


def data(client: TestClient, path: str, **params: str) -> Any:
    """The ``data`` of a successful response, after checking OpenCost's envelope."""
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) - {"warning"} == {"code", "status", "data"}
    assert body["code"] == 200 and body["status"] == "success"
    return body["data"]


def direct(ledger: Path, **params: str) -> list[dict[str, Any]]:
    """What the query layer answers for ``params`` (the API must pass it on unchanged)."""
    with Ledger.open(ledger, read_only=True) as reader:
        return run_allocation(reader, AllocationQuery.from_params(params, NOW))


@pytest.mark.parametrize("route", [*ALLOCATION_ROUTES, *SUMMARY_ROUTES, "/assets"])
def test_every_route_answers_the_same_under_model(client: TestClient, route: str) -> None:
    params = {"window": WINDOW, "aggregate": "type" if route == "/assets" else "namespace"}
    assert data(client, route, **params) == data(client, "/model" + route, **params)


@pytest.mark.parametrize("route", ALLOCATION_ROUTES)
def test_allocation_is_the_query_layers_answer(client: TestClient, small_ledger: Path, route: str) -> None:
    sets = data(client, route, window=WINDOW)
    assert sets == direct(small_ledger, window=WINDOW)
    names = set(sets[0])
    assert "__idle__" in names
    assert "small/node-a/shop/web-x87dlft7s-t2q8j/app" in names


@pytest.mark.parametrize(
    "params",
    [
        {"aggregate": "namespace"},
        {"aggregate": "cluster,namespace"},
        {"aggregate": "controller"},
        {"aggregate": "label:team"},
        {"aggregate": "all"},
        {"filter": 'namespace:"shop"'},
        {"filter": "label:app:web"},
        {"aggregate": "namespace", "shareIdle": "true"},
        {"aggregate": "namespace", "shareIdle": "true", "idleByNode": "true"},
        {"aggregate": "namespace", "shareNamespaces": "data"},
        {"aggregate": "namespace", "shareLabels": "app:db"},
        {"aggregate": "namespace", "shareFilter": 'namespace:"data"'},
        {"aggregate": "namespace", "shareNamespaces": "data", "shareSplit": "even"},
        {"aggregate": "namespace", "shareNamespaces": "data", "shareSplit": "metric:cpu"},
        {"aggregate": "namespace", "shareCost": "730"},
        {"aggregate": "namespace", "shareTenancyCosts": "true"},
        {"aggregate": "namespace", "step": "1h"},
        {"aggregate": "namespace", "accumulate": "hour"},
        {"aggregate": "namespace", "includeAggregatedMetadata": "true"},
    ],
)
def test_each_parameter_changes_the_answer_as_the_query_layer_does(
    client: TestClient, small_ledger: Path, params: dict[str, str]
) -> None:
    baseline = data(client, "/allocation", window=WINDOW)
    answer = data(client, "/allocation", window=WINDOW, **params)
    assert answer == direct(small_ledger, window=WINDOW, **params)
    if params != {"aggregate": "namespace", "includeAggregatedMetadata": "true"}:
        assert answer != baseline


@pytest.mark.parametrize(
    ("opencost", "kubecost"),
    [
        ({"includeIdle": "false"}, {"idle": "false"}),
        ({"includeIdle": "true"}, {"idle": "true"}),
        ({"accumulate": "hour"}, {"accumulateBy": "hour"}),
        ({"shareIdle": "true"}, {"idle": "share"}),
    ],
)
def test_kubecost_names_mean_the_same_as_opencost_names(
    client: TestClient, opencost: dict[str, str], kubecost: dict[str, str]
) -> None:
    params = {"window": WINDOW, "aggregate": "namespace"}
    assert data(client, "/allocation", **params, **opencost) == data(client, "/allocation", **params, **kubecost)


def test_hiding_idle_drops_the_idle_row(client: TestClient) -> None:
    shown = data(client, "/allocation", window=WINDOW, aggregate="namespace")[0]
    hidden = data(client, "/allocation", window=WINDOW, aggregate="namespace", includeIdle="false")[0]
    assert "__idle__" in shown
    assert set(hidden) == set(shown) - {"__idle__"}


def test_idle_names_with_split_idle_and_idle_by_node(client: TestClient) -> None:
    def idle_names(**params: str) -> set[str]:
        sets = data(client, "/allocation", window=WINDOW, aggregate="namespace", **params)
        return {name for name in sets[0] if "__idle__" in name}

    assert idle_names() == {"__idle__"}
    assert idle_names(idleByNode="true") == {"__idle__"}
    assert idle_names(splitIdle="true") == {"small/__idle__"}
    assert idle_names(splitIdle="true", idleByNode="true") == {"small/node-a/__idle__", "small/node-b/__idle__"}
    split = data(client, "/allocation", window=WINDOW, aggregate="namespace", splitIdle="true", idleByNode="true")
    single = data(client, "/allocation", window=WINDOW, aggregate="namespace")
    by_node = sum(row["totalCost"] for name, row in split[0].items() if "__idle__" in name)
    assert by_node == pytest.approx(single[0]["__idle__"]["totalCost"], abs=1e-4)


def test_a_missing_label_is_unallocated(client: TestClient) -> None:
    sets = data(client, "/allocation", window=WINDOW, aggregate="label:env")
    assert set(sets[0]) == {"prod", "__unallocated__", "__unmounted__", "__idle__"}
    web = data(client, "/allocation", window=WINDOW, aggregate="label:app", filter="label:app:web")
    assert set(web[0]) - {"__idle__"} == {"web"}


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({}, 1),
        ({"step": "1h"}, 3),
        ({"step": "hour"}, 3),
        ({"accumulate": "true"}, 1),
        ({"accumulate": "all", "step": "1h"}, 1),
        ({"accumulate": "hour"}, 3),
        ({"accumulateBy": "hour"}, 3),
        ({"accumulate": "day", "step": "1h"}, 1),
        ({"accumulate": "false", "step": "1h"}, 3),
    ],
)
def test_accumulate_and_step_set_counts(client: TestClient, params: dict[str, str], count: int) -> None:
    assert len(data(client, "/allocation", window=WINDOW, **params)) == count
    summary = data(client, "/allocation/summary", window=WINDOW, **params)
    assert len(summary["sets"]) == count


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({}, None),
        ({"step": "1h"}, None),
        ({"accumulate": "false", "step": "1d"}, None),
        ({"accumulate": "false", "step": "1h", "includeIdle": "true"}, None),
        ({"accumulate": "true"}, None),
        ({"accumulate": "all", "step": "1h"}, None),
        ({"accumulate": "hour"}, 3),
        ({"accumulateBy": "hour"}, 3),
        ({"accumulate": "hour", "step": "1d"}, 3),
        ({"accumulate": "day", "step": "1h"}, 1),
    ],
)
def test_assets_answer_one_set_unless_accumulate_names_a_period(
    client: TestClient, params: dict[str, str], count: int | None
) -> None:
    """OpenCost's /assets answers one set over the window whatever step and accumulate say; a period asks for a list."""
    whole = data(client, "/assets", window=WINDOW, aggregate="type", accumulate="true")
    answer = data(client, "/assets", window=WINDOW, aggregate="type", **params)
    if count is None:
        assert answer == whole
        return
    assert isinstance(answer, list) and len(answer) == count
    for key, row in whole.items():
        assert sum(one[key]["totalCost"] for one in answer if key in one) == pytest.approx(row["totalCost"], abs=1e-9)


def test_relative_windows_use_the_frozen_clock(client: TestClient) -> None:
    today = data(client, "/allocation/summary", window="today", aggregate="namespace")
    assert today["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    assert (
        today["sets"][0]["allocations"]
        == data(client, "/allocation/summary", window=WINDOW, aggregate="namespace")["sets"][0]["allocations"]
    )
    last_hour = data(client, "/allocation", window="1h offset 1h", aggregate="namespace")
    explicit = data(client, "/allocation", window="2026-01-01T02:00:00Z,2026-01-01T03:00:00Z", aggregate="namespace")
    assert last_hour == explicit and last_hour != [{}]
    assert data(client, "/allocation", window="yesterday", aggregate="namespace") == [{}]


def test_summary_keeps_the_allocations_fields(client: TestClient) -> None:
    full = data(client, "/allocation", window=WINDOW, aggregate="namespace", step="1h")
    summary = data(client, "/allocation/summary", window=WINDOW, aggregate="namespace", step="1h")
    assert summary["step"] == 3600 * 10**9
    assert summary["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z"}
    for full_set, summary_set in zip(full, summary["sets"], strict=True):
        assert set(summary_set["allocations"]) == set(full_set)
        for name, row in summary_set["allocations"].items():
            assert {"name", "start", "end", "cpuCost", "ramCost", "totalCost", "totalEfficiency"} <= set(row)
            assert "cpuCores" not in row and "pvs" not in row
            assert all(row[field] == full_set[name][field] for field in row)
            assert row["start"] == summary_set["window"]["start"] or full_set[name]["start"] >= row["start"]


@pytest.mark.parametrize(
    "params",
    [{}, {"aggregate": "type"}, {"aggregate": "cluster,category"}, {"filter": 'type:"Node"'}, {"accumulate": "hour"}],
)
def test_assets_are_the_query_layers_answer(client: TestClient, small_ledger: Path, params: dict[str, str]) -> None:
    answer = data(client, "/assets", window=WINDOW, **params)
    with Ledger.open(small_ledger, read_only=True) as reader:
        sets = run_assets(reader, AssetQuery.from_params({"window": WINDOW, **params}, NOW))
    assert answer == (sets if "accumulate" in params else sets[0])


def test_unknown_parameters_are_ignored(client: TestClient) -> None:
    plain = data(client, "/allocation", window=WINDOW, aggregate="namespace")
    assert data(client, "/allocation", window=WINDOW, aggregate="namespace", colour="blue", disableCache="1") == plain


def test_health_version_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["last_ingest_age_seconds"] is not None
    version = data(client, "/version")
    assert version["version"]
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    declared = {p["name"] for p in schema["paths"]["/model/allocation"]["get"]["parameters"]}
    assert {"window", "includeIdle", "idle", "accumulateBy", "shareSplit", "splitIdle", "idleByNode"} <= declared


OVERRIDDEN = [
    ({"accumulate": "weeknow", "step": "nonsense"}, "step"),
    ({"accumulate": "true", "step": "1.5h"}, "step"),
    ({"accumulateBy": "hour", "accumulate": "else"}, "accumulate"),
]
"""Parameters another one overrides, with malformed values: refused all the same (``/cloudCost`` has no step)."""


@pytest.mark.parametrize(
    ("route", "params", "named"),
    [(route, params, named) for route in ("/allocation", "/assets") for params, named in OVERRIDDEN]
    + [("/cloudCost", OVERRIDDEN[2][0], "accumulate")],
)
def test_an_overridden_parameter_is_still_checked(
    client: TestClient, route: str, params: dict[str, str], named: str
) -> None:
    response = client.get(route, params={"window": WINDOW, **params})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["parameter"] == named
