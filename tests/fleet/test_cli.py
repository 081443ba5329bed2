"""``kubetally publish`` and the report commands' ``--fleet``: the CLI answers from a published fleet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, run_allocation
from tests.fleet.conftest import CLUSTERS, NOW, WINDOW
from tests.runner import kubetally, succeed


def test_publish_then_allocation_and_cloud_costs_from_the_fleet(
    ledgers: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = str(tmp_path / "fleet")
    for path in ledgers.values():
        first = succeed(capsys, monkeypatch, "publish", "--db", str(path), "--to", fleet).out
        assert " 0 unchanged" in " ".join(first.split())
    again = succeed(capsys, monkeypatch, "publish", "--db", str(ledgers[CLUSTERS[0]]), "--to", fleet).out
    assert ": 0 partitions written (0 rows, 0.00 MiB)" in " ".join(again.split())
    args = ["--fleet", fleet, "--window", WINDOW, "--accumulate", "-o", "json"]
    answer = json.loads(succeed(capsys, monkeypatch, "allocation", *args, "--aggregate", "cluster").out)
    query = AllocationQuery.from_params({"window": WINDOW, "aggregate": "cluster", "accumulate": "true"}, NOW)
    for name in CLUSTERS:
        with Ledger.open(ledgers[name], read_only=True) as ledger:
            want = run_allocation(ledger, query)[0][name]["totalCost"]
        assert answer[0][name]["totalCost"] == pytest.approx(want, abs=1e-9)
    assets = json.loads(succeed(capsys, monkeypatch, "assets", *args, "--aggregate", "cluster").out)
    assert sorted(assets[0]) == sorted(CLUSTERS)
    cloud = succeed(capsys, monkeypatch, "cloud-costs", "--fleet", fleet, "--window", WINDOW, "-o", "json").out
    assert json.loads(cloud)
    both = kubetally(capsys, monkeypatch, "allocation", "--fleet", fleet, "--db", "x.duckdb", "--window", "1d")
    assert both.code != 0 and "exactly one of --db" in both.err
