"""``/cloudCost`` and its views over the billed ``small`` ledger; every expected figure is computed from the bill
frame with Polars, never by the code under test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator
from kubetally.query import cloud_views
from tests.api.conftest import NOW, WINDOW
from tests.api.test_auth import ADMIN_TOKEN, CLUSTER_TOKEN, SHOP_TOKEN, bearer, settings
from tests.cloud.conftest import INGESTED

METRICS = {
    "listCost": "ListCost",
    "netCost": "BilledCost",
    "amortizedNetCost": "EffectiveCost",
    "invoicedCost": "BilledCost",
    "amortizedCost": "EffectiveCost",
}
"""The documented FOCUS column of each OpenCost metric (docs/cloud-costs.md)."""

FIELDS = {
    "service": pl.col("ServiceName"),
    "category": pl.col("ServiceCategory"),
    "provider": pl.col("ProviderName"),
    "invoiceEntityID": pl.col("BillingAccountId"),
    "accountID": pl.coalesce("SubAccountId", "BillingAccountId"),
    "providerID": pl.col("ResourceId"),
    "regionID": pl.col("RegionId"),
}
DEFAULT = ("invoiceEntityID", "accountID", "provider", "providerID", "category", "service")
ISO = "%Y-%m-%dT%H:%M:%SZ"
PATHS = ("/cloudCost", "/cloudCost/view/graph", "/cloudCost/view/totals", "/cloudCost/view/table")


def data(client: TestClient, path: str, **params: str) -> Any:
    response = client.get(path, params={"window": WINDOW, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200 and body["status"] == "success"
    return body["data"]


def key_expr(names: tuple[str, ...]) -> pl.Expr:
    parts = [FIELDS[name].fill_null("__unallocated__") for name in names]
    return pl.concat_str(parts, separator="/").alias("name")


def oracle(frame: pl.DataFrame, names: tuple[str, ...], by: tuple[str, ...] = ()) -> dict[Any, dict[str, float]]:
    """Per key (and ``by`` columns): the sum of each FOCUS cost and of its Kubernetes part."""
    sums = []
    for column in ("ListCost", "BilledCost", "EffectiveCost"):
        sums += [pl.col(column).sum(), pl.col(column).filter(pl.col("kubernetes")).sum().alias(f"{column}_k8s")]
    grouped = frame.with_columns(key_expr(names)).group_by(*by, "name").agg(sums)
    return {
        (tuple(row[b] for b in by), row["name"]) if by else row["name"]: row for row in grouped.iter_rows(named=True)
    }


def assert_metrics(item: dict[str, Any], expected: dict[str, float]) -> None:
    for field, column in METRICS.items():
        total = expected[column]
        assert item[field]["cost"] == pytest.approx(total, abs=1e-5)
        share = expected[f"{column}_k8s"] / total if total else 0.0
        assert item[field]["kubernetesPercent"] == pytest.approx(share, abs=1e-5)


def test_accumulated_service_costs_match_the_bill(client: TestClient, bill_frame: pl.DataFrame) -> None:
    answer = data(client, "/cloudCost", aggregate="service", accumulate="true")
    (only,) = answer["sets"]
    assert only["aggregationProperties"] == ["service"]
    assert only["window"] == answer["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z"}
    expected = oracle(bill_frame, ("service",))
    assert set(only["cloudCosts"]) == set(expected)
    for name, item in only["cloudCosts"].items():
        assert_metrics(item, expected[name])
        assert item["properties"]["service"] == name


def test_default_key_and_hourly_sets(client: TestClient, bill_frame: pl.DataFrame) -> None:
    answer = data(client, "/cloudCost", accumulate="hour")
    hours = bill_frame.with_columns(pl.col("ChargePeriodStart").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("hour"))
    expected = oracle(hours, DEFAULT, ("hour",))
    assert [s["window"]["start"] for s in answer["sets"]] == sorted({h for (h,), _ in expected})
    for cloud_set in answer["sets"]:
        assert cloud_set["aggregationProperties"] == list(DEFAULT)
        hour = cloud_set["window"]["start"]
        assert set(cloud_set["cloudCosts"]) == {name for (h,), name in expected if h == hour}
        for name, item in cloud_set["cloudCosts"].items():
            assert_metrics(item, expected[((hour,), name)])
            assert item["window"] == cloud_set["window"]


def test_one_set_per_day_by_default(client: TestClient, bill_frame: pl.DataFrame) -> None:
    answer = data(client, "/cloudCost", window="2025-12-31T00:00:00Z,2026-01-02T00:00:00Z", aggregate="provider")
    assert [s["window"]["start"] for s in answer["sets"]] == ["2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z"]
    assert answer["sets"][0]["cloudCosts"] == {}
    assert_metrics(answer["sets"][1]["cloudCosts"]["AWS"], oracle(bill_frame, ("provider",))["AWS"])


def test_properties_are_those_common_to_an_items_rows(client: TestClient, bill_frame: pl.DataFrame) -> None:
    items = data(client, "/cloudCost", aggregate="SERVICE", accumulate="true")["sets"][0]["cloudCosts"]
    for name, item in items.items():
        rows = bill_frame.filter(pl.col("ServiceName") == name)
        for field, expr in FIELDS.items():
            values = rows.select(expr.alias("v"))["v"].unique().to_list()
            if len(values) == 1 and values[0] is not None:
                assert item["properties"][field] == values[0]
            else:
                assert field not in item["properties"]
        tags = [dict((t["key"], t["value"]) for t in tag_list) for tag_list in rows["Tags"].to_list()]
        common = {k: v for k, v in tags[0].items() if all(other.get(k) == v for other in tags)}
        assert item["properties"]["labels"] == common


def test_label_aggregation_and_filters(client: TestClient, bill_frame: pl.DataFrame) -> None:
    team = pl.col("Tags").list.eval(pl.element().filter(pl.element().struct.field("key") == "team")).list.first()
    tagged = bill_frame.with_columns(team.struct.field("value").alias("team"))
    items = data(client, "/cloudCost", aggregate="label:team", accumulate="true")["sets"][0]["cloudCosts"]
    expected = tagged.group_by(pl.col("team").fill_null("__unallocated__")).agg(pl.col("EffectiveCost").sum())
    assert {name: item["amortizedNetCost"]["cost"] for name, item in items.items()} == pytest.approx(
        dict(expected.iter_rows())
    )
    filtered = data(
        client, "/cloudCost", aggregate="service", accumulate="true", filter='label[env]:"prod"+region:"us-east-1"'
    )["sets"][0]["cloudCosts"]
    prod = bill_frame.filter(
        pl.col("Tags")
        .list.eval((pl.element().struct.field("key") == "env") & (pl.element().struct.field("value") == "prod"))
        .list.any()
        & (pl.col("RegionId") == "us-east-1")
    )
    assert set(filtered) == set(prod["ServiceName"].unique())


def test_totals_table_and_graph_views(
    client: TestClient, bill_frame: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = oracle(bill_frame, ("service",))
    totals = data(client, "/cloudCost/view/totals", aggregate="service", costMetric="listcost")
    listed = float(bill_frame["ListCost"].sum())
    kubernetes = float(bill_frame.filter(pl.col("kubernetes"))["ListCost"].sum())
    assert totals["numResults"] == len(expected)
    assert totals["combined"]["name"] == "Totals"
    assert totals["combined"]["cost"] == pytest.approx(listed, abs=1e-5)
    assert totals["combined"]["kubernetesPercent"] == pytest.approx(kubernetes / listed, abs=1e-5)

    table = data(client, "/cloudCost/view/table", aggregate="service", costMetric="NetCost")
    by_cost = sorted(expected, key=lambda name: -expected[name]["BilledCost"])
    assert [row["name"] for row in table] == by_cost
    for row in table:
        assert row["cost"] == pytest.approx(expected[row["name"]]["BilledCost"], abs=1e-5)
    page = data(
        client, "/cloudCost/view/table", aggregate="service", sortBy="name", sortByOrder="asc", limit="2", offset="1"
    )
    assert [row["name"] for row in page] == sorted(expected)[1:3]

    monkeypatch.setattr(cloud_views, "CHART_ITEMS", 3)
    graph = data(client, "/cloudCost/view/graph", aggregate="service", accumulate="hour")
    hours = bill_frame.with_columns(pl.col("ChargePeriodStart").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("hour"))
    per_hour = oracle(hours, ("service",), ("hour",))
    for graph_set in graph:
        values = sorted(
            (row["EffectiveCost"] for ((h,), _), row in per_hour.items() if h == graph_set["start"]), reverse=True
        )
        assert [item["value"] for item in graph_set["items"]] == pytest.approx([*values[:2], sum(values[2:])])
        assert graph_set["items"][-1]["name"] == "Other"


def test_csv_table(client: TestClient, bill_frame: pl.DataFrame) -> None:
    response = client.get("/cloudCost/view/table", params={"window": WINDOW, "aggregate": "category", "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().split("\n")
    assert lines[0] == "Name,K8s Utilization,Total,Window"
    expected = bill_frame.group_by("ServiceCategory").agg(pl.col("EffectiveCost").sum())
    assert {line.split(",")[0]: float(line.split(",")[2]) for line in lines[1:]} == pytest.approx(
        dict(expected.iter_rows()), abs=1e-3
    )


def test_status_per_source(client: TestClient, bill_frame: pl.DataFrame) -> None:
    (status,) = data(client, "/cloudCost/status")
    assert status["source"] == bill_frame["source"][0]
    assert status["rows"] == bill_frame.height
    assert status["providers"] == ["AWS"]
    assert status["firstChargePeriodStart"] == bill_frame["ChargePeriodStart"].dt.strftime(ISO).min()
    assert status["lastChargePeriodEnd"] == bill_frame["ChargePeriodEnd"].dt.strftime(ISO).max()
    assert status["lastIngest"] == INGESTED.strftime(ISO)


def test_model_prefix_answers_the_same(client: TestClient) -> None:
    for path in PATHS:
        assert data(client, "/model" + path, aggregate="service") == data(client, path, aggregate="service")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "window"),
        ({"window": "soon"}, "window"),
        ({"aggregate": "colour"}, "aggregate"),
        ({"aggregate": "label:"}, "aggregate"),
        ({"accumulate": "fortnight"}, "accumulate"),
        ({"filter": 'colour:"red"'}, "filter"),
        ({"costMetric": "cheapest"}, "costMetric"),
        ({"sortBy": "colour"}, "sortBy"),
        ({"sortByOrder": "sideways"}, "sortByOrder"),
        ({"limit": "-1"}, "limit"),
    ],
)
def test_bad_parameters_are_named(client: TestClient, params: dict[str, str], parameter: str) -> None:
    query = {"window": WINDOW, **params} if "window" not in params and params else params
    for path in PATHS:
        response = client.get(path, params=query)
        assert response.status_code == 400, (path, response.text)
        body = response.json()
        assert body["status"] == "error" and body["code"] == 400
        assert body["error"]["parameter"] == parameter
        assert body["message"].startswith(f"{parameter}:")


def test_empty_ledger(plain_ledger: Path) -> None:
    with TestClient(create_app(plain_ledger, clock=lambda: NOW)) as empty:
        assert data(empty, "/cloudCost")["sets"][0]["cloudCosts"] == {}
        assert data(empty, "/cloudCost/view/totals") is None
        assert data(empty, "/cloudCost/view/table") == []
        assert data(empty, "/cloudCost/view/graph") == []
        assert data(empty, "/cloudCost/status") == []


@pytest.fixture(scope="module")
def secured(billed_ledger: tuple[Path, pl.DataFrame]) -> Iterator[TestClient]:
    app = create_app(billed_ledger[0], clock=lambda: NOW, auth=Authenticator.from_settings(settings()))
    with TestClient(app, raise_server_exceptions=False) as secured_client:
        yield secured_client


@pytest.mark.parametrize("path", [*PATHS, "/cloudCost/status", "/model/cloudCost"])
def test_only_unscoped_identities_read_cloud_bills(secured: TestClient, path: str) -> None:
    params = {"window": WINDOW}
    assert secured.get(path, params=params).status_code == 401
    assert secured.get(path, params=params, headers=bearer(ADMIN_TOKEN)).status_code == 200
    for token in (SHOP_TOKEN, CLUSTER_TOKEN):
        response = secured.get(path, params=params, headers=bearer(token))
        assert response.status_code == 403
        assert "account-wide" in response.json()["message"]
