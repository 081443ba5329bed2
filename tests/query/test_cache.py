"""QueryCache on a real ledger of the ``small`` scenario: hits, invalidation by window version, LRU, threads."""

from __future__ import annotations

import copy
import json
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kubetally.api.envelope import success
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.domain.pricing.custom import parse_custom_pricing
from kubetally.engine import compute
from kubetally.errors import InvalidParameter
from kubetally.history import ClusterHistory
from kubetally.ingest import ingest
from kubetally.ledger import PROVISIONAL, Ledger, RunInfo
from kubetally.query import AllocationQuery, AssetQuery, run_allocation, run_assets
from kubetally.query.cache import VERSION_SQL, QueryCache
from kubetally.sources import StaticSource
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

START = datetime(2026, 1, 1, tzinfo=UTC)
HOURS = 8
NOW = START + timedelta(days=2)


def at(hours: int) -> datetime:
    return START + timedelta(hours=hours)


def span(first: int, stop: int) -> str:
    """A window parameter for hours ``[first, stop)`` after START."""
    return f"{at(first).isoformat()},{at(stop).isoformat()}".replace("+00:00", "Z")


@pytest.fixture(scope="module")
def history() -> ClusterHistory:
    return to_history(simulate(load_scenario("small"), start=START, hours=HOURS + 2, now=START + timedelta(days=30)))


@pytest.fixture(scope="module")
def prices() -> PriceBook:
    return scenario_pricebook(load_scenario("small"))


@pytest.fixture(scope="module")
def dearer_cpu() -> PriceBook:
    """The scenario's prices with CPU (on demand and spot) ten times dearer."""
    pricing = dict(load_scenario("small").pricing)
    pricing["CPU"] = float(pricing["CPU"]) * 10
    pricing["spotCPU"] = float(pricing["spotCPU"]) * 10
    return PriceBook(parse_custom_pricing(pricing))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, history: ClusterHistory, prices: PriceBook) -> Path:
    """A ledger of hours ``[0, HOURS)``, ingested hour by hour."""
    path = tmp_path_factory.mktemp("cache") / "built.duckdb"
    with Ledger.open(path) as ledger:
        reingest(ledger, history, prices, 0, HOURS)
    return path


