"""The ``hand`` cluster through a real Prometheus at 15, 30 and 60 s agrees with its costs worked out on paper.

tests/data/hand_cluster/README.md costs the cluster by hand; this test parses its tables. The exposition is
written by tests/prometheus/hand_cluster.py, backfilled with promtool, served by Prometheus and ingested with
``kubetally ingest --prometheus-url``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, run_allocation
from tests.prometheus import hand_cluster as hand
from tests.prometheus.conftest import backfill, running_prometheus
from tests.runner import exit_code

INTERVALS = (15, 30, 60)
WINDOW = f"{hand.START:%Y-%m-%dT%H:%M:%SZ},{hand.END:%Y-%m-%dT%H:%M:%SZ}"
NOW = datetime(2026, 11, 23, tzinfo=UTC)
COST_TOLERANCE = 0.005
JOB_TOLERANCE = 0.01
README = hand.DATA / "README.md"


def table(heading: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table under ``### heading`` in the README."""
    lines = README.read_text(encoding="utf-8").splitlines()
    at = lines.index(f"### {heading}")
    first = next(i for i, line in enumerate(lines[at:]) if line.startswith("|"))
    rows = []
    for line in lines[at + first :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    header, body = rows[0], rows[2:]
    return [dict(zip(header, row, strict=True)) for row in body]


def _ingest(interval: int, root: Path) -> Path:
    exposition, data, db = root / "hand.om", root / "data", root / "hand.duckdb"
    hand.write_exposition(exposition, interval)
    backfill(exposition, data)
    with running_prometheus(data, root) as url, pytest.MonkeyPatch.context() as patch:
        args = ["ingest", "--db", str(db), "--prometheus-url", url, "--pricing", str(hand.PRICING)]
        start, end = WINDOW.split(",")
        assert exit_code(patch, *args, "--start", start, "--end", end) == 0
    return db


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Path]]:
    yield {interval: _ingest(interval, tmp_path_factory.mktemp(f"hand-{interval}s")) for interval in INTERVALS}


def _allocations(db: Path, aggregate: str | None = None) -> dict[str, dict[str, Any]]:
    params = {"window": WINDOW, "accumulate": "true"}
    if aggregate is not None:
        params["aggregate"] = aggregate
    with Ledger.open(db, read_only=True) as ledger:
        (allocations,) = run_allocation(ledger, AllocationQuery.from_params(params, NOW))
    return allocations


def _instant(text: str) -> datetime:
    """A README time of the window's day, or an allocation's RFC 3339 time."""
    if "T" in text:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return datetime.fromtimestamp(hand.at(text), UTC)


def _assert_span(allocation: dict[str, Any], row: dict[str, str], interval: int) -> None:
    for edge in ("start", "end"):
        off = abs((_instant(allocation[edge]) - _instant(row[edge])).total_seconds())
        assert off <= interval, (edge, allocation[edge], row[edge])
    assert abs(allocation["minutes"] - float(row["minutes"])) <= interval / 60, (allocation["minutes"], row)
    start, end = WINDOW.split(",")
    assert allocation["window"] == {"start": start, "end": end}


def _close(actual: float, expected: float, tolerance: float) -> bool:
    return abs(actual - expected) <= tolerance * expected


@pytest.mark.parametrize("interval", INTERVALS)
def test_every_namespace_costs_what_the_paper_says(ledgers: dict[int, Path], interval: int) -> None:
    namespaces = _allocations(ledgers[interval], "namespace")
    for row in table("Namespaces"):
        allocation = namespaces[row["namespace"]]
        assert _close(allocation["totalCost"], float(row["total $"]), COST_TOLERANCE), (row, allocation["totalCost"])
        _assert_span(allocation, row, interval)
    assert namespaces["__idle__"]["totalCost"] == pytest.approx(float(table("Idle and the invariant")[0]["idle $"]))


def _base_name(name: str) -> str:
    """A controller name without its kind (``Deployment:web``, ``deployment:web`` and ``web`` are ``web``)."""
    return name.rsplit(":", 1)[-1].lower()


@pytest.mark.parametrize("interval", INTERVALS)
def test_every_controller_costs_what_the_paper_says(ledgers: dict[int, Path], interval: int) -> None:
    controllers = {_base_name(name): a for name, a in _allocations(ledgers[interval], "controller").items()}
    for row in table("Controllers"):
        base = row["controller"]
        matching = [a for name, a in controllers.items() if name == base or name.startswith(f"{base}-")]
        assert len(matching) == 1, (row, sorted(controllers))
        assert _close(matching[0]["totalCost"], float(row["total $"]), COST_TOLERANCE), (row, matching[0])


@pytest.mark.parametrize("interval", INTERVALS)
def test_every_pod_runs_when_the_paper_says_and_the_short_job_costs_its_due(
    ledgers: dict[int, Path], interval: int
) -> None:
    pods = _allocations(ledgers[interval], "pod")
    for row in table("Pods"):
        allocation = pods[row["pod"]]
        _assert_span(allocation, row, interval)
        tolerance = JOB_TOLERANCE if row["pod"].startswith("migrate") else COST_TOLERANCE
        for field, column in (("totalCost", "total $"), ("cpuCoreHours", "CPU core-h"), ("cpuCost", "CPU $")):
            assert _close(allocation[field], float(row[column]), tolerance), (row["pod"], field, allocation[field])
    job = pods["migrate-x7k2p"]
    for field in ("cpuCores", "cpuCoreUsageAverage", "cpuCoreRequestAverage"):
        assert _close(job[field], 2.0, JOB_TOLERANCE), (field, job[field])
