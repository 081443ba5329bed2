"""The autocomplete endpoints over the ``small`` ledger (namespaces ``shop`` and ``data``, nodes ``node-a`` and
``node-b``): the values, ``search``, ``limit``, the refusals and scoping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator
from tests.api.conftest import NOW, WINDOW
from tests.api.test_auth import ADMIN_TOKEN, SHOP_TOKEN, bearer, settings


def values(client: TestClient, path: str, **params: str) -> list[str]:
    response = client.get(path, params={"window": WINDOW, **params})
    assert response.status_code == 200, response.text
    data: list[str] = response.json()["data"]["data"]
    return data


@pytest.mark.parametrize("prefix", ["", "/model"])
def test_allocation_values_are_the_fields_values_sorted(client: TestClient, prefix: str) -> None:
    path = prefix + "/allocation/autocomplete"
    assert values(client, path, field="namespace") == ["data", "shop"]
    assert values(client, path, field="Node") == ["node-a", "node-b"]
    assert values(client, path, field="namespace", search="SH") == ["shop"]
    assert values(client, path, field="namespace", limit="1") == ["data"]
    assert values(client, path, field="namespace", filter='namespace:"shop"') == ["shop"]


def test_asset_values_leave_out_special_names(client: TestClient) -> None:
    assert values(client, "/assets/autocomplete", field="assetType") == sorted(
        client.get("/assets", params={"window": WINDOW, "aggregate": "type", "accumulate": "true"}).json()["data"]
    )
    assert values(client, "/assets/autocomplete", field="provider") == []


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/allocation/autocomplete", {}, "field"),
        ("/allocation/autocomplete", {"field": "nosuch"}, "field"),
        ("/assets/autocomplete", {"field": "label:"}, "field"),
        ("/cloudCost/autocomplete", {"field": "nosuch"}, "field"),
        ("/allocation/autocomplete", {"field": "pod", "limit": "1001"}, "limit"),
        ("/allocation/autocomplete", {"field": "pod", "limit": "-1"}, "limit"),
        ("/allocation/autocomplete", {"field": "pod", "filter": "nosuch:1"}, "filter"),
    ],
)
def test_bad_requests_are_refused_naming_the_parameter(
    client: TestClient, path: str, params: dict[str, str], named: str
) -> None:
    response = client.get(path, params={"window": WINDOW, **params})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["parameter"] == named


@pytest.fixture(scope="module")
def secured(small_ledger: Path) -> Iterator[TestClient]:
    app = create_app(small_ledger, clock=lambda: NOW, auth=Authenticator.from_settings(settings()))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_scoped_identity_is_offered_only_its_own_values(secured: TestClient) -> None:
    params = {"window": WINDOW, "field": "namespace"}
    shop = secured.get("/allocation/autocomplete", params=params, headers=bearer(SHOP_TOKEN))
    assert shop.json()["data"]["data"] == ["shop"]
    admin = secured.get("/allocation/autocomplete", params=params, headers=bearer(ADMIN_TOKEN))
    assert admin.json()["data"]["data"] == ["data", "shop"]
    for path in ("/assets/autocomplete", "/cloudCost/autocomplete"):
        refused = secured.get(path, params={"window": WINDOW, "field": "cluster"}, headers=bearer(SHOP_TOKEN))
        assert refused.status_code == 403, refused.text
