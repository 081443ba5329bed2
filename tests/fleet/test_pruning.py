"""Partition pruning: a query bounded by a window and a cluster scope opens only its days' and cluster's partitions.

The proof is by corruption: in a copy of the fleet, every data file a query of cluster ``fleet-a`` over 2 March
should not need is replaced by bytes that are not Parquet. A store that opened any of them would fail; the pruned
stores answer, and their answers equal the cluster's own ledger's. The files kept are named here, from the layout
(docs/fleet.md), not from the code under test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator, token_digest
from kubetally.errors import LedgerError
from kubetally.ledger import Ledger
from kubetally.ledger.engines import DuckDBEngine
from kubetally.ledger.fleet import FleetLedger, read_manifests
from kubetally.ledger.spark import SparkEngine
from kubetally.query import AllocationQuery, AssetQuery, check_invariant, run_allocation
from kubetally.query.assets import asset_sql
from kubetally.query.scope import Scope, scope_allocation
from kubetally.settings import Settings
from tests.fleet.conftest import CLUSTERS, NOW
from tests.fleet.test_equality import assert_frames_close, grouped

DAY = "2026-03-02"
START, END = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
DAY_WINDOW = "2026-03-02T00:00:00Z,2026-03-03T00:00:00Z"
BY_HOUR = {"allocations", "allocations_daily", "allocation_pvs", "allocation_lbs", "assets", "hour_coverage"}
"""The tables whose partition day is the day of the hour (or rollup day) a windowed query reads."""
TOKEN = "tok-fleet-a-7c1d3e5f9a"
QUERIES = [
    {"aggregate": "namespace", "includeIdle": "true"},
    {"aggregate": "label:team", "idle": "true", "shareIdle": "true", "shareNamespaces": "kube-system"},
]


def needed(table: str, cluster: str, day: str) -> bool:
    """Whether a query of cluster ``fleet-a`` over ``DAY`` may read this partition: its cluster's, and for the
    tables partitioned by hour only that day's (pods are under their first hour, runs and bills under theirs)."""
    return cluster == CLUSTERS[0] and (table not in BY_HOUR or day == DAY)


@pytest.fixture(scope="module")
def pruned(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A copy of the fleet whose unneeded data files are garbage; how many were spoiled."""
    copy = tmp_path_factory.mktemp("pruned") / "fleet"
    shutil.copytree(fleet, copy)
    spoiled = 0
    for manifest in read_manifests(str(copy)):
        if not needed(manifest.table, manifest.cluster, manifest.date):
            (copy / manifest.path).write_bytes(b"not parquet")
            spoiled += 1
    return copy, spoiled


@pytest.fixture(scope="module")
def own(ledgers: dict[str, Path]) -> Iterator[Ledger]:
    with Ledger.open(ledgers[CLUSTERS[0]], read_only=True) as ledger:
        yield ledger


def test_the_window_store_lists_only_the_window_days(fleet: Path) -> None:
    with FleetLedger(str(fleet)) as store:
        everything = {(m.table, m.date) for m in store.manifests}
        windowed = {(m.table, m.date) for m in store.windowed(START, END).manifests}
        twice = store.windowed(datetime(2026, 3, 2, 5, tzinfo=UTC), datetime(2026, 3, 2, 23, tzinfo=UTC))
    assert {d for t, d in everything if t in BY_HOUR} == {"2026-03-01", DAY, "2026-03-03"}
    assert {d for t, d in windowed if t in BY_HOUR} == {DAY}
    assert {(t, d) for t, d in everything if t not in BY_HOUR} <= windowed
    assert twice is store.windowed(START, END), "a window of the same days reuses its store"


def test_a_cluster_and_window_scoped_query_opens_only_its_partitions_on_duckdb(
    pruned: tuple[Path, int], own: Ledger
) -> None:
    path, spoiled = pruned
    assert spoiled > 0
    with FleetLedger(str(path), DuckDBEngine()) as whole:
        with pytest.raises(LedgerError):
            whole.fetch("SELECT count(*) FROM allocations")
        with pytest.raises(LedgerError):
            whole.scoped(frozenset({CLUSTERS[0]})).fetch("SELECT count(*) FROM allocations")
        store = whole.scoped(frozenset({CLUSTERS[0]})).windowed(START, END)
        for params in QUERIES:
            query = AllocationQuery.from_params({"window": DAY_WINDOW, **params}, NOW)
            assert_frames_close(grouped(store, query), grouped(own, query), ["set_idx", "name"])
        assets = asset_sql(AssetQuery.from_params({"window": DAY_WINDOW, "accumulate": "true"}, NOW))
        got, want = store.fetch(assets.text, assets.params), own.fetch(assets.text, assets.params)
        keys = [c for c in want.columns if c == "set_idx" or (c[0] == "k" and c[1:].isdigit())]
        numbers = [c for c, t in want.schema.items() if t == pl.Float64]
        assert want.height > 0 and numbers
        assert_frames_close(*(f.group_by(keys).agg(pl.col(numbers).sum()) for f in (got, want)), keys)
        window = AllocationQuery.from_params({"window": DAY_WINDOW}, NOW).window
        invariant = check_invariant(store, window)
        assert invariant.holds and invariant.assets == pytest.approx(check_invariant(own, window).assets, abs=1e-9)


def test_the_api_prunes_a_cluster_scoped_identity_and_the_query_window(pruned: tuple[Path, int], own: Ledger) -> None:
    path, _ = pruned
    auth = Authenticator.from_settings(
        Settings(tokens=[{"name": "a-ops", "token_sha256": token_digest(TOKEN), "clusters": [CLUSTERS[0]]}])
    )
    params = {"window": DAY_WINDOW, "aggregate": "namespace", "accumulate": "true"}
    scoped = scope_allocation(AllocationQuery.from_params(params, NOW), Scope(clusters=frozenset({CLUSTERS[0]})))
    want = run_allocation(own, scoped)[0]
    with (
        FleetLedger(str(path)) as store,
        TestClient(create_app(path, clock=lambda: NOW, auth=auth, fleet=store)) as client,
    ):
        response = client.get("/allocation", params=params, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    got = response.json()["data"][0]
    assert len(want) > 1 and sorted(got) == sorted(want)
    for name, row in want.items():
        assert got[name]["totalCost"] == pytest.approx(row["totalCost"], abs=1e-9), name


def test_a_cluster_and_window_scoped_query_opens_only_its_partitions_on_spark(
    pruned: tuple[Path, int], own: Ledger, spark_engine: SparkEngine
) -> None:
    path, _ = pruned
    whole = FleetLedger(str(path), spark_engine.sibling())
    with pytest.raises(LedgerError):
        whole.fetch("SELECT count(*) AS n FROM allocations")
    store = whole.scoped(frozenset({CLUSTERS[0]})).windowed(START, END)
    query = AllocationQuery.from_params({"window": DAY_WINDOW, **QUERIES[1]}, NOW)
    got = grouped(store, query)
    whole.close()
    assert_frames_close(got, grouped(own, query), ["set_idx", "name"])
