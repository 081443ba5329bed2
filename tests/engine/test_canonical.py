"""compute is independent of the row order of its input, to the last bit."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from kubetally.costs import COST_SCHEMAS
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.engine.canonical import canonical, sort_keys
from kubetally.engine.pipeline import compute
from kubetally.history import ClusterHistory
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history


@pytest.fixture(scope="module")
def demo_day() -> tuple[ClusterHistory, PriceBook]:
    scenario = load_scenario("demo")
    start, now = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)
    return to_history(simulate(scenario, start=start, hours=24, now=now)), scenario_pricebook(scenario)


def shuffled(history: ClusterHistory, seed: int) -> ClusterHistory:
    tables = {name: frame.sample(fraction=1.0, shuffle=True, seed=seed) for name, frame in history.tables().items()}
    return ClusterHistory.build(history.start, history.end, **tables)


@pytest.mark.parametrize("seed", [3, 11])
def test_a_row_shuffled_history_gives_bit_identical_frames(
    demo_day: tuple[ClusterHistory, PriceBook], seed: int
) -> None:
    source, book = demo_day
    mixed = shuffled(source, seed)
    assert not all(mixed.tables()[name].equals(frame) for name, frame in source.tables().items() if frame.height > 1)
    expected = compute(source, book, BillingPolicy())
    got = compute(mixed, book, BillingPolicy())
    for name in COST_SCHEMAS:
        frame: pl.DataFrame = getattr(expected, name)
        assert frame.height > 0, name
        assert frame.equals(getattr(got, name)), name


def test_canonical_sorts_every_table_by_its_orderable_columns(demo_day: tuple[ClusterHistory, PriceBook]) -> None:
    source, _ = demo_day
    ordered = canonical(shuffled(source, 5))
    for name, frame in ordered.tables().items():
        assert frame.equals(source.tables()[name].sort(sort_keys(frame), nulls_last=True)), name
    assert "labels" not in sort_keys(source.pods)
    assert "pod_uid" in sort_keys(source.pods)
