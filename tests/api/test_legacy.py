"""``/model/aggregatedCostModel``: Kubecost's legacy aggregation, checked against the ``/allocation`` query.

The ledger holds hours 00:00–03:00 of the ``small`` scenario and the clock is frozen at 03:30 (tests/api/conftest),
so ``window=3h`` is 01:00–04:00 and ``window=3h&offset=1h`` is the three hours in the ledger.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kubetally.api.errors import install_error_handlers
from kubetally.api.legacy import router
from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, run_allocation
from kubetally.query.filtering import parse_filter_param
from kubetally.query.legacy import AggregatedCostQuery, run_aggregated_cost
from tests.api.conftest import NOW, WINDOW

PATH = "/model/aggregatedCostModel"
LEGACY_FIELDS = {
    "aggregation",
    "subfields",
    "environment",
    "cluster",
    "cpuCost",
    "gpuCost",
    "ramCost",
    "pvCost",
    "networkCost",
    "loadBalancerCost",
    "sharedCost",
    "totalCost",
    "cpuEfficiency",
    "ramEfficiency",
    "efficiency",
}
"""opencost-compat §6 plus ``loadBalancerCost`` (so that the parts add up to ``totalCost``)."""


@dataclass
class LegacyState:
    """What the legacy handlers read from ``app.state.kubetally``."""

    ledger: Ledger
    clock: Callable[[], datetime]
    max_window_days: float = 400.0

    def reader(self) -> Ledger:
        return self.ledger


@contextmanager
def legacy_client(path: Path, now: datetime) -> Iterator[tuple[TestClient, Ledger]]:
    """A test client of the legacy router under ``/model``, and the ledger it reads."""
    with Ledger.open(path, read_only=True) as ledger:
        app = FastAPI()
        app.include_router(router, prefix="/model")
        app.state.kubetally = LegacyState(ledger, lambda: now)
        install_error_handlers(app)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, ledger


def allocation(ledger: Ledger, **params: str) -> dict[str, dict[str, Any]]:
    """The single set of an ``/allocation`` query over the ledger's three hours, from the query layer."""
    (result,) = run_allocation(ledger, AllocationQuery.from_params({"window": WINDOW, **params}, NOW))
    return result


def data(client: TestClient, path: str, **params: str) -> dict[str, dict[str, Any]]:
    """The ``data`` of a successful response, after checking the envelope."""
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"code", "status", "data"}
    assert (body["code"], body["status"]) == (200, "success")
    result: dict[str, dict[str, Any]] = body["data"]
    return result


def error(client: TestClient, path: str, **params: str) -> dict[str, Any]:
    """The body of a 400 response, after checking OpenCost's error envelope."""
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert (body["code"], body["status"]) == (400, "error")
    return body


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=2e-5)


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


def legacy(client: TestClient, **params: str) -> dict[str, dict[str, Any]]:
    return data(client, PATH, window=WINDOW, **params)


def test_shape_and_totals_equal_allocation_by_namespace(client: TestClient, ledger: Ledger) -> None:
    result = legacy(client, aggregation="namespace")
    expected = allocation(ledger, aggregate="namespace", includeIdle="false")
    assert set(result) == set(expected)
    assert {"data", "shop"} <= set(result)
    for name, entry in result.items():
        item = expected[name]
        assert set(entry) == LEGACY_FIELDS
        assert (entry["aggregation"], entry["subfields"], entry["environment"]) == ("namespace", "", name)
        assert entry["cluster"] == "small"
        assert entry["totalCost"] == item["totalCost"]
        assert close(entry["cpuCost"], item["cpuCost"] + item["cpuCostAdjustment"])
        assert close(entry["ramCost"], item["ramCost"] + item["ramCostAdjustment"])
        for legacy_field, field in (("pvCost", "pvCost"), ("networkCost", "networkCost"), ("sharedCost", "sharedCost")):
            assert entry[legacy_field] == item[field]
        assert (entry["cpuEfficiency"], entry["efficiency"]) == (item["cpuEfficiency"], item["totalEfficiency"])
        parts = ("cpuCost", "gpuCost", "ramCost", "pvCost", "networkCost", "loadBalancerCost", "sharedCost")
        assert close(sum(entry[part] for part in parts), entry["totalCost"])


def test_idle_is_hidden_unless_allocated(client: TestClient, ledger: Ledger) -> None:
    plain = legacy(client, aggregation="namespace")
    allocated = legacy(client, aggregation="namespace", allocateIdle="true")
    with_idle = allocation(ledger, aggregate="namespace")
    assert "__idle__" not in plain
    assert "__idle__" in with_idle
    assert "__idle__" not in allocated
    assert close(sum(e["totalCost"] for e in allocated.values()), sum(e["totalCost"] for e in with_idle.values()))
    assert allocated["shop"]["totalCost"] > plain["shop"]["totalCost"]
    shared_idle = allocation(ledger, aggregate="namespace", shareIdle="true")
    assert {name: e["totalCost"] for name, e in allocated.items()} == {
        name: e["totalCost"] for name, e in shared_idle.items()
    }


def test_allocate_idle_is_by_cost_even_when_shares_are_even(client: TestClient, ledger: Ledger) -> None:
    """``sharedSplit`` (default even) divides shared namespaces only; idle still follows cost."""
    alone = legacy(client, aggregation="label", aggregationSubfield="app", allocateIdle="true")
    shared = legacy(
        client, aggregation="label", aggregationSubfield="app", allocateIdle="true", sharedNamespaces="data"
    )
    weighted_idle = allocation(ledger, aggregate="label:app", shareIdle="true")
    assert {n: e["totalCost"] for n, e in alone.items()} == {n: e["totalCost"] for n, e in weighted_idle.items()}
    for name in ("web", "cache"):
        assert close(shared[name]["totalCost"] - shared[name]["sharedCost"], alone[name]["totalCost"])


