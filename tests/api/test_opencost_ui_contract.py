"""Every API call of the OpenCost UI (opencost-ui ``app/services/*.ts``), answered 2xx in OpenCost's shapes.

The table lists each call the UI's services make (path and the parameters they send, with the values the UI's
menus offer), as read from the UI's API client; each is sent under ``/`` and under ``/model`` (the UI's
``baseURL``) to the demo ledger with its cloud bill, and its ``data`` is checked against the shape the UI reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.ledger import Ledger
from tests.runner import demo_ledger_at

Shape = Callable[[Any], None]


def _number(value: Any) -> None:
    assert isinstance(value, int | float) and not isinstance(value, bool), value


def _window(value: Any) -> None:
    assert isinstance(value, dict) and isinstance(value["start"], str) and isinstance(value["end"], str), value


def allocation_sets(data: Any) -> None:
    """``/allocation/compute``: a list of sets, each ``{name: allocation}`` (the UI reads name, totalCost, ...)."""
    assert isinstance(data, list) and data
    for allocation_set in data:
        for name, row in allocation_set.items():
            assert row["name"] == name and isinstance(row["properties"], dict)
            _window(row["window"])
            for field in ("totalCost", "cpuCost", "ramCost", "pvCost", "networkCost", "sharedCost", "externalCost"):
                _number(row[field])


def asset_set(data: Any) -> None:
    """OpenCost's ``/assets``: one asset set ``{key: asset}``, each with ``type``, ``totalCost`` and ``end``."""
    assert isinstance(data, dict) and data
    for asset in data.values():
        assert isinstance(asset["type"], str) and isinstance(asset["properties"], dict)
        assert isinstance(asset["end"], str)
        _number(asset["totalCost"])


def cloud_cost_range(data: Any) -> None:
    """``/cloudCost``: ``{sets: [{cloudCosts: {name: item}, window}], window}``; each item has the five metrics."""
    assert data["sets"]
    for one in data["sets"]:
        _window(one["window"])
        for item in one["cloudCosts"].values():
            for metric in ("listCost", "netCost", "amortizedNetCost", "invoicedCost", "amortizedCost"):
                _number(item[metric]["cost"])
                _number(item[metric]["kubernetesPercent"])
    assert any(one["cloudCosts"] for one in data["sets"])


def cloud_table(data: Any) -> None:
    assert isinstance(data, list) and data
    for row in data:
        assert isinstance(row["name"], str)
        _number(row["cost"])
        _number(row["kubernetesPercent"])


def cloud_totals(data: Any) -> None:
    _number(data["combined"]["cost"])


def cloud_graph(data: Any) -> None:
    assert isinstance(data, list) and data
    for entry in data:
        assert isinstance(entry["start"], str) and isinstance(entry["items"], list)
        for item in entry["items"]:
            assert isinstance(item["name"], str)
            _number(item["value"])


def cloud_status(data: Any) -> None:
    assert isinstance(data, list) and data


def custom_total(data: Any) -> None:
    assert isinstance(data["customCosts"], list)
    _number(data["totalCost"])


def custom_timeseries(data: Any) -> None:
    assert isinstance(data["timeseries"], list) and data["timeseries"]
    for entry in data["timeseries"]:
        _window(entry["window"])
        assert isinstance(entry["customCosts"], list)


def suggestions(data: Any) -> None:
    assert isinstance(data["data"], list) and data["data"]
    assert all(isinstance(value, str) for value in data["data"])


ALLOCATION_GROUPINGS = [
    "cluster",
    "node",
    "namespace",
    "controllerKind",
    "controller",
    "deployment",
    "statefulset",
    "daemonset",
    "job",
    "service",
    "pod",
    "container",
]
ASSET_GROUPINGS = ("assetType", "category", "cluster", "provider", "account", "service", "project", "providerID")
CLOUD_GROUPINGS = ("accountID", "invoiceEntityID", "provider", "service", "category")
COST_METRICS = ("AmortizedNetCost", "ListCost", "InvoicedCost", "AmortizedCost")
EXTERNAL_GROUPINGS = (
    "domain",
    "accountName",
    "resourceName",
    "resourceType",
    "zone",
    "chargeCategory",
    "providerId",
    "usageUnit",
)
WINDOWS = ("today", "yesterday", "24h", "48h", "week", "lastweek", "7d", "14d", "30d")
ACCUMULATE = ("day", "hour", "week", "weeknow", "month", "quarter", "all", "true", "false")
YESTERDAY = "{yesterday}T00:00:00Z,{yesterday}T23:59:59Z"
"""The report builder's default window (``getYesterdayUtcRange``): a UTC day ending at 23:59:59."""


