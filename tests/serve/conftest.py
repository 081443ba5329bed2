"""Fixtures of the serve tests: the ``small`` scenario over six hours from 2026-01-01, and ledgers of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.engine import compute
from kubetally.errors import SourceUnavailable
from kubetally.history import ClusterHistory
from kubetally.ingest import ingest
from kubetally.ledger import PROVISIONAL, Ledger, RunInfo
from kubetally.sources import StaticSource
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

START = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
WEB_POD = "web-x87dlft7s-t2q8j"


def at(hours: int, minutes: int = 0) -> datetime:
    """``START`` plus a time of day."""
    return START + timedelta(hours=hours, minutes=minutes)


@pytest.fixture(scope="session")
def history() -> ClusterHistory:
    return to_history(simulate(load_scenario("small"), start=START, hours=6, now=START + timedelta(days=30)))


@pytest.fixture(scope="session")
def prices() -> PriceBook:
    return scenario_pricebook(load_scenario("small"))


@dataclass
class FlakySource:
    """A StaticSource that raises SourceUnavailable for fetches overlapping ``down`` hours (all when ``all_down``)."""

    inner: StaticSource
    down: set[datetime] = field(default_factory=set)
    all_down: bool = False
    fetches: list[tuple[datetime, datetime]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.inner.warnings

    def fetch(self, start: datetime, end: datetime) -> ClusterHistory:
        self.fetches.append((start, end))
        if self.all_down or any(start <= hour < end for hour in self.down):
            raise SourceUnavailable(f"prometheus: connection refused for {start.isoformat()}")
        return self.inner.fetch(start, end)


def write_hours(
    path: Path, history: ClusterHistory, prices: PriceBook, end_hour: int, *, provisional: tuple[int, ...] = ()
) -> Path:
    """A ledger at ``path`` with hours ``[0, end_hour)`` final and each of ``provisional`` written as provisional."""
    source = StaticSource("simulator:small", history)
    with Ledger.open(path) as ledger:
        ingest(source, ledger, prices=prices, policy=BillingPolicy(), start=START, end=at(end_hour))
        for hour in provisional:
            part = history.slice(at(hour), at(hour + 1))
            result = compute(part, prices, BillingPolicy())
            run = RunInfo("simulator:small", (PROVISIONAL,))
            ledger.write(result, clusters=part.clusters, start=at(hour), end=at(hour + 1), run=run)
    return path


@pytest.fixture(scope="session")
def small_ledger(tmp_path_factory: pytest.TempPathFactory, history: ClusterHistory, prices: PriceBook) -> Path:
    """Hours 00:00–03:00 of ``small`` written final (the three hours of docs/cost-model.md)."""
    return write_hours(tmp_path_factory.mktemp("serve") / "small.duckdb", history, prices, 3)
