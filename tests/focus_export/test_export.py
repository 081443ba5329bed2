"""The FOCUS export of the demo ledger through the real app and CLI: totals, shape, parameters and scopes."""

from __future__ import annotations

import io
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from polars.testing import assert_frame_equal

from kubetally.ledger import Ledger
from kubetally.query.focus_columns import EXPORT_SCHEMA, Granularity
from kubetally.query.focus_export import FocusQuery, focus_frame
from tests.focus_export.conftest import ADMIN_TOKEN, EU_TOKEN, SEARCH_TOKEN, Demo, bearer
from tests.runner import kubetally

COSTS = ("EffectiveCost", "BilledCost", "ListCost", "ContractedCost")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def fetch(client: TestClient, token: str = ADMIN_TOKEN, **params: str) -> pl.DataFrame:
    response = client.get("/focus", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    if params.get("format") == "parquet":
        return pl.read_parquet(io.BytesIO(response.content))
    return pl.read_csv(io.BytesIO(response.content), infer_schema=False)


def api_json(client: TestClient, path: str, **params: str) -> list[dict[str, dict[str, Any]]]:
    response = client.get(path, params=params, headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 200, response.text
    data: list[dict[str, dict[str, Any]]] = response.json()["data"]
    return data


def total(frame: pl.DataFrame, column: str = "EffectiveCost") -> float:
    return float(frame.get_column(column).cast(pl.Float64).sum())


@pytest.fixture(scope="module")
def day_csv(client: TestClient, demo: Demo) -> pl.DataFrame:
    return fetch(client, window=demo.window)


def test_every_cost_column_adds_up_to_the_ledger_total(day_csv: pl.DataFrame, demo: Demo) -> None:
    with Ledger.open(demo.path, read_only=True) as ledger:
        allocations = ledger.fetch("SELECT sum(total_cost) AS t FROM allocations").item()
        overhead = ledger.fetch("SELECT sum(total_cost) AS t FROM assets WHERE type = 'ClusterManagement'").item()
        assets = ledger.fetch("SELECT sum(total_cost) AS t FROM assets").item()
    assert overhead > 0
    for column in COSTS:
        assert math.isclose(total(day_csv, column), allocations + overhead, rel_tol=1e-12)
    assert math.isclose(total(day_csv), assets, rel_tol=1e-9)


def test_the_total_is_the_apis_allocations_plus_overhead_and_the_assets_total(
    client: TestClient, demo: Demo, day_csv: pl.DataFrame
) -> None:
    """/allocation and /assets round each entry to 5 decimals: the comparison allows half a unit per entry."""
    window = {"window": demo.window, "accumulate": "true"}
    allocations = api_json(client, "/allocation", aggregate="cluster", includeIdle="true", splitIdle="true", **window)[
        0
    ]
    by_type = api_json(client, "/assets", aggregate="type", window=demo.window)
    overhead = by_type["ClusterManagement"]["totalCost"]
    api_total = sum(float(a["totalCost"]) for a in allocations.values()) + float(overhead)
    slack = 0.5e-5 * (len(allocations) + 1) + 1e-9
    assert abs(total(day_csv) - api_total) <= slack
    assets_total = sum(float(a["totalCost"]) for a in by_type.values())
    assert abs(total(day_csv) - assets_total) <= 0.5e-5 * len(by_type) + 1e-9
    per_cluster = day_csv.group_by("SubAccountId").agg(pl.col("EffectiveCost").cast(pl.Float64).sum())
    eu = per_cluster.filter(pl.col("SubAccountId") == "prod-eu").get_column("EffectiveCost").item()
    eu_overhead = api_json(
        client, "/assets", aggregate="cluster", filter='type:"ClusterManagement"', window=demo.window
    )
    eu_allocations = [float(a["totalCost"]) for name, a in allocations.items() if name.split("/")[0] == "prod-eu"]
    assert len(eu_allocations) == 2
    eu_expected = sum(eu_allocations) + float(eu_overhead["prod-eu"]["totalCost"])
    assert abs(eu - eu_expected) <= 1.5e-5 + 1e-9


def test_cli_and_api_write_the_same_rows(
    client: TestClient,
    demo: Demo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for suffix, granularity in (("csv", "hour"), ("parquet", "day")):
        out = tmp_path / f"export.{suffix}"
        args = ["export", "focus", "--db", str(demo.path), "--window", demo.window, "--out", str(out)]
        run = kubetally(capsys, monkeypatch, *args, "--granularity", granularity, "--aggregate", "namespace,node")
        assert run.code == 0, run.err
        params = {"window": demo.window, "granularity": granularity, "aggregate": "namespace,node", "format": suffix}
        response = client.get("/focus", params=params, headers=bearer(ADMIN_TOKEN))
        assert response.status_code == 200
        if suffix == "csv":
            assert response.headers["content-type"].startswith("text/csv")
            served, written = pl.read_csv(io.BytesIO(response.content)), pl.read_csv(out)
        else:
            served, written = pl.read_parquet(io.BytesIO(response.content)), pl.read_parquet(out)
        assert served.height > 0
        assert_frame_equal(served, written, check_exact=False, rel_tol=1e-12, abs_tol=1e-15)
    model = client.get("/model/focus", params={"window": demo.window}, headers=bearer(ADMIN_TOKEN))
    assert model.status_code == 200


def test_hour_day_and_rollup_paths_agree(demo: Demo) -> None:
    now = datetime.now(UTC)
    with Ledger.open(demo.path, read_only=True) as ledger:
        day = FocusQuery.from_params({"window": demo.window, "granularity": "day"}, now)
        hour = FocusQuery.from_params({"window": demo.window, "granularity": "hour"}, now)
        rolled = focus_frame(ledger, day, "USD")
        hourly_days = focus_frame(ledger, day, "USD", rollup=False)
        hours = focus_frame(ledger, hour, "USD")
    assert day.granularity is Granularity.DAY
    key = ["ChargePeriodStart", "ResourceId", "x_CostComponent", "RegionId", "AvailabilityZone", "SkuPriceId"]
    joined = rolled.join(hourly_days, on=key, how="full", nulls_equal=True, suffix="_h")
    assert joined.height == rolled.height == hourly_days.height
    assert joined.select((pl.col("EffectiveCost") - pl.col("EffectiveCost_h")).abs().max()).item() < 1e-9
    assert hours.height > rolled.height
    assert math.isclose(total(hours), total(rolled), rel_tol=1e-12)
    starts = rolled.get_column("ChargePeriodStart").unique().sort()
    assert starts[0] == f"{demo.start:%Y-%m-%dT%H:%M:%SZ}"
    assert all(s.endswith("T00:00:00Z") for s in starts[1:])


def test_the_rows_follow_the_focus_format_rules(day_csv: pl.DataFrame, demo: Demo, client: TestClient) -> None:
    assert day_csv.columns == list(EXPORT_SCHEMA)
    first_extension = next(i for i, c in enumerate(day_csv.columns) if c.startswith("x_"))
    assert all(c.startswith("x_") for c in day_csv.columns[first_extension:])
    for column in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"):
        assert day_csv.get_column(column).str.contains(DATE_TIME.pattern).all(), column
    months = day_csv.select(
        pl.col("ChargePeriodStart").str.slice(0, 7).alias("m"), pl.col("BillingPeriodStart").str.slice(0, 7).alias("b")
    )
    assert (months["m"] == months["b"]).all()
    assert day_csv.get_column("BillingPeriodStart").str.ends_with("-01T00:00:00Z").all()
    raw = client.get("/focus", params={"window": demo.window}, headers=bearer(ADMIN_TOKEN)).text
    assert not re.search(r'(^|,)""(,|$)', raw, flags=re.MULTILINE), "an empty string instead of NULL"
    tags = day_csv.filter(pl.col("Tags").is_not_null()).get_column("Tags")
    assert tags.len() > 0
    for value in tags.unique():
        parsed = json.loads(value)
        assert isinstance(parsed, dict) and all(isinstance(v, str) for v in parsed.values())
    kinds = set(day_csv.get_column("x_AllocationKind"))
    assert kinds == {"workload", "idle", "unmounted", "overhead"}
    idle = day_csv.filter(pl.col("x_AllocationKind") == "idle")
    assert set(idle.get_column("x_CostComponent")) <= {"cpu", "ram", "gpu"}
    assert idle.get_column("x_Node").is_not_null().all()
    services = day_csv.select("x_CostComponent", "ServiceCategory").unique()
    assert dict(services.iter_rows()) == {
        "cpu": "Compute",
        "ram": "Compute",
        "gpu": "Compute",
        "storage": "Storage",
        "network": "Networking",
        "load_balancer": "Networking",
        "cluster_management": "Compute",
    }
    assert (day_csv.get_column("EffectiveCost").cast(pl.Float64).abs() > 1e-12).all(), "a zero or residue row"
    assert day_csv.get_column("BillingCurrency").unique().to_list() == ["USD"]


def test_aggregate_and_filter_keep_the_sums(client: TestClient, demo: Demo, day_csv: pl.DataFrame) -> None:
    by_namespace = fetch(client, window=demo.window, aggregate="namespace")
    assert by_namespace.height < day_csv.height
    assert by_namespace.filter(pl.col("x_AllocationKind") == "workload").get_column("x_Pod").is_null().all()
    assert math.isclose(total(by_namespace), total(day_csv), rel_tol=1e-12)
    eu = fetch(client, window=demo.window, filter='cluster:"prod-eu"')
    expected = total(day_csv.filter(pl.col("SubAccountId") == "prod-eu"))
    assert math.isclose(total(eu), expected, rel_tol=1e-12)
    search = fetch(client, window=demo.window, filter='namespace:"search"')
    assert set(search.get_column("x_Namespace")) == {"search"}


def test_scoped_identities_see_only_their_rows(client: TestClient, demo: Demo, day_csv: pl.DataFrame) -> None:
    search = fetch(client, SEARCH_TOKEN, window=demo.window)
    assert search.height > 0
    assert set(search.get_column("x_Namespace")) == {"search"}
    assert set(search.get_column("x_AllocationKind")) == {"workload"}
    own = day_csv.filter((pl.col("x_Namespace") == "search") & (pl.col("x_AllocationKind") == "workload"))
    assert math.isclose(total(search), total(own), rel_tol=1e-12)
    eu = fetch(client, EU_TOKEN, window=demo.window, format="parquet")
    assert set(eu.get_column("SubAccountId")) == {"prod-eu"}
    assert {"idle", "overhead"} <= set(eu.get_column("x_AllocationKind"))
    expected = total(day_csv.filter(pl.col("SubAccountId") == "prod-eu"))
    assert math.isclose(total(eu), expected, rel_tol=1e-12)
    assert client.get("/focus", params={"window": demo.window}).status_code == 401


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"window": "soon"}, "window"),
        ({}, "window"),
        ({"format": "xml"}, "format"),
        ({"granularity": "week"}, "granularity"),
        ({"aggregate": "label:team"}, "aggregate"),
        ({"filter": "namespace=="}, "filter"),
    ],
)
def test_bad_parameters_are_refused(client: TestClient, demo: Demo, params: dict[str, str], parameter: str) -> None:
    query = {"window": demo.window, **params} if parameter != "window" else params
    response = client.get("/focus", params=query, headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"{parameter}: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--granularity", "week"], "granularity: invalid value 'week'"),
        (["--window", "soon"], "window: invalid window 'soon'"),
        (["--aggregate", "team"], "aggregate: unknown dimension 'team'"),
    ],
)
def test_the_cli_refuses_bad_values_with_exit_code_2(
    demo: Demo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    base = ["export", "focus", "--db", str(demo.path), "--window", demo.window, "--out", str(tmp_path / "x.csv")]
    run = kubetally(capsys, monkeypatch, *base, *args)
    assert run.code == 2
    assert message in run.err
    assert not (tmp_path / "x.csv").exists()
    wrong = kubetally(capsys, monkeypatch, *base[:-1], str(tmp_path / "x.json"))
    assert wrong.code == 2 and "out: " in wrong.err
