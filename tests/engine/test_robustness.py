"""Edge cases of ``compute``: an empty history, degenerate nodes and pods, and run-to-run determinism."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.costs import COST_SCHEMAS, CostResult
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.engine.pipeline import compute
from kubetally.history import ClusterHistory
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history
from tests.engine.conftest import GIB, FixedPrices, at, history, node

FRAMES = list(COST_SCHEMAS)


def no_nan(result: CostResult) -> dict[str, list[str]]:
    """The float columns holding NaN, per output frame (empty when there are none)."""
    found: dict[str, list[str]] = {}
    for name in FRAMES:
        frame: pl.DataFrame = getattr(result, name)
        floats = [column for column, dtype in frame.schema.items() if dtype == pl.Float64]
        bad = [column for column in floats if frame.get_column(column).is_nan().any()]
        if bad:
            found[name] = bad
    return found


def test_an_empty_history_gives_empty_frames_with_their_schemas(prices: FixedPrices) -> None:
    empty = history(hours=3)
    result = compute(empty, prices, BillingPolicy())
    for name, schema in COST_SCHEMAS.items():
        frame: pl.DataFrame = getattr(result, name)
        assert frame.schema == schema, name
        assert frame.height == 0, name


def test_a_zero_capacity_node_costs_nothing_and_gives_no_nan(prices: FixedPrices) -> None:
    result = compute(
        history(
            nodes=[node(cpu_cores=0.0, ram_bytes=0.0)],
            pods=[{"pod_uid": "p1", "pod": "p1"}],
            pod_intervals=[{"pod_uid": "p1", "start": at(0), "end": at(60)}],
            containers=[{"pod_uid": "p1", "cpu_request_cores": 1.0, "ram_request_bytes": GIB}],
            container_intervals=[{"pod_uid": "p1", "start": at(0), "end": at(60)}],
        ),
        prices,
        BillingPolicy(),
    )
    assert no_nan(result) == {}
    assert result.allocations.get_column("total_cost").sum() == pytest.approx(0.0, abs=1e-12)


def test_a_pod_without_containers_gives_no_nan(prices: FixedPrices) -> None:
    result = compute(
        history(
            nodes=[node()],
            pods=[{"pod_uid": "p1", "pod": "p1"}],
            pod_intervals=[{"pod_uid": "p1", "start": at(0), "end": at(60)}],
        ),
        prices,
        BillingPolicy(),
    )
    assert no_nan(result) == {}
    kinds = result.allocations.get_column("kind").to_list()
    assert kinds == ["idle"]


@pytest.fixture(scope="module")
def demo_day() -> tuple[ClusterHistory, PriceBook]:
    scenario = load_scenario("demo")
    start, now = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)
    return to_history(simulate(scenario, start=start, hours=24, now=now)), scenario_pricebook(scenario)


def test_the_same_history_gives_identical_frames(demo_day: tuple[ClusterHistory, PriceBook]) -> None:
    source, book = demo_day
    runs = [compute(source, book, BillingPolicy()) for _ in range(3)]
    for name in FRAMES:
        first: pl.DataFrame = getattr(runs[0], name)
        assert first.height > 0, name
        for other in runs[1:]:
            assert first.equals(getattr(other, name)), name


def test_allocation_rows_do_not_depend_on_the_row_order_of_the_history(
    demo_day: tuple[ClusterHistory, PriceBook],
) -> None:
    source, book = demo_day
    shuffled = ClusterHistory.build(
        source.start,
        source.end,
        **{name: frame.sample(fraction=1.0, shuffle=True, seed=5) for name, frame in source.tables().items()},
    )
    expected = compute(source, book, BillingPolicy())
    got = compute(shuffled, book, BillingPolicy())
    for name in ("allocations", "allocation_pvs", "allocation_lbs", "pods"):
        assert_frame_equal(getattr(expected, name), getattr(got, name), check_exact=False, rel_tol=1e-12)
