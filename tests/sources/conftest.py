"""Shared simulations: built once per test session (they are deterministic)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kubetally.sources.simulator import Simulation, load_scenario, simulate

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 12, 34, tzinfo=UTC)


@pytest.fixture(scope="session")
def small() -> Simulation:
    return simulate(load_scenario("small"), start=START, now=NOW)


@pytest.fixture(scope="session")
def demo() -> Simulation:
    return simulate(load_scenario("demo"), start=START, now=NOW)
