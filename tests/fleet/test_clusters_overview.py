"""The Clusters overview over a fleet: per cluster its cost, idle share, last publication, and stale marking."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kubetally.ledger import Ledger
from kubetally.ledger.fleet import FleetLedger
from kubetally.query import AllocationQuery, run_allocation
from kubetally.query.clusters import cluster_overview, overview_query
from tests.fleet.conftest import CLUSTERS, HOURS, NOW, START, WINDOW

LAST_HOUR_END = START + timedelta(hours=HOURS)
"""Every simulated cluster's data ends here (2026-03-03 05:00 UTC)."""


def overview(fleet: Path, now: datetime) -> dict[str, dict[str, object]]:
    with FleetLedger(str(fleet)) as store:
        published = {row["cluster"]: row["last_published"] for row in store.publications().iter_rows(named=True)}
        rows = cluster_overview(store, overview_query(WINDOW, now), now, published=published)
    return {str(row["cluster"]): row for row in rows}


def test_the_overview_gives_each_cluster_its_ledger_cost_and_publication(fleet: Path, ledgers: dict[str, Path]) -> None:
    rows = overview(fleet, NOW)
    assert sorted(rows) == sorted(CLUSTERS)
    query = AllocationQuery.from_params({"window": WINDOW, "accumulate": "true", "includeIdle": "true"}, NOW)
    for name in CLUSTERS:
        with Ledger.open(ledgers[name], read_only=True) as ledger:
            total = sum(row["totalCost"] for row in run_allocation(ledger, query)[0].values())
            idle = run_allocation(ledger, query)[0]["__idle__"]["totalCost"]
        row = rows[name]
        assert row["totalCost"] == pytest.approx(total, abs=1e-3)  # answers are rounded to 5 decimals
        assert row["idlePercent"] == pytest.approx(idle / total * 100, abs=1e-3)
        assert row["lastPublished"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert row["lastHourEnd"] == LAST_HOUR_END.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("age", "stale"), [(timedelta(hours=1), False), (timedelta(hours=1, minutes=59), False), (timedelta(hours=3), True)]
)
def test_a_cluster_is_stale_when_its_last_hour_ended_more_than_two_hours_ago(
    fleet: Path, age: timedelta, stale: bool
) -> None:
    rows = overview(fleet, LAST_HOUR_END + age)
    assert [row["stale"] for row in rows.values()] == [stale] * len(CLUSTERS)
