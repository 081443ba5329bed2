"""The Follower: backfill, provisional then final hours, source failures, resuming after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.errors import InvalidParameter
from kubetally.history import ClusterHistory
from kubetally.ingest import Follower, ingest, missing_hours
from kubetally.ingest.follow import final_coverage
from kubetally.ledger import PROVISIONAL, Ledger
from kubetally.sources import StaticSource
from tests.serve.conftest import START, FlakySource, at


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "follow.duckdb") as opened:
        yield opened


def follower(
    source: StaticSource | FlakySource, ledger: Ledger, prices: PriceBook, clock: Clock, backfill: timedelta
) -> Follower:
    return Follower(source, ledger, prices, BillingPolicy(), backfill=backfill, clock=clock, chunk=timedelta(hours=1))


def final_hours(ledger: Ledger) -> list[datetime]:
    return sorted(final_coverage(ledger).get_column("hour").to_list())


def provisional_hours(ledger: Ledger) -> list[datetime]:
    final = set(final_hours(ledger))
    return [hour for hour in ledger.coverage().get_column("hour").to_list() if hour not in final]


def facts(ledger: Ledger, table: str) -> pl.DataFrame:
    return ledger.fetch(f"SELECT * FROM {table} ORDER BY ALL")


def test_first_step_backfills_closed_hours_and_writes_the_open_hour_provisionally(
    ledger: Ledger, history: ClusterHistory, prices: PriceBook
) -> None:
    clock = Clock(at(3, 20))
    report = follower(StaticSource("sim", history), ledger, prices, clock, timedelta(hours=3)).step()
    assert report.hours_written == 3
    assert report.provisional_hour == at(3)
    assert report.failures == ()
    assert report.latest_final_end == at(3)
    assert final_hours(ledger) == [at(0), at(1), at(2)]
    assert provisional_hours(ledger) == [at(3)]
    assert missing_hours(ledger, None, START, at(4)) == [(at(3), at(4))]
    provisional_runs = ledger.runs().filter(pl.col("warnings").str.contains(PROVISIONAL, literal=True))
    assert provisional_runs.select("start", "end").rows() == [(at(3), at(4))]


def test_the_backfill_reaches_only_as_far_back_as_configured(
    ledger: Ledger, history: ClusterHistory, prices: PriceBook
) -> None:
    follower(StaticSource("sim", history), ledger, prices, Clock(at(4, 30)), timedelta(hours=2)).step()
    assert final_hours(ledger) == [at(2), at(3)]
    assert provisional_hours(ledger) == [at(4)]


def test_a_provisional_hour_is_rewritten_final_once_it_closes(
    ledger: Ledger, history: ClusterHistory, prices: PriceBook, tmp_path: Path
) -> None:
    clock = Clock(at(3, 20))
    follow = follower(StaticSource("sim", history), ledger, prices, clock, timedelta(hours=3))
    follow.step()
    clock.now = at(3, 50)
    again = follow.step()
    assert (again.hours_written, again.provisional_hour) == (0, at(3))
    clock.now = at(4, 5)
    closed = follow.step()
    assert (closed.hours_written, closed.provisional_hour) == (1, at(4))
    assert final_hours(ledger) == [at(0), at(1), at(2), at(3)]
    assert provisional_hours(ledger) == [at(4)]
    with Ledger.open(tmp_path / "direct.duckdb") as direct:
        source = StaticSource("sim", history)
        ingest(source, direct, prices=prices, policy=BillingPolicy(), start=START, end=at(5))
        for table in ("allocations", "assets", "allocation_pvs", "allocation_lbs"):
            assert facts(ledger, table).equals(facts(direct, table)), table


def test_a_source_failure_leaves_the_hour_unwritten_and_the_next_step_fills_it(
    ledger: Ledger, history: ClusterHistory, prices: PriceBook
) -> None:
    source = FlakySource(StaticSource("sim", history), down={at(1)})
    clock = Clock(at(3, 20))
    follow = follower(source, ledger, prices, clock, timedelta(hours=3))
    report = follow.step()
    assert report.hours_written == 2
    assert len(report.failures) == 1 and "connection refused" in report.failures[0]
    assert final_hours(ledger) == [at(0), at(2)]
    assert missing_hours(ledger, ["small"], START, at(3)) == [(at(1), at(2))]
    source.down.clear()
    clock.now = at(3, 30)
    retried = follow.step()
    assert (retried.hours_written, retried.failures) == (1, ())
    assert final_hours(ledger) == [at(0), at(1), at(2)]


def test_a_source_down_when_the_hour_closes_keeps_it_provisional_until_it_returns(
    ledger: Ledger, history: ClusterHistory, prices: PriceBook
) -> None:
    source = FlakySource(StaticSource("sim", history))
    clock = Clock(at(3, 20))
    follow = follower(source, ledger, prices, clock, timedelta(hours=3))
    follow.step()
    source.all_down = True
    clock.now = at(4, 10)
    down = follow.step()
    assert (down.hours_written, down.provisional_hour, len(down.failures)) == (0, None, 2)
    assert provisional_hours(ledger) == [at(3)]
    assert down.latest_final_end == at(3)
    source.all_down = False
    clock.now = at(4, 20)
    back = follow.step()
    assert (back.hours_written, back.provisional_hour) == (1, at(4))
    assert final_hours(ledger) == [at(0), at(1), at(2), at(3)]


def test_a_restarted_follower_resumes_from_the_ledger(
    tmp_path: Path, history: ClusterHistory, prices: PriceBook
) -> None:
    path = tmp_path / "resume.duckdb"
    source = FlakySource(StaticSource("sim", history))
    with Ledger.open(path) as first:
        follower(source, first, prices, Clock(at(2, 30)), timedelta(hours=2, minutes=30)).step()
        assert final_hours(first) == [at(0), at(1)]
    source.fetches.clear()
    with Ledger.open(path) as second:
        report = follower(source, second, prices, Clock(at(5, 10)), timedelta(hours=5, minutes=10)).step()
        assert report.hours_written == 3
        assert source.fetches == [(at(2), at(3)), (at(3), at(4)), (at(4), at(5)), (at(5), at(6))]
        with Ledger.open(tmp_path / "direct.duckdb") as direct:
            ingest(StaticSource("sim", history), direct, prices=prices, policy=BillingPolicy(), start=START, end=at(5))
            final = facts(second, "allocations").filter(pl.col("hour") < at(5))
            assert final.equals(facts(direct, "allocations"))


def test_missing_hours_of_an_empty_ledger_is_the_whole_range(ledger: Ledger) -> None:
    assert missing_hours(ledger, None, at(0, 30), at(3, 10)) == [(at(0), at(3))]
    assert missing_hours(ledger, ["small"], at(2), at(2)) == []


def test_bad_follower_parameters_are_named(ledger: Ledger, history: ClusterHistory, prices: PriceBook) -> None:
    source = StaticSource("sim", history)
    with pytest.raises(InvalidParameter, match="backfill"):
        follower(source, ledger, prices, Clock(at(1)), timedelta(hours=-1))
    naive = follower(source, ledger, prices, Clock(datetime(2026, 1, 1, 3)), timedelta(hours=1))
    with pytest.raises(InvalidParameter, match="clock"):
        naive.step()


def test_degraded_inputs_travel_with_the_report_and_the_run_records(
    ledger: Ledger, history: ClusterHistory, prices: PriceBook
) -> None:
    source = StaticSource("sim", history, warnings=("kube_pod_labels is missing",))
    report = follower(source, ledger, prices, Clock(at(1, 10)), timedelta(hours=1)).step()
    assert report.warnings == ("kube_pod_labels is missing",)
    runs = ledger.runs().select("start", "warnings").rows()
    assert runs == [
        (at(0), '["kube_pod_labels is missing"]'),
        (at(1), f'["kube_pod_labels is missing", "{PROVISIONAL}"]'),
    ]
    assert final_hours(ledger) == [at(0)]
