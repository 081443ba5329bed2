"""Every fleet answer equals the combination of the three ledgers' answers; the invariant holds on the fleet."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from kubetally.ledger import Ledger
from kubetally.ledger.fleet import FleetLedger
from kubetally.query import AllocationQuery, AssetQuery, check_invariant, run_allocation, run_assets
from kubetally.query.allocation import Reader, group_spec, grouped_frame
from kubetally.query.assets import asset_sql
from kubetally.query.cloud import cloud_cost_frame
from tests.fleet.conftest import CLUSTERS, NOW, WINDOW

ALLOCATION_QUERIES = [
    {"aggregate": "namespace", "includeIdle": "true"},
    {"aggregate": "cluster", "includeIdle": "true"},
    {"aggregate": "label:team", "includeIdle": "true"},
    {"aggregate": "cluster,namespace", "idle": "true", "shareIdle": "true"},
    {"aggregate": "cluster,namespace", "includeIdle": "true", "shareNamespaces": "kube-system"},
    {"aggregate": "namespace", "step": "1d"},
]


@pytest.fixture(scope="module")
def store(fleet: Path) -> Iterator[FleetLedger]:
    with FleetLedger(str(fleet)) as opened:
        yield opened


@pytest.fixture(scope="module")
def each(ledgers: dict[str, Path]) -> Iterator[list[Ledger]]:
    opened = [Ledger.open(ledgers[name], read_only=True) for name in CLUSTERS]
    yield opened
    for ledger in opened:
        ledger.close()


def grouped(reader: Reader, query: AllocationQuery) -> pl.DataFrame:
    """The unrounded allocation groups after idle and sharing, summed by set and name."""
    frame = grouped_frame(reader, query, group_spec(query))
    numbers = [c for c, t in frame.schema.items() if t == pl.Float64 and not c.endswith("_max")]
    return frame.group_by("set_idx", "name").agg(pl.col(numbers).sum())


def assert_frames_close(got: pl.DataFrame, want: pl.DataFrame, keys: list[str]) -> None:
    got, want = got.sort(keys), want.sort(keys)
    assert got.select(keys).equals(want.select(keys))
    for column in got.columns:
        if column not in keys:
            assert got[column].to_list() == pytest.approx(want[column].to_list(), abs=1e-9, rel=1e-12), column


@pytest.mark.parametrize("params", ALLOCATION_QUERIES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_fleet_allocations_equal_the_sum_of_the_ledgers(
    params: dict[str, str], store: FleetLedger, each: list[Ledger]
) -> None:
    query = AllocationQuery.from_params({"window": WINDOW, **params}, NOW)
    fleet = grouped(store, query)
    assert fleet.height and fleet["total_cost" if "total_cost" in fleet.columns else "cpu_cost"].sum() > 0
    if params == ALLOCATION_QUERIES[0]:
        assert {"__idle__", "__unmounted__"} <= set(fleet["name"]), "idle and unmounted volumes are compared"
    parts = pl.concat([grouped(ledger, query) for ledger in each])
    combined = parts.group_by("set_idx", "name").agg(pl.exclude("set_idx", "name").sum())
    if "shareNamespaces" in params:
        # Shared costs spread over the fleet's allocations (one set), not cluster by cluster: the totals agree.
        assert fleet["shared_cost"].sum() > 0
        assert fleet["shared_cost"].sum() == pytest.approx(combined["shared_cost"].sum(), abs=1e-9, rel=1e-12)
        fleet, combined = fleet.drop("shared_cost"), combined.drop("shared_cost")
    assert_frames_close(fleet, combined, ["set_idx", "name"])
    api = run_allocation(store, query)
    assert sorted(api[0]) == sorted(fleet.filter(pl.col("set_idx") == 0)["name"].to_list())


@pytest.mark.parametrize("aggregate", ["type", "cluster", ""])
def test_fleet_assets_equal_the_sum_of_the_ledgers(aggregate: str, store: FleetLedger, each: list[Ledger]) -> None:
    params = {"window": WINDOW, "accumulate": "true", **({"aggregate": aggregate} if aggregate else {})}
    query = AssetQuery.from_params(params, NOW)
    sql = asset_sql(query)
    fleet = store.fetch(sql.text, sql.params)
    parts = pl.concat([ledger.fetch(sql.text, sql.params) for ledger in each])
    keys = [c for c in fleet.columns if c == "set_idx" or (c[0] == "k" and c[1:].isdigit())]
    numbers = [c for c, t in fleet.schema.items() if t == pl.Float64]
    assert fleet["adjustment"].abs().sum() > 0, "the bills were reconciled"
    combined = parts.group_by(keys).agg(pl.col(numbers).sum())
    assert_frames_close(fleet.group_by(keys).agg(pl.col(numbers).sum()), combined, keys)
    assert len(run_assets(store, query)[0]) > 0


def cloud_totals(reader: Reader) -> dict[str, float]:
    query = AllocationQuery.from_params({"window": WINDOW}, NOW)
    frame = cloud_cost_frame(reader, query.window, "service", "")
    return {row["name"]: row["billed_cost"] for row in frame.iter_rows(named=True)}


def test_fleet_cloud_costs_equal_the_sum_of_the_ledgers(store: FleetLedger, each: list[Ledger]) -> None:
    want: dict[str, float] = defaultdict(float)
    for ledger in each:
        for name, value in cloud_totals(ledger).items():
            want[name] += value
    got = cloud_totals(store)
    assert want and sorted(got) == sorted(want)
    for name, value in want.items():
        assert got[name] == pytest.approx(value, abs=1e-9, rel=1e-12)


def test_invariant_holds_on_the_fleet_and_its_terms_are_the_sums(store: FleetLedger, each: list[Ledger]) -> None:
    window = AllocationQuery.from_params({"window": WINDOW}, NOW).window
    fleet = check_invariant(store, window)
    parts = [check_invariant(ledger, window) for ledger in each]
    assert fleet.holds and fleet.relative_error < 1e-9
    for term in ("assets", "allocations", "idle", "overhead"):
        assert getattr(fleet, term) == pytest.approx(sum(getattr(p, term) for p in parts), abs=1e-9, rel=1e-12)
    assert store.fetch("SELECT count(DISTINCT cluster) AS n FROM allocations").item() == len(CLUSTERS)


@pytest.mark.parametrize("split", ["weighted", "even", "metric:cpu"])
def test_sharing_holds_per_cluster_and_its_total_for_the_fleet(
    split: str, store: FleetLedger, each: list[Ledger]
) -> None:
    """kube-system shared (even, weighted or by CPU) with idle shared: the fleet limited to one cluster answers as
    that cluster's ledger; the whole fleet's columns (shared and every cost) sum to the clusters' sums."""
    params = {
        "window": WINDOW,
        "aggregate": "namespace",
        "shareIdle": "true",
        "shareNamespaces": "kube-system",
        "shareSplit": split,
    }
    query = AllocationQuery.from_params(params, NOW)
    parts = []
    for name, ledger in zip(CLUSTERS, each, strict=True):
        want = grouped(ledger, query)
        assert want["shared_cost"].sum() > 0
        assert_frames_close(grouped(store.scoped(frozenset({name})), query), want, ["set_idx", "name"])
        parts.append(want)
    fleet = grouped(store, query)
    assert "shared_cost" in fleet.columns
    for column in fleet.columns[2:]:
        want_total = sum(part[column].sum() for part in parts)
        assert fleet[column].sum() == pytest.approx(want_total, abs=1e-9, rel=1e-12), column


def test_the_invariant_holds_on_each_cluster_of_the_fleet(store: FleetLedger, each: list[Ledger]) -> None:
    window = AllocationQuery.from_params({"window": WINDOW}, NOW).window
    for name, ledger in zip(CLUSTERS, each, strict=True):
        got, want = check_invariant(store.scoped(frozenset({name})), window), check_invariant(ledger, window)
        assert got.holds and got.relative_error < 1e-9
        for term in ("assets", "allocations", "idle", "overhead"):
            assert getattr(got, term) == pytest.approx(getattr(want, term), abs=1e-9, rel=1e-12)
