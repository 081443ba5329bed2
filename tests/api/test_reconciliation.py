"""``GET /reconciliation``: estimate versus bill per node and disk, checked against the ledger's own tables.

The oracle matches bill rows with assets by the last ``/`` segment of ``ResourceId`` and of the provider ID
(Polars over ``cloud_costs`` and ``assets``), independently of :mod:`kubetally.focus.reconcile`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator
from kubetally.focus.reconcile import reconcile
from kubetally.ledger import Ledger
from kubetally.ledger.adjustments import ALLOCATION_ADJUSTMENTS, ASSET_ADJUSTMENTS
from tests.api.test_auth import ADMIN_TOKEN, CLUSTER_TOKEN, SHOP_TOKEN, assert_envelope, bearer, settings
from tests.runner import demo_ledger_at

HOUR = timedelta(hours=1)
ASSET = ["cluster", "type", "name"]


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo ledger with its simulated AWS bill ingested and reconciled."""
    return demo_ledger_at(tmp_path_factory.mktemp("reconciliation") / "billed.duckdb", bill=True)


@pytest.fixture(scope="module")
def window(billed: Path) -> str:
    """A window holding every charge period of the bill, a day either side."""
    with Ledger.open(billed, read_only=True) as ledger:
        first, last = ledger.fetch('SELECT min("ChargePeriodStart"), max("ChargePeriodEnd") FROM cloud_costs').row(0)
    day = timedelta(days=1)
    return f"{(first - day):%Y-%m-%dT%H:%M:%SZ},{(last + day):%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture(scope="module")
def client(billed: Path) -> Iterator[TestClient]:
    with TestClient(create_app(billed), raise_server_exceptions=False) as test_client:
        yield test_client


def _key(column: str) -> pl.Expr:
    return pl.col(column).str.split("/").list.last().str.to_lowercase()


def oracle(ledger: Ledger, cost_column: str) -> tuple[pl.DataFrame, float]:
    """Per billed node and disk: its billed hours, Σ estimate (``total_cost − adjustment``) of those hours and Σ
    bill rows matching it; and the cost of the compute and storage rows matching no asset hour."""
    bills = (
        ledger.fetch(
            f'SELECT "ResourceId" AS resource_id, lower(coalesce("ServiceCategory", \'compute\')) AS category, '
            f'"ChargePeriodStart" AS charge_start, "ChargePeriodEnd" AS charge_end, "{cost_column}" AS cost '
            "FROM cloud_costs"
        )
        .filter(pl.col("category").is_in(["compute", "storage"]))
        .with_row_index("bill")
        .with_columns(
            key=_key("resource_id"),
            type=pl.when(pl.col("category") == "storage").then(pl.lit("Disk")).otherwise(pl.lit("Node")),
        )
    )
    assets = ledger.fetch(
        "SELECT cluster, type, name, provider_id, hour, total_cost - adjustment AS estimate FROM assets "
        "WHERE type IN ('Node', 'Disk') AND provider_id IS NOT NULL"
    ).with_columns(key=_key("provider_id"))
    pairs = assets.join(bills, on=["type", "key"]).filter(
        (pl.col("hour") < pl.col("charge_end")) & (pl.col("hour") + HOUR > pl.col("charge_start"))
    )
    hours = pairs.unique([*ASSET, "hour"]).group_by(ASSET).agg(pl.len().alias("hours"), pl.col("estimate").sum())
    billed = pairs.unique([*ASSET, "bill"]).group_by(ASSET).agg(bill=pl.col("cost").sum())
    unmatched = float(bills.join(pairs.select("bill").unique(), on="bill", how="anti").get_column("cost").sum())
    return hours.join(billed, on=ASSET).sort(ASSET), unmatched


def test_totals_and_assets_equal_the_oracle(client: TestClient, billed: Path, window: str) -> None:
    response = client.get("/reconciliation", params={"window": window})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    with Ledger.open(billed, read_only=True) as ledger:
        expected, unmatched = oracle(ledger, "EffectiveCost")
    assert data["basis"] == "effective"
    assert expected.height > 0 and len(data["assets"]) == expected.height
    got = pl.DataFrame(data["assets"]).sort(ASSET)
    assert got.select(*ASSET, "hours").rows() == expected.select(*ASSET, "hours").rows()
    for column in ("estimate", "bill"):
        assert got.get_column(column).to_list() == pytest.approx(expected.get_column(column).to_list(), rel=1e-9)
    totals = data["totals"]
    estimate, bill = float(expected["estimate"].sum()), float(expected["bill"].sum())
    assert totals["estimate"] == pytest.approx(estimate, rel=1e-9)
    assert totals["bill"] == pytest.approx(bill, rel=1e-9)
    assert totals["difference"] == pytest.approx(bill - estimate, rel=1e-9, abs=1e-9)
    assert totals["unmatchedCost"] == pytest.approx(unmatched, rel=1e-9)
    assert sum(row["cost"] for row in data["unmatched"]) == pytest.approx(unmatched, rel=1e-9)
    for row in data["assets"]:
        assert row["difference"] == pytest.approx(row["bill"] - row["estimate"], abs=1e-9)
        assert row["differencePercent"] == pytest.approx(row["difference"] / row["estimate"] * 100, rel=1e-9)


