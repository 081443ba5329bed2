"""Every error in OpenCost's envelope: bad parameters on every route, unknown paths and methods, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.errors import InvalidAggregate, InvalidFilter, InvalidParameter, InvalidWindow
from kubetally.query import cache as cache_module
from tests.api.conftest import NOW, WINDOW

ROUTES = [
    prefix + path
    for prefix in ("", "/model")
    for path in ("/allocation", "/allocation/compute", "/allocation/summary", "/allocation/compute/summary", "/assets")
]
ALLOCATION_ROUTES = [route for route in ROUTES if not route.endswith("/assets")]

COMMON_BAD = [
    ({}, "window"),
    ({"window": ""}, "window"),
    ({"window": "7 parsecs"}, "window"),
    ({"window": "2026-01-02T00:00:00Z,2026-01-01T00:00:00Z"}, "window"),
    ({"window": "1000d"}, "window"),
    ({"window": WINDOW, "aggregate": "colour"}, "aggregate"),
    ({"window": WINDOW, "filter": 'namespace:"shop'}, "filter"),
    ({"window": WINDOW, "step": "fortnightly"}, "step"),
    ({"window": WINDOW, "step": "0h"}, "step"),
    ({"window": WINDOW, "accumulate": "sometimes"}, "accumulate"),
    ({"window": WINDOW, "accumulateBy": "sometimes"}, "accumulateBy"),
]
ALLOCATION_BAD = [
    ({"window": WINDOW, "includeIdle": "maybe"}, "includeIdle"),
    ({"window": WINDOW, "idle": "maybe"}, "idle"),
    ({"window": WINDOW, "shareIdle": "maybe"}, "shareIdle"),
    ({"window": WINDOW, "idleByNode": "2"}, "idleByNode"),
    ({"window": WINDOW, "splitIdle": "yesno"}, "splitIdle"),
    ({"window": WINDOW, "shareLabels": "app"}, "shareLabels"),
    ({"window": WINDOW, "shareFilter": "nosuchfield:x"}, "shareFilter"),
    ({"window": WINDOW, "shareCost": "lots"}, "shareCost"),
    ({"window": WINDOW, "shareCost": "-1"}, "shareCost"),
    ({"window": WINDOW, "shareSplit": "metric:foo"}, "shareSplit"),
    ({"window": WINDOW, "shareTenancyCosts": "perhaps"}, "shareTenancyCosts"),
    ({"window": WINDOW, "includeAggregatedMetadata": "perhaps"}, "includeAggregatedMetadata"),
    ({"window": WINDOW, "aggregate": "label:"}, "aggregate"),
]


def assert_error(response: Any, status: int, code: str | set[str]) -> dict[str, Any]:
    """Check OpenCost's error envelope (plus kubetally's ``error`` object) and return the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "status", "message", "error"}
    assert body["code"] == status and body["status"] == "error"
    assert body["error"]["code"] in ({code} if isinstance(code, str) else code)
    assert body["error"]["message"] == body["message"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("params", "parameter"), COMMON_BAD)
def test_bad_parameters_on_every_route(client: TestClient, route: str, params: dict[str, str], parameter: str) -> None:
    body = assert_error(client.get(route, params=params), 400, body_code(parameter))
    assert body["message"].startswith(f"{parameter}: ")
    assert body["error"]["parameter"] == parameter


@pytest.mark.parametrize("route", ALLOCATION_ROUTES)
@pytest.mark.parametrize(("params", "parameter"), ALLOCATION_BAD)
def test_bad_allocation_parameters_on_every_route(
    client: TestClient, route: str, params: dict[str, str], parameter: str
) -> None:
    body = assert_error(client.get(route, params=params), 400, body_code(parameter))
    assert body["message"].startswith(f"{parameter}: ") and body["error"]["parameter"] == parameter


def body_code(_parameter: str) -> set[str]:
    """The machine codes of a bad parameter: InvalidParameter's or one of its subclasses'."""
    return {cls.code for cls in (InvalidParameter, InvalidWindow, InvalidFilter, InvalidAggregate)}


def test_allocation_aggregates_are_refused_on_assets(client: TestClient) -> None:
    body = assert_error(
        client.get("/assets", params={"window": WINDOW, "aggregate": "namespace"}), 400, "invalid_parameter"
    )
    assert "namespace" in body["message"] and body["error"]["parameter"] == "aggregate"


def test_the_maximum_window_is_configurable(small_ledger: Path) -> None:
    with TestClient(create_app(small_ledger, clock=lambda: NOW, max_window_days=1)) as client:
        assert client.get("/allocation", params={"window": "24h"}).status_code == 200
        body = assert_error(client.get("/assets", params={"window": "2d"}), 400, "invalid_window")
        assert "at most 1 days" in body["message"]


def test_unknown_path_and_wrong_method(client: TestClient) -> None:
    body = assert_error(client.get("/model/nothing-here"), 404, "not_found")
    assert "/model/nothing-here" in body["message"]
    response = client.post("/allocation", params={"window": WINDOW})
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


def test_an_unexpected_failure_is_a_500_without_details(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(cache_module, "run_allocation", broken)
    client.app.state.kubetally.cache.clear()  # type: ignore[attr-defined]  # an earlier answer must not hide it
    response = client.get("/allocation/summary", params={"window": WINDOW})
    body = assert_error(response, 500, "internal")
    assert "secret" not in response.text
    assert body["message"]
    assert any("secret internals" in str(record.exc_info) for record in caplog.records)


def test_a_missing_ledger_is_503_in_the_envelope(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "absent.duckdb", clock=lambda: NOW)) as client:
        for route in ("/allocation", "/model/assets", "/allocation/summary"):
            body = assert_error(client.get(route, params={"window": WINDOW}), 503, "ledger_unavailable")
            assert "absent.duckdb" in body["message"]


def test_a_bad_maximum_window_is_refused(small_ledger: Path) -> None:
    with pytest.raises(InvalidParameter, match="max_window_days"):
        create_app(small_ledger, max_window_days=0)
