"""Schemathesis fuzzes every operation of the OpenAPI schema against the app, with every check on.

Schema-valid (positive) and schema-invalid (negative) cases are generated for every operation; every response
must pass every schemathesis check: no 5xx, only declared status codes and content types, bodies matching the
declared schemas (the error envelope on every 4xx), schema-valid requests accepted, schema-invalid ones refused.
Positive cases draw each parameter from its ``kubetally-<kind>`` format (:mod:`tests.api.fuzz_formats`);
negative ones violate the declared patterns, lengths and types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from kubetally.api.app import create_app
from tests.api.conftest import NOW, WINDOW
from tests.api.fuzz_formats import register as register_formats

OPERATIONS = [
    prefix + path
    for prefix in ("", "/model")
    for path in (
        "/allocation",
        "/allocation/compute",
        "/allocation/summary",
        "/allocation/compute/summary",
        "/allocation/autocomplete",
        "/assets",
        "/assets/autocomplete",
        "/cloudCost/autocomplete",
        "/cloudCost",
        "/cloudCost/view/graph",
        "/cloudCost/view/totals",
        "/cloudCost/view/table",
        "/cloudCost/status",
        "/customCost/total",
        "/customCost/timeseries",
        "/focus",
        "/reconciliation",
    )
] + [
    "/model/costDataModel",
    "/model/aggregatedCostModel",
    "/version",
    "/healthz",
    "/readyz",
    "/metrics",
    "/clusters",
    "/ledger/backup",
    "/session",
]


@pytest.fixture(scope="module")
def api_schema(small_ledger: Path) -> Iterator[Any]:
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(small_ledger, clock=lambda: NOW))


def test_the_schema_lists_every_operation(api_schema: Any) -> None:
    listed = {result.ok().path for result in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize("path", OPERATIONS)
def test_no_input_gives_a_server_error(api_schema: Any, path: str) -> None:
    assert_no_server_error(api_schema[path]["GET"], max_examples=12)


load_all_checks()
register_formats()
CHECKS_ON = list(CHECKS.get_all())
"""Every schemathesis check."""


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_session_sign_in_and_out_pass_every_check(api_schema: Any, method: str) -> None:
    assert_no_server_error(api_schema["/session"][method], max_examples=5)


def assert_no_server_error(operation: Any, max_examples: int) -> None:
    """Generated requests of ``operation`` (valid ones, and invalid ones when it has parameters) pass every check
    of :data:`CHECKS_ON`, never get a 5xx, and every 4xx is the error envelope."""
    modes = [GenerationMode.POSITIVE]
    if operation.definition.raw.get("parameters"):
        modes.append(GenerationMode.NEGATIVE)
    for mode in modes:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case: Any) -> None:
            response = case.call_and_validate(checks=CHECKS_ON)
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                body = response.json()
                assert body["status"] == "error" and body["code"] == response.status_code
                assert body["message"] and "Traceback" not in response.text

        check()


PARAMETER_VALUES: dict[str, list[str]] = {
    "window": ["today", "3h", "1h offset 1h", "2026-01-01T00:00:00Z,2026-01-01T03:00:00Z", "1767225600,1767236400"],
    "aggregate": ["", "namespace", "cluster,node", "label:app", "controller", "pod,container", "all", "team", "x"],
    "step": ["", "1h", "2h", "hour", "day", "week", "0h"],
    "accumulate": ["", "true", "false", "hour", "day", "month", "nope"],
    "filter": ["", 'namespace:"shop"', 'label[app]:"web"', "label:app:db", 'pod<~:"web"', 'node!:"node-a"', "bad"],
    "includeIdle": ["", "true", "false"],
    "idle": ["", "hide", "separate", "share"],
    "shareIdle": ["", "true", "false"],
    "idleByNode": ["", "true", "false"],
    "splitIdle": ["", "true", "false"],
    "shareNamespaces": ["", "data", "shop,data", "kube-system"],
    "shareLabels": ["", "app:db", "team:platform,app:web"],
    "shareCost": ["", "0", "730", "12.5"],
    "shareSplit": ["", "even", "weighted", "metric:cpu", "metric:network"],
    "shareTenancyCosts": ["", "true"],
}


@pytest.mark.parametrize("route", ["/allocation", "/model/allocation/summary"])
def test_combinations_of_parameters_answer_or_refuse(small_ledger: Path, route: str) -> None:
    """Random combinations of real parameter values: each is a 200 in the envelope or a 400 naming a parameter."""
    combos = st.fixed_dictionaries({}, optional={name: st.sampled_from(v) for name, v in PARAMETER_VALUES.items()})
    with TestClient(create_app(small_ledger, clock=lambda: NOW), raise_server_exceptions=False) as client:

        @given(params=combos)
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(params: dict[str, str]) -> None:
            response = client.get(route, params=params)
            body = response.json()
            assert response.status_code in (200, 400), response.text
            if response.status_code == 200:
                assert body["status"] == "success" and body["code"] == 200
            else:
                assert body["error"]["parameter"] in PARAMETER_VALUES

        check()


def test_the_cloud_table_refuses_an_unknown_format(small_ledger: Path) -> None:
    with TestClient(create_app(small_ledger, clock=lambda: NOW)) as client:
        response = client.get("/cloudCost/view/table", params={"window": WINDOW, "format": "150"})
    assert response.status_code == 400
    assert response.json()["error"]["parameter"] == "format"
