"""``kubetally cloud-costs``: the same data as ``/cloudCost``, in JSON, CSV and tables; bad flags exit with 2."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import WINDOW
from tests.runner import kubetally, succeed


def test_json_is_the_apis_data(
    billed_ledger: tuple[Path, pl.DataFrame],
    client: TestClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["--window", WINDOW, "--aggregate", "service,label:team", "--accumulate", "hour"]
    run = succeed(capsys, monkeypatch, "cloud-costs", "--db", str(billed_ledger[0]), *args, "--format", "json")
    api = client.get(
        "/cloudCost", params={"window": WINDOW, "aggregate": "service,label:team", "accumulate": "hour"}
    ).json()["data"]
    assert json.loads(run.out) == api


def test_csv_rows_match_the_bill(
    billed_ledger: tuple[Path, pl.DataFrame], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, frame = billed_ledger
    run = succeed(
        capsys,
        monkeypatch,
        "cloud-costs",
        "--db",
        str(path),
        "--window",
        WINDOW,
        "--aggregate",
        "category",
        "--accumulate",
        "true",
        "--cost-metric",
        "listcost",
        "-o",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(run.out)))
    expected = frame.group_by("ServiceCategory").agg(
        pl.col("ListCost").sum(),
        pl.col("EffectiveCost").sum(),
        (pl.col("ListCost").filter(pl.col("kubernetes")).sum() / pl.col("ListCost").sum()).alias("share"),
    )
    assert [row["name"] for row in rows] == expected.sort("ListCost", descending=True)["ServiceCategory"].to_list()
    for row in rows:
        (want,) = expected.filter(pl.col("ServiceCategory") == row["name"]).iter_rows(named=True)
        assert float(row["listCost"]) == pytest.approx(want["ListCost"], abs=1e-5)
        assert float(row["amortizedNetCost"]) == pytest.approx(want["EffectiveCost"], abs=1e-5)
        assert float(row["kubernetesPercent"]) == pytest.approx(want["share"], abs=1e-5)


def test_table_lists_every_item_with_a_total(
    billed_ledger: tuple[Path, pl.DataFrame], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, frame = billed_ledger
    monkeypatch.setenv("COLUMNS", "200")
    run = succeed(capsys, monkeypatch, "cloud-costs", "--db", str(path), "--window", WINDOW, "--aggregate", "service")
    for service in frame["ServiceName"].unique():
        assert service in run.out
    assert f"{frame['ListCost'].sum():,.2f}" in run.out


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--window", "soon"], "window"),
        (["--window", WINDOW, "--aggregate", "colour"], "aggregate"),
        (["--window", WINDOW, "--cost-metric", "cheapest"], "costMetric"),
        (["--window", WINDOW, "--accumulate", "fortnight"], "accumulate"),
        (["--window", WINDOW, "--filter", 'colour:"red"'], "filter"),
        (["--window", WINDOW, "--format", "xml"], "--format"),
    ],
)
def test_bad_flags_exit_2(
    billed_ledger: tuple[Path, pl.DataFrame],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    named: str,
) -> None:
    run = kubetally(capsys, monkeypatch, "cloud-costs", "--db", str(billed_ledger[0]), *flags)
    assert run.code == 2
    assert named in run.err
    assert run.out == ""


def test_the_table_is_one_set_for_the_window_unless_asked_and_skips_empty_days(
    billed_ledger: tuple[Path, pl.DataFrame], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, frame = billed_ledger
    days = frame.get_column("ChargePeriodStart").dt.truncate("1d").unique()
    start = days.min() - timedelta(days=2)  # type: ignore[operator]
    end = days.max() + timedelta(days=3)  # type: ignore[operator]
    window = f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"
    whole = succeed(capsys, monkeypatch, "cloud-costs", "--db", str(path), "--window", window, "--aggregate", "service")
    assert whole.out.count("→") == 1
    daily = succeed(capsys, monkeypatch, "cloud-costs", "--db", str(path), "--window", window, "--accumulate", "false")
    assert daily.out.count("→") == days.len(), "one table per day holding bill rows, none for the empty days"