def test_the_billed_basis_reads_billed_cost(client: TestClient, billed: Path, window: str) -> None:
    data = client.get("/reconciliation", params={"window": window, "basis": "Billed"}).json()["data"]
    with Ledger.open(billed, read_only=True) as ledger:
        expected, unmatched = oracle(ledger, "BilledCost")
    assert data["basis"] == "billed"
    assert data["totals"]["bill"] == pytest.approx(float(expected["bill"].sum()), rel=1e-9)
    assert data["totals"]["unmatchedCost"] == pytest.approx(unmatched, rel=1e-9)


def test_the_model_prefix_answers_the_same(client: TestClient, window: str) -> None:
    plain = client.get("/reconciliation", params={"window": window})
    model = client.get("/model/reconciliation", params={"window": window})
    assert model.status_code == 200 and model.json() == plain.json()


def test_a_window_without_bill_rows_has_an_empty_report(client: TestClient) -> None:
    data = client.get("/reconciliation", params={"window": "2020-01-01T00:00:00Z,2020-01-02T00:00:00Z"}).json()["data"]
    assert data["window"] == {"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}
    assert (data["assets"], data["unmatched"]) == ([], [])
    assert data["totals"] == {"estimate": 0.0, "bill": 0.0, "difference": 0.0, "unmatchedCost": 0.0}


def _rows(ledger: Ledger) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    allocations = ledger.fetch("SELECT * FROM allocations ORDER BY ALL").rows()
    assets = ledger.fetch("SELECT * FROM assets ORDER BY ALL").rows()
    return allocations, assets, ledger.generation


def test_the_dry_run_leaves_a_writable_ledger_unchanged(billed: Path, tmp_path: Path, window: str) -> None:
    path = tmp_path / "pending.duckdb"
    shutil.copyfile(billed, path)
    with Ledger.open(path) as ledger:
        first, last = ledger.fetch("SELECT min(hour), max(hour) FROM assets").row(0)
        ledger.apply_bill_adjustments(
            pl.DataFrame(schema=ALLOCATION_ADJUSTMENTS),
            pl.DataFrame(schema=ASSET_ADJUSTMENTS),
            start=first,
            end=last + HOUR,
        )
        before = _rows(ledger)
        app = create_app(path)
        app.state.kubetally.ledger = ledger
        with TestClient(app, raise_server_exceptions=False) as pending:
            response = pending.get("/reconciliation", params={"window": window})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["totals"]["difference"] != 0.0
        assert _rows(ledger) == before
        applied = reconcile(ledger, first, last + HOUR)
        assert applied.applied is not None and applied.applied.assets_changed > 0
        assert _rows(ledger) != before


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "window"),
        ({"window": "fortnight"}, "window"),
        ({"window": "1000d"}, "window"),
        ({"window": "7d", "basis": "list"}, "basis"),
    ],
)
def test_bad_parameters_are_400_naming_them(client: TestClient, params: dict[str, str], parameter: str) -> None:
    response = client.get("/reconciliation", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["parameter"] == parameter


@pytest.fixture(scope="module")
def secured(billed: Path) -> Iterator[TestClient]:
    app = create_app(billed, auth=Authenticator.from_settings(settings()))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("prefix", ["", "/model"])
def test_scoped_identities_are_403_and_unscoped_ones_are_served(secured: TestClient, prefix: str, window: str) -> None:
    path = prefix + "/reconciliation"
    assert_envelope(secured.get(path, params={"window": window}), 401, "unauthorized")
    for token in (SHOP_TOKEN, CLUSTER_TOKEN):
        body = assert_envelope(secured.get(path, params={"window": window}, headers=bearer(token)), 403, "forbidden")
        assert "account-wide" in body["message"]
    assert secured.get(path, params={"window": window}, headers=bearer(ADMIN_TOKEN)).status_code == 200
