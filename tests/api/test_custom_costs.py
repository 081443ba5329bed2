"""``/customCost/total`` and ``/customCost/timeseries``: the demo bill's rows that are not Kubernetes nodes or
disks, in OpenCost's shapes, checked against sums computed here from the bill rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator
from kubetally.ledger import Ledger
from tests.api.conftest import NOW, WINDOW
from tests.api.test_auth import ADMIN_TOKEN, CLUSTER_TOKEN, SHOP_TOKEN, bearer, settings
from tests.runner import demo_ledger_at


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame, str]:
    """The billed demo ledger, its bill rows outside Kubernetes, and a window holding every bill row."""
    db = demo_ledger_at(tmp_path_factory.mktemp("custom") / "demo.duckdb", bill=True)
    with Ledger.open(db, read_only=True) as ledger:
        bill = ledger.fetch("SELECT * FROM cloud_costs")
        nodes = ledger.fetch("SELECT DISTINCT provider_id FROM assets WHERE type IN ('Node', 'Disk')")

    def key(column: pl.Expr) -> pl.Expr:
        return column.str.to_lowercase().str.split("/").list.last().str.split(":").list.last()

    kubernetes = set(nodes.select(key(pl.col("provider_id"))).to_series().drop_nulls())
    outside = bill.filter(~key(pl.col("ResourceId")).is_in(list(kubernetes)) | pl.col("ResourceId").is_null())
    assert 0 < outside.height < bill.height, "the demo bill has rows outside and inside Kubernetes"
    start = bill.get_column("ChargePeriodStart").min().replace(hour=0, minute=0, second=0)  # type: ignore[union-attr]
    end = bill.get_column("ChargePeriodEnd").max().replace(hour=0, minute=0, second=0) + timedelta(days=1)  # type: ignore[union-attr]
    return db, outside, f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture(scope="module")
def billed_client(billed: tuple[Path, pl.DataFrame, str]) -> Iterator[TestClient]:
    with TestClient(create_app(billed[0]), raise_server_exceptions=False) as client:
        yield client


def total(client: TestClient, path: str, **params: str) -> dict[str, object]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200 and body["status"] == "success"
    data: dict[str, object] = body["data"]
    return data


@pytest.mark.parametrize("prefix", ["", "/model"])
def test_the_total_is_the_bill_outside_kubernetes(
    billed_client: TestClient, billed: tuple[Path, pl.DataFrame, str], prefix: str
) -> None:
    _, outside, window = billed
    billed_sum = float(outside.get_column("BilledCost").sum())
    blended = outside.select(
        pl.when(pl.col("BilledCost") > 0).then(pl.col("BilledCost")).otherwise(pl.col("ListCost")).sum()
    ).item()
    by_billed = total(billed_client, f"{prefix}/customCost/total", window=window, costType="billed")
    assert by_billed["totalCostType"] == "billed"
    assert by_billed["totalCost"] == pytest.approx(billed_sum, rel=1e-9)
    costs = by_billed["customCosts"]
    assert isinstance(costs, list) and len(costs) == outside.filter(pl.col("BilledCost") != 0).height
    assert sum(item["cost"] for item in costs) == pytest.approx(billed_sum, rel=1e-9)
    by_blended = total(billed_client, f"{prefix}/customCost/total", window=window)
    assert by_blended["totalCost"] == pytest.approx(blended, rel=1e-9)
    assert set(costs[0]) >= {"id", "zone", "account_name", "provider_id", "cost", "domain", "cost_type", "aggregate"}


def test_aggregates_sum_their_rows(billed_client: TestClient, billed: tuple[Path, pl.DataFrame, str]) -> None:
    _, outside, window = billed
    expected = {
        row["ServiceCategory"] or "__unallocated__": row["cost"]
        for row in outside.group_by("ServiceCategory")
        .agg(pl.col("BilledCost").sum().alias("cost"))
        .iter_rows(named=True)
    }
    data = total(billed_client, "/customCost/total", window=window, costType="billed", aggregate="costSource")
    got = {item["aggregate"]: item["cost"] for item in data["customCosts"]}  # type: ignore[attr-defined]
    assert got == pytest.approx({name: cost for name, cost in expected.items() if cost != 0}, rel=1e-9)
    ascending = total(billed_client, "/customCost/total", window=window, aggregate="costSource", sortDirection="asc")[
        "customCosts"
    ]
    values = [item["cost"] for item in ascending]  # type: ignore[attr-defined]
    assert values == sorted(values)


@pytest.mark.parametrize("prefix", ["", "/model"])
def test_the_timeseries_cuts_the_total_by_day(
    billed_client: TestClient, billed: tuple[Path, pl.DataFrame, str], prefix: str
) -> None:
    _, outside, window = billed
    data = total(billed_client, f"{prefix}/customCost/timeseries", window=window, costType="billed")
    series = data["timeseries"]
    assert isinstance(series, list) and len(series) > 1
    assert data["window"] == {"start": window.split(",")[0], "end": window.split(",")[1]}
    assert sum(point["totalCost"] for point in series) == pytest.approx(float(outside["BilledCost"].sum()), rel=1e-9)
    assert [point["window"]["end"] for point in series[:-1]] == [point["window"]["start"] for point in series[1:]]


def test_a_filter_narrows_to_its_rows(billed_client: TestClient, billed: tuple[Path, pl.DataFrame, str]) -> None:
    _, outside, window = billed
    category = outside.get_column("ServiceCategory").drop_nulls()[0]
    expected = float(outside.filter(pl.col("ServiceCategory") == category)["BilledCost"].sum())
    data = total(
        billed_client, "/customCost/total", window=window, costType="billed", filter=f'costSource:"{category}"'
    )
    assert data["totalCost"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("filter", "nosuchfield:1"),
        ("filter", 'domain:"unterminated'),
        ("aggregate", "namespace"),
        ("costType", "amortized"),
        ("sortBy", "price"),
        ("sortDirection", "sideways"),
    ],
)
def test_bad_parameters_are_400_naming_them(client: TestClient, name: str, value: str) -> None:
    for path in ("/customCost/total", "/model/customCost/timeseries"):
        response = client.get(path, params={"window": WINDOW, name: value})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["parameter"] == name


def test_a_missing_window_is_400(client: TestClient) -> None:
    response = client.get("/customCost/total")
    assert response.status_code == 400
    assert response.json()["error"]["parameter"] == "window"


def test_a_ledger_without_bills_answers_empty(client: TestClient) -> None:
    for prefix in ("", "/model"):
        data = total(client, f"{prefix}/customCost/total", window=WINDOW)
        assert data == {
            "window": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z"},
            "totalCost": 0,
            "totalCostType": "blended",
            "customCosts": [],
        }
        series = total(client, f"{prefix}/customCost/timeseries", window=WINDOW, aggregate="domain")
        assert [point["customCosts"] for point in series["timeseries"]] == [[]]  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["/customCost/total", "/model/customCost/timeseries"])
def test_only_unscoped_identities_read_custom_costs(small_ledger: Path, path: str) -> None:
    app = create_app(small_ledger, clock=lambda: NOW, auth=Authenticator.from_settings(settings()))
    with TestClient(app, raise_server_exceptions=False) as secured:
        params = {"window": WINDOW}
        assert secured.get(path, params=params).status_code == 401
        assert secured.get(path, params=params, headers=bearer(ADMIN_TOKEN)).status_code == 200
        for token in (SHOP_TOKEN, CLUSTER_TOKEN):
            response = secured.get(path, params=params, headers=bearer(token))
            assert response.status_code == 403
            assert "account-wide" in response.json()["message"]
