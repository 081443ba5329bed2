"""The daily rollup path of the query layer gives the same allocations as reading every hour.

The ledger holds 84 hours (3.5 days) of the ``demo`` scenario (two clusters, labels, PVs, load balancers,
ClusterManagement), written in three chunks that end mid-day, so that the rollup has been refreshed partially.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.domain.policy import BillingPolicy
from kubetally.domain.window import Window
from kubetally.ingest import ingest
from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, run_allocation
from kubetally.query.allocation import group_spec, grouped_frame
from kubetally.query.sql import Spans, allocation_source_sql, spans
from kubetally.sources import StaticSource
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

START = datetime(2026, 1, 1, tzinfo=UTC)
HOURS = 84
NOW = START + timedelta(days=30)
H = timedelta(hours=1)
DAY = timedelta(days=1)


def iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def window(first_hour: int, last_hour: int) -> str:
    return f"{iso(START + first_hour * H)},{iso(START + last_hour * H)}"


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rollup") / "demo.duckdb"
    scenario = load_scenario("demo")
    history = to_history(simulate(scenario, start=START, hours=HOURS, now=NOW))
    with Ledger.open(path) as ledger:
        for first, stop in ((0, 30), (30, 61), (61, HOURS)):
            ingest(
                StaticSource("simulator:demo", history),
                ledger,
                prices=scenario_pricebook(scenario),
                policy=BillingPolicy(),
                start=START + first * H,
                end=START + stop * H,
            )
    return path


@pytest.fixture(scope="module")
def ledger(demo_ledger: Path) -> Any:
    with Ledger.open(demo_ledger, read_only=True) as opened:
        yield opened


ROUNDING = 1.000001e-5
"""The responses round money and quantities to 5 decimals: sums that differ in their last bits can round to
neighbouring values, so responses are compared to one unit of the 5th decimal (the frames before rounding
to 1e-9)."""


def assert_same(left: Any, right: Any, where: str = "") -> None:
    """Equal structures; numbers equal up to the 5-decimal rounding of the responses."""
    if isinstance(left, dict):
        assert isinstance(right, dict), where
        assert sorted(left) == sorted(right), where
        for key in left:
            assert_same(left[key], right[key], f"{where}/{key}")
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right), where
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(left, float) and not isinstance(left, bool):
        assert isinstance(right, int | float), where
        assert math.isclose(left, right, rel_tol=1e-9, abs_tol=ROUNDING), f"{where}: {left} != {right}"
    else:
        assert left == right, f"{where}: {left!r} != {right!r}"


SHAPES: dict[str, dict[str, str]] = {
    "unaggregated": {},
    "namespace": {"aggregate": "namespace"},
    "cluster,node": {"aggregate": "cluster,node"},
    "pod,container": {"aggregate": "namespace,pod,container"},
    "label": {"aggregate": "label:app"},
    "label+namespace, hidden idle": {"aggregate": "namespace,label:team", "idle": "hide"},
    "controller": {"aggregate": "controllerKind,controller"},
    "filter namespace": {"aggregate": "namespace", "filter": 'namespace:"checkout","kube-system"'},
    "filter label": {"aggregate": "pod", "filter": 'label[app]:"checkout-web","etl"'},
    "idle by node": {"aggregate": "node", "idleByNode": "true"},
    "share idle weighted": {"aggregate": "namespace", "idle": "share", "shareSplit": "weighted"},
    "share idle even by node": {"aggregate": "namespace", "idle": "share", "shareSplit": "even", "idleByNode": "true"},
    "split idle": {"aggregate": "cluster", "splitIdle": "true"},
    "share namespaces": {"aggregate": "namespace", "shareNamespaces": "kube-system,monitoring"},
    "share labels": {"aggregate": "namespace", "shareLabels": "team:platform"},
    "share filter + tenancy": {
        "aggregate": "namespace",
        "shareFilter": 'namespace:"monitoring"',
        "shareTenancyCosts": "true",
        "shareCost": "100",
    },
}

PERIODS: dict[str, dict[str, str]] = {
    "3 whole days, accumulated": {"window": window(0, 72)},
    "3 whole days, step 1d": {"window": window(0, 72), "step": "1d"},
    "3 whole days, step 1h": {"window": window(0, 72), "step": "1h"},
    "ragged edges, accumulated": {"window": window(5, HOURS)},
    "ragged edges, accumulate=true": {"window": window(5, 79), "accumulate": "true"},
    "start on a day, step 1d": {"window": window(24, HOURS), "step": "1d"},
    "ragged start, step 1d": {"window": window(7, HOURS), "step": "1d"},
    "2 days, step 2d": {"window": window(0, 48), "step": "2d"},
}


def in_order(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` sorted by its scalar columns, labels first, so that equal groups line up."""
    scalars = [c for c, t in frame.schema.items() if not t.is_nested()]
    floats = [c for c in scalars if frame.schema[c] == pl.Float64]
    return frame.sort([c for c in scalars if c not in floats] + floats, nulls_last=True)


def compare(ledger: Ledger, params: dict[str, str]) -> None:
    """Grouped frames (after idle and sharing) equal to 1e-9, and responses equal up to their rounding."""
    query = AllocationQuery.from_params(params, NOW)
    frames = [grouped_frame(ledger, query, group_spec(query, rollup=rollup)) for rollup in (False, True)]
    assert frames[0].height > 0, params
    assert_frame_equal(in_order(frames[1]), in_order(frames[0]), rel_tol=1e-9, abs_tol=1e-9)
    hourly = run_allocation(ledger, query, rollup=False)
    daily = run_allocation(ledger, query, rollup=True)
    assert any(allocations for allocations in hourly), params
    assert_same(daily, hourly)


@pytest.mark.parametrize("period", list(PERIODS))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_rollup_path_equals_the_hourly_path(ledger: Ledger, shape: str, period: str) -> None:
    compare(ledger, {**SHAPES[shape], **PERIODS[period]})


@pytest.mark.parametrize(
    "period", ["3 whole days, accumulated", "ragged edges, accumulated", "start on a day, step 1d"]
)
def test_the_matrix_periods_read_the_rollup(period: str) -> None:
    query = AllocationQuery.from_params(PERIODS[period], NOW)
    assert spans(query.window, query.sets).days is not None
    assert "allocations_daily" in allocation_source_sql(query.window, query.sets).text


def test_whole_days_come_from_the_rollup_and_the_edges_hour_by_hour() -> None:
    ragged = Window(START + 5 * H, START + 3 * DAY + 7 * H)
    assert spans(ragged, (ragged,)) == Spans(
        (START + DAY, START + 3 * DAY), ((ragged.start, START + DAY), (START + 3 * DAY, ragged.end))
    )
    aligned = Window(START, START + 2 * DAY)
    assert spans(aligned, (Window(START, START + DAY), Window(START + DAY, aligned.end))) == Spans(
        (START, START + 2 * DAY), ()
    )


def test_set_boundaries_inside_a_day_or_no_whole_day_read_hours_only() -> None:
    aligned = Window(START, START + 2 * DAY)
    by_hour = tuple(Window(START + i * H, START + (i + 1) * H) for i in range(48))
    assert spans(aligned, by_hour) == Spans(None, ((aligned.start, aligned.end),))
    noon = Window(START + 12 * H, START + 36 * H)
    assert spans(noon, (noon,)) == Spans(None, ((noon.start, noon.end),))
    assert spans(aligned, (aligned,), rollup=False) == Spans(None, ((aligned.start, aligned.end),))
    assert "allocations_daily" not in allocation_source_sql(aligned, by_hour).text