@pytest.mark.parametrize("split", ["even", "weighted"])
def test_shared_namespaces(client: TestClient, split: str) -> None:
    base = legacy(client, aggregation="namespace")
    params = {"aggregation": "namespace", "sharedNamespaces": "data"}
    shared = legacy(client, **params, sharedSplit=split) if split == "weighted" else legacy(client, **params)
    assert "data" not in shared
    assert close(sum(e["totalCost"] for e in shared.values()), sum(e["totalCost"] for e in base.values()))
    receivers = {name: e for name, e in shared.items() if e["sharedCost"] > 0}
    assert "shop" in receivers
    assert len(receivers) >= 2
    if split == "even":
        assert len({round(e["sharedCost"], 4) for e in receivers.values()}) == 1
    else:
        ratios = {round(e["sharedCost"] / (e["totalCost"] - e["sharedCost"]), 3) for e in receivers.values()}
        assert len(ratios) == 1


def test_shared_labels_equal_allocation_share_labels(client: TestClient, ledger: Ledger) -> None:
    result = legacy(
        client,
        aggregation="namespace",
        sharedLabelNames="app,app",
        sharedLabelValues="db,batch",
        sharedSplit="weighted",
    )
    expected = allocation(ledger, aggregate="namespace", includeIdle="false", shareLabels="app:db,app:batch")
    assert {n: e["totalCost"] for n, e in result.items()} == {n: e["totalCost"] for n, e in expected.items()}
    assert {n: e["sharedCost"] for n, e in result.items()} == {n: e["sharedCost"] for n, e in expected.items()}
    assert result["shop"]["sharedCost"] > 0


def test_label_aggregation_with_subfield(client: TestClient, ledger: Ledger) -> None:
    result = legacy(client, aggregation="label", aggregationSubfield="app")
    expected = allocation(ledger, aggregate="label:app", includeIdle="false")
    assert {n: e["totalCost"] for n, e in result.items()} == {n: e["totalCost"] for n, e in expected.items()}
    assert {"web", "cache", "db"} <= set(result)
    assert {e["subfields"] for e in result.values()} == {"app"}
    assert {e["aggregation"] for e in result.values()} == {"label"}


@pytest.mark.parametrize("aggregation", ["cluster", "deployment", "service", "controller"])
def test_other_aggregations_equal_allocation(client: TestClient, ledger: Ledger, aggregation: str) -> None:
    result = legacy(client, aggregation=aggregation, disableCache="true")
    expected = allocation(ledger, aggregate=aggregation, includeIdle="false")
    assert {n: e["totalCost"] for n, e in result.items()} == {n: e["totalCost"] for n, e in expected.items()}


def test_offset_shifts_a_relative_window(client: TestClient) -> None:
    shifted = data(client, PATH, window="3h", offset="1h", aggregation="namespace")
    assert shifted == legacy(client, aggregation="namespace")
    unshifted = data(client, PATH, window="3h", aggregation="namespace")
    assert unshifted["shop"]["totalCost"] < shifted["shop"]["totalCost"]
    assert data(client, PATH, window="1h", aggregation="namespace") == {}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"aggregation": "namespace", "window": "3x"}, "window"),
        ({"aggregation": "planet", "window": "1d"}, "aggregation"),
        ({"aggregation": "label", "window": "1d"}, "aggregationSubfield"),
        ({"aggregation": "namespace", "aggregationSubfield": "app", "window": "1d"}, "aggregationSubfield"),
        ({"aggregation": "namespace", "window": "1d", "offset": "yesterday"}, "offset"),
        ({"aggregation": "namespace", "window": WINDOW, "offset": "1d"}, "offset"),
        ({"aggregation": "namespace", "window": "1d", "allocateIdle": "maybe"}, "allocateIdle"),
        ({"aggregation": "namespace", "window": "1d", "sharedSplit": "random"}, "sharedSplit"),
        ({"aggregation": "namespace", "window": "1d", "sharedSplit": "metric:cpu"}, "sharedSplit"),
        ({"aggregation": "namespace", "window": "1d", "disableCache": "nah"}, "disableCache"),
        ({"aggregation": "namespace", "window": "1000d"}, "window"),
        ({"window": "1d"}, "aggregation"),
        ({"aggregation": "namespace"}, "window"),
    ],
)
def test_bad_parameters(client: TestClient, params: dict[str, str], parameter: str) -> None:
    body = error(client, PATH, **params)
    assert body["message"].startswith(f"{parameter}: "), body["message"]
    assert body["error"]["parameter"] == parameter


def test_shared_label_lists_of_unequal_length(client: TestClient) -> None:
    body = error(
        client, PATH, window="1d", aggregation="namespace", sharedLabelNames="app,team", sharedLabelValues="db"
    )
    assert "sharedLabelNames" in body["message"]
    assert "sharedLabelValues" in body["message"]


def test_a_scope_filter_on_the_query_is_honoured(ledger: Ledger) -> None:
    """An allocation filter set on the translated query (as a tenancy scope would) shows only matching rows,
    each with the same cost as unfiltered."""
    query = AggregatedCostQuery.from_params(
        {"window": WINDOW, "aggregation": "namespace", "allocateIdle": "true", "sharedNamespaces": "data"}, NOW
    )
    whole = run_aggregated_cost(ledger, query)
    scoped_query = replace(
        query, allocation=replace(query.allocation, filter=parse_filter_param('namespace:"shop"', "filter"))
    )
    scoped = run_aggregated_cost(ledger, scoped_query)
    assert set(scoped) == {"shop"}
    assert scoped["shop"] == whole["shop"]
