"""A node deleted before its pods, through a real Prometheus: the hour is ingested, its pods cost nothing there, and
the run says which pods.

The ``hand`` cluster (tests/prometheus/hand_cluster.py) is written with node-2's kube-state-metrics series cut at
00:50, as when a node object is deleted at once (a spot reclaim) while its pods stay in the API: the ``report`` Job
pod runs on node-2 from 01:10:13 to 01:40:13, an hour in which no node-2 exists. Before, ingesting that hour failed
whole ("charged container-hours belong to pods whose node is unknown"), so a follow loop would stop there for good.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, AssetQuery, run_allocation, run_assets
from tests.prometheus import hand_cluster as hand
from tests.prometheus.conftest import backfill, running_prometheus
from tests.runner import exit_code

INTERVAL = 30
CUT = "00:50:00"
LOST = "node-2"
REPORT = next(pod for pod in hand.PODS if pod.owner_name.startswith("report"))
HOURS = [hand.START + timedelta(hours=h) for h in range(hand.HOURS)]
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def write_lost_node_exposition(path: Path) -> None:
    """The hand cluster's exposition without node-2's ``kube_node_*`` samples from :data:`CUT` on."""
    hand.write_exposition(path, INTERVAL)
    cut = hand.at(CUT)
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not (line.startswith("kube_node_") and f'node="{LOST}"' in line and float(line.rsplit(" ", 1)[1]) >= cut)
    ]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")


def _ingest(monkeypatch: pytest.MonkeyPatch, url: str, db: Path, start: datetime, end: datetime) -> int:
    args = ["ingest", "--db", str(db), "--prometheus-url", url, "--pricing", str(hand.PRICING)]
    return exit_code(monkeypatch, *args, "--start", _stamp(start), "--end", _stamp(end))


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The window ingested hour by hour (``hourly``) and in one fetch (``whole``), with the exit codes."""
    root = tmp_path_factory.mktemp("lost-node")
    exposition = root / "lost.om"
    write_lost_node_exposition(exposition)
    backfill(exposition, root / "data")
    with running_prometheus(root / "data", root) as url, pytest.MonkeyPatch.context() as patch:
        hourly, whole = root / "hourly.duckdb", root / "whole.duckdb"
        codes = [_ingest(patch, url, hourly, hour, hour + timedelta(hours=1)) for hour in HOURS]
        codes.append(_ingest(patch, url, whole, hand.START, hand.END))
    yield {"codes": codes, "hourly": hourly, "whole": whole}


def _sets(db: Path, aggregate: str) -> list[dict[str, dict[str, Any]]]:
    params = {"window": f"{_stamp(hand.START)},{_stamp(hand.END)}", "step": "1h", "aggregate": aggregate}
    with Ledger.open(db, read_only=True) as ledger:
        return run_allocation(ledger, AllocationQuery.from_params(params, NOW))


def test_every_hour_is_ingested(ledgers: dict[str, Any]) -> None:
    assert ledgers["codes"] == [0] * (len(HOURS) + 1)


def test_the_pod_on_the_deleted_node_keeps_its_time_and_costs_nothing_there(ledgers: dict[str, Any]) -> None:
    for db in (ledgers["hourly"], ledgers["whole"]):
        first, during, last = _sets(db, "pod")
        assert REPORT.name not in first and REPORT.name not in last
        row = during[REPORT.name]
        assert row["minutes"] == pytest.approx((REPORT.end - REPORT.start) / 60, abs=INTERVAL / 60)
        assert row["cpuCoreRequestAverage"] == pytest.approx(REPORT.container.cpu_request)
        assert row["totalCost"] == 0.0


def test_the_run_names_the_pod_and_its_minutes(ledgers: dict[str, Any]) -> None:
    with Ledger.open(ledgers["hourly"], read_only=True) as ledger:
        runs = ledger.runs()
    warned = [
        (start, warning)
        for start, warnings in zip(runs.get_column("start"), runs.get_column("warnings"), strict=True)
        for warning in json.loads(warnings)
        if "reported no node" in warning
    ]
    assert len(warned) == 1, warned
    start, warning = warned[0]
    assert start.replace(tzinfo=UTC) == HOURS[1]
    minutes = (REPORT.end - REPORT.start) / 60
    assert warning.startswith(f"1 pod(s) ran {minutes:.1f} container-minutes")
    assert warning.endswith(f"{hand.CLUSTER}/{REPORT.namespace}/{REPORT.name} on {LOST}")


def test_one_fetch_and_hourly_fetches_cost_every_hour_alike(ledgers: dict[str, Any]) -> None:
    for aggregate in ("namespace", "node"):
        hourly, whole = _sets(ledgers["hourly"], aggregate), _sets(ledgers["whole"], aggregate)
        for by_hour, at_once in zip(hourly, whole, strict=True):
            assert {name: row["totalCost"] for name, row in by_hour.items()} == pytest.approx(
                {name: row["totalCost"] for name, row in at_once.items()}, abs=1e-9
            ), aggregate


def test_every_dollar_of_the_hour_adds_up(ledgers: dict[str, Any]) -> None:
    window = f"{_stamp(HOURS[1])},{_stamp(HOURS[2])}"
    with Ledger.open(ledgers["hourly"], read_only=True) as ledger:
        (assets,) = run_assets(ledger, AssetQuery.from_params({"window": window, "aggregate": "type"}, NOW))
        (nodes,) = run_assets(ledger, AssetQuery.from_params({"window": window, "filter": 'type:"Node"'}, NOW))
        (allocations,) = run_allocation(ledger, AllocationQuery.from_params({"window": window}, NOW))
    assert [node["properties"]["name"] for node in nodes.values()] == ["node-1"]
    overhead = assets["ClusterManagement"]["totalCost"]
    spent = sum(row["totalCost"] for row in allocations.values()) + overhead
    assert spent == pytest.approx(sum(row["totalCost"] for row in assets.values()), abs=1e-4)
