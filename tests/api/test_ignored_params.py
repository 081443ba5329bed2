"""Parameters a route does not use (OpenCost's ``metrics=``, anything else) are ignored and named in ``warning``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import WINDOW

ROUTES = (
    ("/allocation", {"aggregate": "namespace", "accumulate": "true"}),
    ("/allocation/compute", {"aggregate": "namespace", "accumulate": "true"}),
    ("/allocation/summary", {"aggregate": "namespace"}),
    ("/allocation/compute/summary", {"aggregate": "namespace"}),
    ("/assets", {"accumulate": "true"}),
    ("/cloudCost", {}),
    ("/cloudCost/view/graph", {}),
    ("/cloudCost/view/totals", {}),
    ("/cloudCost/view/table", {}),
    ("/customCost/total", {"aggregate": "domain"}),
    ("/customCost/timeseries", {}),
)
EXTRA = {"metrics": "x", "foo": "1"}


@pytest.mark.parametrize("prefix", ["", "/model"])
@pytest.mark.parametrize(("path", "params"), ROUTES)
def test_unknown_parameters_change_nothing_and_are_named(
    client: TestClient, prefix: str, path: str, params: dict[str, str]
) -> None:
    base = {"window": WINDOW, **params}
    plain = client.get(prefix + path, params=base)
    extra = client.get(prefix + path, params={**base, **EXTRA})
    assert plain.status_code == 200, plain.text
    assert extra.status_code == 200, extra.text
    assert "warning" not in plain.json()
    body = extra.json()
    warning = body.pop("warning")
    assert body == plain.json()
    for name in EXTRA:
        assert name in warning


def test_known_parameters_are_not_named(client: TestClient) -> None:
    params = {"window": WINDOW, "aggregate": "namespace", "accumulate": "true", "includeIdle": "false", "foo": "1"}
    warning = client.get("/allocation", params=params).json()["warning"]
    assert "foo" in warning
    assert all(known not in warning for known in ("window", "aggregate", "accumulate", "includeIdle"))


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("/allocation", "aggregate", "nosuchkey"),
        ("/allocation", "accumulate", "fortnight"),
        ("/assets", "filter", "nosuchfield:1"),
        ("/cloudCost", "costMetric", "nosuchmetric"),
    ],
)
def test_known_parameters_with_invalid_values_stay_400(client: TestClient, path: str, name: str, value: str) -> None:
    response = client.get(path, params={"window": WINDOW, name: value, **EXTRA})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["parameter"] == name
