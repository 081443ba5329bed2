"""Fixtures of the API tests: the ``small`` scenario's first three hours in a ledger, served with a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.domain.policy import BillingPolicy
from kubetally.ingest import ingest
from kubetally.ledger import Ledger
from kubetally.sources import StaticSource
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = START + timedelta(hours=3, minutes=30)
"""The frozen clock: half an hour after the last hour in the ledger."""
WINDOW = "2026-01-01T00:00:00Z,2026-01-01T03:00:00Z"
"""The three hours in the ledger."""


def write_small(path: Path) -> Path:
    """A ledger at ``path`` holding hours 00:00–03:00 of the ``small`` scenario."""
    scenario = load_scenario("small")
    history = to_history(simulate(scenario, start=START, hours=3, now=START + timedelta(days=30)))
    with Ledger.open(path) as ledger:
        ingest(
            StaticSource("simulator:small", history),
            ledger,
            prices=scenario_pricebook(scenario),
            policy=BillingPolicy(),
            start=START,
            end=START + timedelta(hours=3),
        )
    return path


@pytest.fixture(scope="session")
def small_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small(tmp_path_factory.mktemp("api") / "small.duckdb")


@pytest.fixture(scope="session")
def client(small_ledger: Path) -> Iterator[TestClient]:
    """The app over the small ledger, its clock frozen at ``NOW``; server errors come back as responses."""
    app = create_app(small_ledger, clock=lambda: NOW)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
