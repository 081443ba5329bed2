"""``start``/``end``/``minutes`` of an allocation are its running interval within the set; ``window`` is the set.

The ledger holds the ``small`` scenario (docs/cost-model.md, "The `small` scenario, by hand"): the job
``data/batch-*`` runs 00:15–00:45, ``data/db-0`` 00:00–01:30, the web and cache pods the whole three hours. Every
expected value below is read from that description, not from the engine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kubetally.domain.policy import BillingPolicy
from kubetally.ingest import ingest
from kubetally.ledger import Ledger
from kubetally.ledger.rollup import rollup_select_sql
from kubetally.ledger.schema import ROLLUP, SCHEMA_VERSION
from kubetally.query import AllocationQuery, run_allocation
from kubetally.sources import StaticSource
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=30)
THREE_HOURS = "2026-01-01T00:00:00Z,2026-01-01T03:00:00Z"
WHOLE_DAY = "2026-01-01T00:00:00Z,2026-01-02T00:00:00Z"


def _write_small(path: Path) -> None:
    scenario = load_scenario("small")
    history = to_history(simulate(scenario, start=START, now=NOW))
    with Ledger.open(path) as ledger:
        ingest(
            StaticSource("simulator:small", history),
            ledger,
            prices=scenario_pricebook(scenario),
            policy=BillingPolicy(),
            start=history.start,
            end=history.end,
        )


@pytest.fixture(scope="module")
def small_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("running-span") / "small.duckdb"
    _write_small(path)
    return path


def _sets(path: Path, params: dict[str, str], *, rollup: bool = True) -> list[dict[str, dict[str, Any]]]:
    with Ledger.open(path, read_only=True) as ledger:
        return run_allocation(ledger, AllocationQuery.from_params(params, NOW), rollup=rollup)


def _named(allocations: dict[str, dict[str, Any]], part: str) -> dict[str, Any]:
    matches = [a for name, a in allocations.items() if part in name.split("/")]
    assert len(matches) == 1, sorted(allocations)
    return matches[0]


def approx(value: float) -> Any:
    """The results are rounded to 5 decimals."""
    return pytest.approx(value, abs=1e-5)


def _span(allocation: dict[str, Any]) -> tuple[str, str, float]:
    return allocation["start"], allocation["end"], allocation["minutes"]


def test_a_job_reports_its_running_interval_and_the_set_as_window(small_ledger: Path) -> None:
    (allocations,) = _sets(small_ledger, {"window": THREE_HOURS})
    worker = _named(allocations, "worker")
    assert _span(worker) == ("2026-01-01T00:15:00Z", "2026-01-01T00:45:00Z", 30.0)
    assert worker["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z"}
    # billed max(0.5 request, 1.8 usage) = 1.8 cores over its 30 minutes: 0.9 core-hours
    assert worker["cpuCoreHours"] == approx(0.9)
    assert worker["cpuCores"] == approx(1.8)
    assert worker["cpuCoreRequestAverage"] == approx(0.5)
    assert worker["cpuCoreUsageAverage"] == approx(1.8)
    assert worker["ramBytes"] == approx(2 * 2**30)
    redis = _named(allocations, "redis")
    assert _span(redis) == ("2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z", 180.0)
    assert redis["cpuCores"] == approx(1.5)


def test_an_aggregate_spans_its_earliest_start_to_its_latest_end(small_ledger: Path) -> None:
    (namespaces,) = _sets(small_ledger, {"window": THREE_HOURS, "aggregate": "namespace"})
    data = namespaces["data"]
    assert _span(data) == ("2026-01-01T00:00:00Z", "2026-01-01T01:30:00Z", 90.0)
    # postgres 1 core x 1.5 h + worker 1.8 cores x 0.5 h = 2.4 core-hours over 1.5 h
    assert data["cpuCores"] == approx(2.4 / 1.5)
    # requests: postgres 1 core for 90 minutes, worker 0.5 core for 30 minutes, over the 90 minutes of the aggregate
    assert data["cpuCoreRequestAverage"] == approx((1 * 90 + 0.5 * 30) / 90)
    assert _span(namespaces["shop"]) == ("2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z", 180.0)
    assert _span(namespaces["__idle__"]) == ("2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z", 180.0)


def test_each_step_reports_the_running_interval_within_its_set(small_ledger: Path) -> None:
    hours = _sets(small_ledger, {"window": THREE_HOURS, "aggregate": "pod", "step": "1h"})
    db = [next((a for name, a in step.items() if name == "db-0"), None) for step in hours]
    assert db[0] is not None and db[1] is not None and db[2] is None
    assert _span(db[0]) == ("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 60.0)
    assert _span(db[1]) == ("2026-01-01T01:00:00Z", "2026-01-01T01:30:00Z", 30.0)
    assert db[1]["window"] == {"start": "2026-01-01T01:00:00Z", "end": "2026-01-01T02:00:00Z"}
    assert db[1]["cpuCores"] == approx(1.0)


def test_the_daily_rollup_gives_the_same_running_interval(small_ledger: Path) -> None:
    params = {"window": WHOLE_DAY, "aggregate": "namespace"}
    (daily,) = _sets(small_ledger, params)
    (hourly,) = _sets(small_ledger, params, rollup=False)
    assert daily == hourly
    assert _span(daily["data"]) == ("2026-01-01T00:00:00Z", "2026-01-01T01:30:00Z", 90.0)
    assert daily["data"]["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}


def test_a_version_4_ledger_falls_back_to_the_hour_bounds(tmp_path: Path) -> None:
    path = tmp_path / "v4.duckdb"
    _write_small(path)
    connection = duckdb.connect(str(path))
    for table in ("allocations", ROLLUP):
        for column in ("running_start", "running_end"):
            connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    connection.execute("UPDATE ledger_meta SET value = '4' WHERE key = 'schema_version'")
    connection.close()
    with Ledger.open(path) as ledger:
        assert ledger.fetch("SELECT value FROM ledger_meta WHERE key = 'schema_version'").item() == str(SCHEMA_VERSION)
        stored = ledger.fetch(f"SELECT * FROM {ROLLUP} ORDER BY ALL")
        fresh = ledger.fetch(f"SELECT * FROM ({rollup_select_sql('true')}) ORDER BY ALL")
        assert stored.select("running_start", "running_end").equals(fresh.select("running_start", "running_end"))
    for rollup in (True, False):
        (namespaces,) = _sets(path, {"window": WHOLE_DAY, "aggregate": "namespace"}, rollup=rollup)
        # db-0 has rows in the buckets 00:00 and 01:00, the job in 00:00: without stored instants, their bounds
        assert _span(namespaces["data"]) == ("2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z", 120.0)
