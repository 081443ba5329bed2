"""A bill far from the estimate is held back and reported, not applied, until `kubetally reconcile --accept`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from kubetally.focus.reconcile import reconcile_bill
from kubetally.ledger import Ledger
from kubetally.ledger.schema import SCHEMA_VERSION
from tests.reconcile.conftest import demo_bill, focus_rows
from tests.runner import kubetally

INFLATED = 3.0
"""The bill charges one node three times its estimate: +200 %, beyond the default ±50 %."""


def _node_costs(ledger: Ledger) -> dict[str, float]:
    frame = ledger.fetch(
        "SELECT cluster || '/' || name AS node, sum(total_cost) AS cost FROM assets WHERE type = 'Node' GROUP BY ALL"
    )
    return dict(frame.iter_rows())


def _inflated_bill(ledger: Ledger) -> tuple[pl.DataFrame, str]:
    bill = demo_bill(ledger).filter(pl.col("ServiceCategory") == "Compute")
    target = str(bill.get_column("ResourceId").sort()[0])
    inflated = bill.with_columns(
        EffectiveCost=pl.when(pl.col("ResourceId") == target)
        .then(pl.col("EffectiveCost") / 1.07 * INFLATED)
        .otherwise(pl.col("EffectiveCost"))
    )
    return focus_rows(inflated), target.rsplit("/", 1)[-1]


def test_an_implausible_bill_is_held_back_until_accepted(
    ledger_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger.open(ledger_path) as ledger:
        estimates = _node_costs(ledger)
        bill, instance = _inflated_bill(ledger)
        ledger.upsert_cloud_costs(bill)
        report = reconcile_bill(ledger, bill)
        assert report is not None
        after = _node_costs(ledger)
        start, end = report.start, report.end
    unchanged = [name for name in estimates if after[name] == pytest.approx(estimates[name])]
    assert report.held.height == 1
    assert instance in str(report.held.get_column("provider_id")[0])
    node = "/".join(report.held.select("cluster", "name").row(0))
    assert unchanged == [node]
    assert after[node] == pytest.approx(estimates[node])
    others = [name for name in estimates if name != node]
    assert all(after[name] == pytest.approx(estimates[name] * 1.07) for name in others)

    window = f"{start.isoformat()},{end.isoformat()}".replace("+00:00", "Z")
    run = kubetally(capsys, monkeypatch, "reconcile", "--db", str(ledger_path), "--window", window)
    assert run.code == 0, run.err
    assert "held back: 1 nodes and disks" in " ".join(run.out.split())
    with Ledger.open(ledger_path, read_only=True) as ledger:
        assert _node_costs(ledger)[node] == pytest.approx(estimates[node])

    run = kubetally(capsys, monkeypatch, "reconcile", "--db", str(ledger_path), "--window", window, "--accept")
    assert run.code == 0, run.err
    assert "held back" not in run.out
    with Ledger.open(ledger_path) as ledger:
        assert _node_costs(ledger)[node] == pytest.approx(estimates[node] * INFLATED)
        again = reconcile_bill(ledger, bill)
        assert again is not None and again.held.is_empty()
        assert _node_costs(ledger)[node] == pytest.approx(estimates[node] * INFLATED)


def test_a_version_3_ledger_gains_the_acceptances_table(ledger_path: Path) -> None:
    connection = duckdb.connect(str(ledger_path))
    connection.execute("DROP TABLE bill_acceptances")
    connection.execute("UPDATE ledger_meta SET value = '3' WHERE key = 'schema_version'")
    connection.close()
    with Ledger.open(ledger_path) as ledger:
        assert ledger.fetch("SELECT value FROM ledger_meta WHERE key = 'schema_version'").item() == str(SCHEMA_VERSION)
        assert ledger.fetch("SELECT count(*) FROM bill_acceptances").item() == 0
