"""A corpus of hostile inputs, sent to every query endpoint of a real ``uvicorn`` server over one keep-alive
connection: each is answered 4xx in the error envelope (never a 5xx), and the next request on the same
connection still works."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from benchmarks.hostile import CORPUS, ENDPOINTS

from kubetally.api.app import create_app
from tests.api.conftest import NOW, WINDOW


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(small_ledger: Path) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(small_ledger, clock=lambda: NOW), port=port, log_level="critical")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(10)


def _cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for path, accepted in ENDPOINTS.items():
        for parameter, value, named in CORPUS:
            if parameter in accepted or parameter == "window":
                for prefix in ("", "/model"):
                    cases.append((prefix + path, parameter, value, named))
    return cases


@pytest.mark.parametrize(("path", "parameter", "value", "named"), _cases())
def test_hostile_value_is_refused_naming_the_parameter(
    server: str, path: str, parameter: str, value: str, named: str
) -> None:
    params = {"window": WINDOW, parameter: value}
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.get(path, params=params)
        assert response.status_code == 400, (response.status_code, response.text[:300])
        body = response.json()
        assert body["status"] == "error"
        assert body["error"]["parameter"] == named
        assert len(response.text) < 2000, "the error must not echo the whole input"
        follow = client.get("/allocation", params={"window": WINDOW, "aggregate": "namespace"})
        assert follow.status_code == 200


@pytest.mark.parametrize("path", ["/allocation", "/model/assets", "/costDataModel", "/model/aggregatedCostModel"])
def test_an_oversized_url_is_refused_with_414_and_the_connection_survives(server: str, path: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.get(path, params={"window": WINDOW, "filter": 'namespace:"' + "a" * 16_000 + '"'})
        assert response.status_code == 414
        assert response.json()["error"]["code"] == "uri_too_long"
        assert client.get("/allocation", params={"window": WINDOW}).status_code == 200


def test_a_filter_of_the_maximum_depth_is_still_answered(server: str) -> None:
    nested = "(" * 32 + 'namespace:"kube-system"' + ")" * 32
    response = httpx.get(f"{server}/allocation", params={"window": WINDOW, "filter": nested}, timeout=30)
    assert response.status_code == 200, response.text[:300]


def test_parentheses_inside_quoted_values_do_not_count_as_nesting(server: str) -> None:
    value = 'namespace:"' + "(" * 100 + '"'
    response = httpx.get(f"{server}/allocation", params={"window": WINDOW, "filter": value}, timeout=30)
    assert response.status_code == 200, response.text[:300]


def test_share_cost_at_the_bound_keeps_every_total_a_number(server: str) -> None:
    response = httpx.get(
        f"{server}/allocation",
        params={"window": WINDOW, "aggregate": "namespace", "shareCost": "1e12", "accumulate": "true"},
        timeout=30,
    )
    assert response.status_code == 200
    rows = response.json()["data"][0].values()
    assert all(isinstance(row["totalCost"], float) for row in rows)


AUTOCOMPLETE = ("/allocation/autocomplete", "/assets/autocomplete", "/cloudCost/autocomplete")


@pytest.mark.parametrize("path", [prefix + path for prefix in ("", "/model") for path in AUTOCOMPLETE])
@pytest.mark.parametrize(
    ("parameter", "value", "named"), [case for case in CORPUS if case[0] in ("filter", "window", "limit")]
)
def test_hostile_value_on_autocomplete_is_refused_naming_the_parameter(
    server: str, path: str, parameter: str, value: str, named: str
) -> None:
    field = "service" if "cloudCost" in path else "cluster"
    params = {"window": WINDOW, "field": field, parameter: value}
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.get(path, params=params)
        assert response.status_code == 400, (response.status_code, response.text[:300])
        assert response.json()["error"]["parameter"] == named
        assert client.get(path, params={"window": WINDOW, "field": field}).status_code == 200


WINDOWED = (
    ("/model/costDataModel", "timeWindow", {}),
    ("/model/aggregatedCostModel", "window", {"aggregation": "namespace"}),
    ("/clusters", "window", {}),
)
"""The endpoints whose window has its own name or whose other parameters are not in the corpus."""


@pytest.mark.parametrize(("path", "name", "base"), WINDOWED)
@pytest.mark.parametrize("value", [value for parameter, value, _ in CORPUS if parameter == "window"])
def test_hostile_window_on_legacy_and_fleet_endpoints_is_refused(
    server: str, path: str, name: str, base: dict[str, str], value: str
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.get(path, params={**base, name: value})
        assert response.status_code == 400, (response.status_code, response.text[:300])
        assert response.json()["error"]["parameter"] == name
        assert client.get(path, params={**base, name: "1d"}).status_code == 200


@pytest.mark.parametrize("path", ["/model/costDataModel", "/model/aggregatedCostModel"])
def test_a_hostile_offset_is_refused(server: str, path: str) -> None:
    params = {"timeWindow": "1d", "window": "1d", "aggregation": "namespace", "offset": "9" * 5000 + "d"}
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.get(path, params=params)
        assert response.status_code == 400, response.text[:300]
        assert response.json()["error"]["parameter"] == "offset"
        assert client.get(path, params={**params, "offset": "1d"}).status_code == 200
