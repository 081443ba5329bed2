"""OpenMetrics exposition of a simulation."""

from __future__ import annotations

from pathlib import Path

from kubetally.sources.simulator.model import Simulation


def write_openmetrics(sim: Simulation, path: Path, *, scrape_interval_seconds: int) -> None:
    raise NotImplementedError