@pytest.fixture
def ledger(built: Path, tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "ledger.duckdb"
    shutil.copy(built, path)
    with Ledger.open(path) as opened:
        yield opened


def reingest(ledger: Ledger, history: ClusterHistory, prices: PriceBook, first: int, stop: int) -> None:
    ingest(
        StaticSource("sim", history),
        ledger,
        prices=prices,
        policy=BillingPolicy(),
        start=at(first),
        end=at(stop),
        chunk=timedelta(hours=1),
    )


@dataclass
class CountingReader:
    """A Reader that records every SQL text it is asked and can run an action after a given fetch."""

    ledger: Ledger
    queries: list[str] = field(default_factory=list)
    after: dict[int, Callable[[], None]] = field(default_factory=dict)

    def fetch(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> pl.DataFrame:
        self.queries.append(sql)
        frame = self.ledger.fetch(sql, params)
        action = self.after.pop(len(self.queries), None)
        if action is not None:
            action()
        return frame

    def take(self) -> list[str]:
        taken, self.queries = self.queries, []
        return taken


def allocation(params: dict[str, str], now: datetime = NOW) -> AllocationQuery:
    return AllocationQuery.from_params(params, now)


def total_cpu_cost(sets: list[dict[str, dict[str, Any]]]) -> float:
    return sum(float(entry["cpuCost"] or 0.0) for one in sets for entry in one.values())


BY_NAMESPACE = {"window": span(0, 4), "aggregate": "namespace"}


def test_second_identical_query_reads_only_the_window_version(ledger: Ledger) -> None:
    reader, cache = CountingReader(ledger), QueryCache()
    first = cache.allocation(reader, allocation(BY_NAMESPACE))
    assert len(reader.take()) > 1
    second = cache.allocation(reader, allocation(BY_NAMESPACE))
    assert reader.take() == [VERSION_SQL]
    assert second == first
    assert (cache.stats.hits, cache.stats.misses, cache.stats.entries) == (1, 1, 1)


def test_with_a_row_bound_a_cached_answer_or_refusal_costs_only_the_window_version(ledger: Ledger) -> None:
    reader, cache = CountingReader(ledger), QueryCache(max_query_rows=50)
    first = cache.allocation(reader, allocation(BY_NAMESPACE))
    reader.take()
    assert cache.allocation(reader, allocation(BY_NAMESPACE)) == first
    assert reader.take() == [VERSION_SQL]
    hourly = allocation({"window": span(0, 8), "step": "1h"})
    for repeat in range(2):
        with pytest.raises(InvalidParameter, match="at most 50 are answered") as refused:
            cache.allocation(reader, hourly)
        assert refused.value.parameter == "step"
        queries = reader.take()
        assert (queries == [VERSION_SQL]) == (repeat == 1), queries


@pytest.mark.parametrize(
    "params",
    [
        BY_NAMESPACE,
        {"window": span(0, 6)},
        {"window": span(1, 7), "aggregate": "namespace,controller", "step": "2h", "shareIdle": "true"},
        {"window": span(0, 8), "aggregate": "cluster", "accumulate": "false", "step": "1h", "idle": "hide"},
    ],
)
def test_cached_answers_equal_uncached_answers(ledger: Ledger, params: dict[str, str]) -> None:
    cache, query = QueryCache(), allocation(params)
    expected = run_allocation(ledger, query)
    assert cache.allocation(ledger, query) == expected
    assert cache.allocation(ledger, query) == expected
    assert cache.stats.hits == 1


def test_cached_asset_answers_equal_uncached_answers(ledger: Ledger) -> None:
    cache = QueryCache()
    for params in ({"window": span(0, 5)}, {"window": span(0, 5), "aggregate": "type", "step": "1h"}):
        query = AssetQuery.from_params(params, NOW)
        expected = run_assets(ledger, query)
        assert expected and cache.assets(ledger, query) == expected
        assert cache.assets(ledger, query) == expected
    assert (cache.stats.hits, cache.stats.misses) == (2, 2)


@pytest.mark.parametrize(
    ("first", "second", "second_now"),
    [
        ({"window": span(0, 4), "aggregate": "Namespace"}, {"window": span(0, 4), "aggregate": "namespace"}, NOW),
        ({"window": span(0, 4), "includeIdle": "true"}, {"window": span(0, 4), "idle": "separate"}, NOW),
        ({"window": span(0, 4), "shareSplit": "weighted"}, {"window": span(0, 4), "accumulate": "false"}, NOW),
        (BY_NAMESPACE, {"window": "4h", "aggregate": "namespace"}, at(4)),
        (
            {"window": span(0, 4), "filter": 'namespace:"shop"'},
            {"window": span(0, 4), "filter": ' namespace : "shop" '},
            NOW,
        ),
    ],
)
def test_spellings_of_one_query_share_an_entry(
    ledger: Ledger, first: dict[str, str], second: dict[str, str], second_now: datetime
) -> None:
    reader, cache = CountingReader(ledger), QueryCache()
    answer = cache.allocation(reader, allocation(first))
    reader.take()
    assert cache.allocation(reader, allocation(second, second_now)) == answer
    assert reader.take() == [VERSION_SQL]
    assert len(cache) == 1


def test_asset_aggregate_spellings_share_an_entry(ledger: Ledger) -> None:
    reader, cache = CountingReader(ledger), QueryCache()
    lower = cache.assets(reader, AssetQuery.from_params({"window": span(0, 4), "aggregate": "type"}, NOW))
    reader.take()
    upper = cache.assets(reader, AssetQuery.from_params({"window": span(0, 4), "aggregate": "Type"}, NOW))
    assert reader.take() == [VERSION_SQL]
    assert upper == lower and len(cache) == 1


def test_reingest_inside_the_window_invalidates_and_the_answer_shows_the_rewrite(
    ledger: Ledger, history: ClusterHistory, dearer_cpu: PriceBook
) -> None:
    reader, cache = CountingReader(ledger), QueryCache()
    query = allocation(BY_NAMESPACE)
    before = cache.allocation(reader, query)
    reingest(ledger, history, dearer_cpu, 2, 3)
    reader.take()
    after = cache.allocation(reader, query)
    assert len(reader.take()) > 1
    assert after == run_allocation(ledger, query)
    assert total_cpu_cost(after) > total_cpu_cost(before)
    assert len(cache) == 1


def test_reingest_outside_the_window_keeps_the_entry(
    ledger: Ledger, history: ClusterHistory, dearer_cpu: PriceBook
) -> None:
    reader, cache = CountingReader(ledger), QueryCache()
    query = allocation(BY_NAMESPACE)
    before = cache.allocation(reader, query)
    reingest(ledger, history, dearer_cpu, 5, 7)
    reader.take()
    assert cache.allocation(reader, query) == before
    assert reader.take() == [VERSION_SQL]
    assert before == run_allocation(ledger, query)


def test_first_write_of_an_uncovered_hour_in_the_window_invalidates(
    ledger: Ledger, history: ClusterHistory, prices: PriceBook
) -> None:
    reader, cache = CountingReader(ledger), QueryCache()
    query = allocation({"window": span(4, HOURS + 2), "aggregate": "cluster"})
    before = cache.allocation(reader, query)
    reingest(ledger, history, prices, HOURS, HOURS + 1)
    reader.take()
    after = cache.allocation(reader, query)
    assert len(reader.take()) > 1
    assert after == run_allocation(ledger, query)
    assert total_cpu_cost(after) > total_cpu_cost(before)


def test_a_provisional_hour_made_final_invalidates(ledger: Ledger, history: ClusterHistory, prices: PriceBook) -> None:
    result = compute(history.slice(at(HOURS), at(HOURS + 1)), prices, BillingPolicy())
    ledger.write(
        result, clusters=history.clusters, start=at(HOURS), end=at(HOURS + 1), run=RunInfo("sim", (PROVISIONAL,))
    )
    assert ledger.provisional_hours().height == len(history.clusters)
    reader, cache = CountingReader(ledger), QueryCache()
    query = allocation({"window": span(6, HOURS + 1), "aggregate": "namespace"})
    provisional = cache.allocation(reader, query)
    assert cache.allocation(reader, query) == provisional
    reader.take()
    ledger.write(result, clusters=history.clusters, start=at(HOURS), end=at(HOURS + 1), run=RunInfo("sim"))
    assert ledger.provisional_hours().height == 0
    assert cache.allocation(reader, query) == provisional
    assert len(reader.take()) > 1
    assert cache.stats.misses == 2


def test_a_write_during_the_computation_is_not_cached(
    ledger: Ledger, history: ClusterHistory, dearer_cpu: PriceBook
) -> None:
    reader, cache = CountingReader(ledger), QueryCache()
    reader.after[2] = lambda: reingest(ledger, history, dearer_cpu, 1, 2)
    query = allocation(BY_NAMESPACE)
    cache.allocation(reader, query)
    assert len(cache) == 0
    reader.take()
    assert cache.allocation(reader, query) == run_allocation(ledger, query)
    assert len(reader.take()) > 1


def test_least_recently_used_entries_are_evicted(ledger: Ledger) -> None:
    reader, cache = CountingReader(ledger), QueryCache(max_entries=2)
    a, b, c = (allocation({"window": span(0, stop), "aggregate": "namespace"}) for stop in (2, 3, 4))
    cache.allocation(reader, a)
    cache.allocation(reader, b)
    cache.allocation(reader, a)
    cache.allocation(reader, c)
    assert len(cache) == 2
    reader.take()
    cache.allocation(reader, a)
    assert reader.take() == [VERSION_SQL]
    cache.allocation(reader, b)
    assert len(reader.take()) > 1
    assert len(cache) == 2
    assert cache.stats.misses == 4


@pytest.mark.parametrize("bad", [0, -1, True])
def test_max_entries_must_be_a_positive_whole_number(bad: int) -> None:
    with pytest.raises(InvalidParameter, match="max_entries") as raised:
        QueryCache(max_entries=bad)
    assert raised.value.parameter == "max_entries"


def test_threads_get_the_same_answers_and_each_query_is_computed_once(ledger: Ledger) -> None:
    queries = [allocation({"window": span(0, stop), "aggregate": "namespace"}) for stop in range(2, 7)]
    expected = [run_allocation(ledger, query) for query in queries]
    cache = QueryCache()
    answers: dict[tuple[int, int], list[dict[str, dict[str, Any]]]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(thread: int) -> None:
        try:
            start.wait()
            for round_ in range(3):
                for i in range(len(queries)):
                    index = (i + thread) % len(queries)
                    answers[(thread * 100 + round_, index)] = cache.allocation(ledger, queries[index])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(answers) == 8 * 3 * len(queries)
    assert all(answer == expected[index] for (_, index), answer in answers.items())
    assert cache.stats.misses == len(queries)
    assert cache.stats.hits == 8 * 3 * len(queries) - len(queries)


def test_serialising_an_answer_for_the_api_leaves_the_cached_entry_intact(ledger: Ledger) -> None:
    cache, query = QueryCache(), allocation({"window": span(0, 4), "shareIdle": "true", "step": "2h"})
    answer = cache.allocation(ledger, query)
    snapshot = copy.deepcopy(answer)
    body = json.loads(bytes(success(answer).body))
    assert body["data"] == json.loads(json.dumps(snapshot))
    assert cache.allocation(ledger, query) == snapshot