def _calls() -> list[tuple[str, str, dict[str, str], Shape]]:
    """(UI source, path, parameters, shape) of every call, with each value of each menu at least once."""
    calls: list[tuple[str, str, dict[str, str], Shape]] = []
    alloc = "allocation.ts"
    for i, grouping in enumerate(ALLOCATION_GROUPINGS):
        params = {"window": "48h", "aggregate": grouping, "includeIdle": "true", "accumulate": ACCUMULATE[(i + 3) % 9]}
        calls.append((alloc, "/allocation/compute", params, allocation_sets))
    for window in (*WINDOWS, YESTERDAY):
        calls.append(
            (
                alloc,
                "/allocation/compute",
                {"window": window, "aggregate": "namespace", "includeIdle": "true", "accumulate": "day"},
                allocation_sets,
            )
        )
    report = {
        "window": YESTERDAY,
        "aggregate": "namespace,controller",
        "includeIdle": "false",
        "metrics": "totalCost,cpuCost",
    }
    calls += [(alloc, "/allocation/compute", report | {"accumulate": acc}, allocation_sets) for acc in ACCUMULATE]
    drill = 'cluster:"prod-us"+namespace:"checkout"'
    calls.append(
        (
            alloc,
            "/allocation/compute",
            {"window": "7d", "aggregate": "pod", "includeIdle": "true", "accumulate": "day", "filter": drill},
            allocation_sets,
        )
    )
    calls.append(
        (
            "Details.jsx",
            "/allocation/compute",
            {"window": "7d", "aggregate": "", "includeIdle": "true", "accumulate": "true"},
            allocation_sets,
        )
    )
    assets = "assets.ts"
    for grouping in ASSET_GROUPINGS:
        params = {"window": "48h", "aggregate": grouping, "includeIdle": "true", "accumulate": "true", "step": "1d"}
        calls.append((assets, "/assets", params, asset_set))
    calls.append(
        (
            assets,
            "/assets",
            {
                "window": "30d",
                "aggregate": "assetType",
                "includeIdle": "true",
                "accumulate": "true",
                "step": "1d",
                "filter": 'type:"Node"',
            },
            asset_set,
        )
    )
    calls.append(
        (
            assets,
            "/assets",
            {"window": "7d", "aggregate": "assetType", "includeIdle": "true", "accumulate": "false", "step": "1d"},
            asset_set,
        )
    )
    cloud = "cloud-cost.ts"
    for i, grouping in enumerate(CLOUD_GROUPINGS):
        view = {
            "window": "48h",
            "aggregate": grouping,
            "costMetric": COST_METRICS[i % 4],
            "accumulate": ("day", "all", "week", "weeknow", "month")[i],
            "filter": "",
            "limit": "1000",
        }
        calls.append((cloud, "/cloudCost/view/table", view, cloud_table))
        calls.append((cloud, "/cloudCost/view/totals", view, cloud_totals))
        calls.append((cloud, "/cloudCost/view/graph", view, cloud_graph))
    drilled = {
        "window": "14d",
        "aggregate": "service",
        "costMetric": "AmortizedNetCost",
        "accumulate": "day",
        "filter": 'provider:"AWS"',
        "limit": "1000",
    }
    calls.append((cloud, "/cloudCost/view/table", drilled, cloud_table))
    calls.append((cloud, "/cloudCost/status", {}, cloud_status))
    for metric in COST_METRICS:
        calls.append(
            (
                "cloud-cost-day-totals.ts",
                "/cloudCost",
                {"window": "48h", "costMetric": metric, "filter": ""},
                cloud_cost_range,
            )
        )
    external = "external-costs.ts"
    for i, grouping in enumerate(EXTERNAL_GROUPINGS):
        params = {
            "window": "48h",
            "aggregate": grouping,
            "costType": ("blended", "billed", "list")[i % 3],
            "filter": "",
            "sortBy": ("cost", "aggregate", "costType")[i % 3],
            "sortDirection": ("desc", "asc")[i % 2],
        }
        calls.append((external, "/customCost/total", params, custom_total))
        calls.append((external, "/customCost/timeseries", params, custom_timeseries))
    calls.append(
        (
            external,
            "/customCost/total",
            {
                "window": "7d",
                "aggregate": "domain",
                "costType": "blended",
                "filter": 'domain:"AWS"',
                "sortBy": "cost",
                "sortDirection": "desc",
            },
            custom_total,
        )
    )
    fields = {
        "/allocation/autocomplete": (
            "cluster",
            "namespace",
            "node",
            "controllerKind",
            "controllerName",
            "pod",
            "container",
            "label:app",
        ),
        "/cloudCost/autocomplete": ("accountID", "invoiceEntityID", "provider", "service", "category"),
        "/assets/autocomplete": ("type", "cluster", "category", "providerID"),
    }
    for path, names in fields.items():
        for field in names:
            calls.append(
                ("report-filter-autocomplete.ts", path, {"window": "48h", "field": field, "limit": "25"}, suggestions)
            )
    calls.append(
        (
            "report-filter-autocomplete.ts",
            "/allocation/autocomplete",
            {"window": "7d", "field": "pod", "limit": "25", "search": "web", "filter": 'namespace:"checkout"'},
            suggestions,
        )
    )
    return calls


CALLS = _calls()


@pytest.fixture(scope="module")
def ui_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The app over the demo ledger with its bill, its clock half an hour after the ledger's last hour."""
    path = demo_ledger_at(tmp_path_factory.mktemp("ui-contract") / "demo.duckdb", bill=True)
    with Ledger.open(path, read_only=True) as ledger:
        last = ledger.fetch("SELECT max(hour) AS last FROM assets")["last"][0]
    now = last.replace(tzinfo=UTC) + timedelta(hours=1, minutes=30)
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d")
    with TestClient(create_app(path, clock=lambda: now), raise_server_exceptions=False) as client:
        yield client, yesterday


def _id(call: tuple[str, str, dict[str, str], Shape]) -> str:
    return (
        call[1]
        + "?"
        + "&".join(
            f"{k}={v}" for k, v in call[2].items() if k in ("window", "aggregate", "field", "accumulate", "costMetric")
        )
    )


@pytest.mark.parametrize("prefix", ["", "/model"])
def test_every_opencost_ui_call_answers_in_opencosts_shape(ui_client: tuple[TestClient, str], prefix: str) -> None:
    client, yesterday = ui_client
    failures = []
    for source, path, params, shape in CALLS:
        sent = {name: value.format(yesterday=yesterday) for name, value in params.items()}
        response = client.get(prefix + path, params=sent)
        if response.status_code != 200:
            failures.append(
                f"{source}: {_id((source, path, sent, shape))} → {response.status_code} {response.text[:200]}"
            )
            continue
        body = response.json()
        assert body["code"] == 200 and body["status"] == "success"
        try:
            shape(body["data"])
        except (AssertionError, KeyError, TypeError) as exc:
            failures.append(f"{source}: {_id((source, path, sent, shape))} → shape: {exc!r}"[:300])
    assert not failures, "\n".join(failures)


def test_the_table_covers_every_path_of_the_ui_client() -> None:
    """The paths of opencost-ui's services (allocation, assets, cloud-cost, cloud-cost-day-totals,
    external-costs, report-filter-autocomplete)."""
    paths = {path for _, path, _, _ in CALLS}
    assert paths == {
        "/allocation/compute",
        "/assets",
        "/cloudCost",
        "/cloudCost/view/table",
        "/cloudCost/view/totals",
        "/cloudCost/view/graph",
        "/cloudCost/status",
        "/customCost/total",
        "/customCost/timeseries",
        "/allocation/autocomplete",
        "/cloudCost/autocomplete",
        "/assets/autocomplete",
    }
