"""Partition pruning: a query bounded by a window and a cluster scope opens only its days' and cluster's partitions.

The proof is by corruption: in a copy of the fleet, every data file a query of cluster ``fleet-a`` over 2 March
should not need is replaced by bytes that are not Parquet. A store that opened any of them would fail; the pruned
stores answer, and their answers equal the cluster's own ledger's. The files kept are named here, from the layout
(docs/fleet.md), not from the code under test.
"""

from __future__ import annotations

import io
import json
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import polars as pl
import pytest
from fastapi.testclient import TestClient
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import CallToolResult

from kubetally.errors import LedgerError
from kubetally.ledger import Ledger
from kubetally.ledger.engines import DuckDBEngine
from kubetally.ledger.fleet import FleetLedger, read_manifests
from kubetally.ledger.spark import SparkEngine
from kubetally.mcp.context import Backend, LocalCaller
from kubetally.mcp.server import build_server
from kubetally.query import AllocationQuery, AssetQuery, check_invariant, run_allocation, run_assets
from kubetally.query.assets import asset_sql
from kubetally.query.cache import QueryCache
from kubetally.query.cloud import cloud_cost_frame, cloud_cost_range
from kubetally.query.cloud_params import CloudCostQuery
from kubetally.query.custom_costs import CustomCostQuery, custom_cost_total
from kubetally.query.focus_export import FocusQuery, focus_frame
from kubetally.query.legacy import AggregatedCostQuery, CostDataQuery, run_aggregated_cost, run_cost_data
from kubetally.query.scope import Scope, scope_allocation
from tests.fleet.conftest import CLUSTERS, NOW, fleet_client
from tests.fleet.test_equality import assert_frames_close, grouped
from tests.runner import succeed

DAY = "2026-03-02"
LAST_DAY = "2026-03-03"
"""The day of every cluster's last hour (conftest: 13:00 on 1 March + 40 hours)."""
START, END = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
DAY_WINDOW = "2026-03-02T00:00:00Z,2026-03-03T00:00:00Z"
BY_DAY = {
    "allocations",
    "allocations_daily",
    "allocation_pvs",
    "allocation_lbs",
    "assets",
    "hour_coverage",
    "cloud_costs",
}
"""The tables whose partition day is the day of the time a windowed query bounds: the hour, the rollup day, a bill
row's charge period start."""
TOKEN = "tok-fleet-a-7c1d3e5f9a"
QUERIES = [
    {"aggregate": "namespace", "includeIdle": "true"},
    {"aggregate": "label:team", "idle": "true", "shareIdle": "true", "shareNamespaces": "kube-system"},
]


def needed(table: str, cluster: str, day: str) -> bool:
    """Whether a query of cluster ``fleet-a`` over ``DAY`` may read this partition: its cluster's, and for the
    tables partitioned by day only that day's (pods are under their first hour, runs under theirs)."""
    return cluster == CLUSTERS[0] and (table not in BY_DAY or day == DAY)


def spoiled_copy(fleet: Path, copy: Path, keep: Callable[[str, str, str], bool]) -> tuple[Path, int]:
    """A copy of the fleet whose data files of the partitions ``keep(table, cluster, day)`` refuses are garbage;
    how many were spoiled."""
    shutil.copytree(fleet, copy)
    spoiled = 0
    for manifest in read_manifests(str(copy)):
        if not keep(manifest.table, manifest.cluster, manifest.date):
            (copy / manifest.path).write_bytes(b"not parquet")
            spoiled += 1
    return copy, spoiled


@pytest.fixture(scope="module")
def pruned(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A copy of the fleet whose unneeded data files are garbage; how many were spoiled."""
    return spoiled_copy(fleet, tmp_path_factory.mktemp("pruned") / "fleet", needed)


@pytest.fixture(scope="module")
def own(ledgers: dict[str, Path]) -> Iterator[Ledger]:
    with Ledger.open(ledgers[CLUSTERS[0]], read_only=True) as ledger:
        yield ledger


def test_the_window_store_lists_only_the_window_days(fleet: Path) -> None:
    with FleetLedger(str(fleet)) as store:
        everything = {(m.table, m.date) for m in store.manifests}
        windowed = {(m.table, m.date) for m in store.windowed(START, END).manifests}
        twice = store.windowed(datetime(2026, 3, 2, 5, tzinfo=UTC), datetime(2026, 3, 2, 23, tzinfo=UTC))
        latest = {(m.table, m.date) for m in store.latest().manifests}
    assert {d for t, d in everything if t in BY_DAY} == {"2026-03-01", DAY, "2026-03-03"}
    assert {d for t, d in windowed if t in BY_DAY} == {DAY}
    assert {(t, d) for t, d in everything if t not in BY_DAY} <= windowed
    assert twice is store.windowed(START, END), "a window of the same days reuses its store"
    assert {d for t, d in latest if t in BY_DAY} == {LAST_DAY}, "every cluster's data ends on the third day"
    assert {(t, d) for t, d in everything if t not in BY_DAY} <= latest


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
    params = {"window": DAY_WINDOW, "aggregate": "namespace", "accumulate": "true"}
    scoped = scope_allocation(AllocationQuery.from_params(params, NOW), Scope(clusters=frozenset({CLUSTERS[0]})))
    want = run_allocation(own, scoped)[0]
    with fleet_client(path, TOKEN, clusters=[CLUSTERS[0]]) as client:
        response = client.get("/allocation", params=params)
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


# The other surfaces bounded by a window: MCP, the FOCUS export, the legacy routes, cloud and custom costs, and the
# Clusters overview. Their identities are unscoped (bills are account-wide), so every cluster's partitions of the
# day are kept and only the other days are spoiled; the answers are compared with the three ledgers'.


def day_only(table: str, cluster: str, day: str) -> bool:
    """What a fleet-wide query over ``DAY`` may read: in the tables partitioned by day, that day's partitions."""
    return table not in BY_DAY or day == DAY


def overview_needs(table: str, cluster: str, day: str) -> bool:
    """What the Clusters overview of ``DAY`` may read: that day, and each cluster's last day, whose coverage holds
    its last hour (every cluster's data ends on ``LAST_DAY``; the store of last days binds each of its views, so
    the other tables' last days are kept too)."""
    return day_only(table, cluster, day) or day == LAST_DAY


@pytest.fixture(scope="module")
def day_pruned(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, spoiled = spoiled_copy(fleet, tmp_path_factory.mktemp("day-pruned") / "fleet", day_only)
    with FleetLedger(str(path)) as whole:
        for table in ("allocations", "cloud_costs", "hour_coverage"):
            with pytest.raises(LedgerError):
                whole.fetch(f"SELECT count(*) FROM {table}")  # an unpruned read fails
    assert spoiled > 0
    return path


@pytest.fixture(scope="module")
def each(ledgers: dict[str, Path]) -> Iterator[dict[str, Ledger]]:
    opened = {name: Ledger.open(ledgers[name], read_only=True) for name in CLUSTERS}
    yield opened
    for ledger in opened.values():
        ledger.close()


@pytest.fixture(scope="module")
def day_client(day_pruned: Path) -> Iterator[TestClient]:
    with fleet_client(day_pruned) as client:
        yield client


def get(client: TestClient, path: str, params: dict[str, str]) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_mcp_tools_read_only_their_window_days(day_pruned: Path, each: dict[str, Ledger]) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_allocation_costs", {"window": DAY_WINDOW, "aggregate": "cluster"}),
        ("get_cloud_costs", {"window": DAY_WINDOW, "aggregate": "service"}),
        ("get_asset_costs", {"window": DAY_WINDOW}),
        ("get_idle_costs", {"window": DAY_WINDOW}),
        ("get_efficiency", {"window": DAY_WINDOW}),
        ("list_aggregation_values", {"window": DAY_WINDOW}),
    ]
    with FleetLedger(str(day_pruned)) as store:
        backend = Backend(reader=lambda: store, clock=lambda: NOW, cache=QueryCache(max_entries=16))
        server = build_server(backend, lambda _ctx: LocalCaller(), log_level="WARNING")

        async def run() -> list[CallToolResult]:
            async with create_connected_server_and_client_session(server) as session:
                return [await session.call_tool(name, arguments) for name, arguments in calls]

        results = anyio.run(run)
    for (name, _), result in zip(calls, results, strict=True):
        assert not result.isError and result.structuredContent is not None, (name, result.content)
    allocation, cloud, assets, _, _, values = (r.structuredContent or {} for r in results)
    query = AllocationQuery.from_params({"window": DAY_WINDOW, "aggregate": "cluster", "accumulate": "true"}, NOW)
    answers = {name: run_allocation(ledger, query)[0] for name, ledger in each.items()}
    for name, answer in answers.items():
        assert allocation["sets"][0]["allocations"][name]["totalCost"] == pytest.approx(answer[name]["totalCost"]), name
    everything = sum(row["totalCost"] for answer in answers.values() for row in answer.values())  # idle included
    assert allocation["sets"][0]["total_cost"] == pytest.approx(everything, abs=1e-4)
    billed = sum(cloud_cost_frame(ledger, query.window, "service", "")["billed_cost"].sum() for ledger in each.values())
    assert billed > 0 and cloud["total_billed_cost"] == pytest.approx(billed, abs=1e-4)
    asset_query = AssetQuery.from_params({"window": DAY_WINDOW, "accumulate": "true"}, NOW)
    asset_sets = [run_assets(ledger, asset_query)[0] for ledger in each.values()]
    asset_total = sum(row["totalCost"] for data in asset_sets for row in data.values())
    assert assets["total_cost"] == pytest.approx(asset_total, abs=1e-4)
    assert values["clusters"] == sorted(CLUSTERS)


def test_the_focus_export_reads_only_its_window_days(day_client: TestClient, each: dict[str, Ledger]) -> None:
    response = day_client.get("/focus", params={"window": DAY_WINDOW, "format": "parquet"})
    assert response.status_code == 200, response.text
    got = pl.read_parquet(io.BytesIO(response.content))
    query = FocusQuery.from_params({"window": DAY_WINDOW}, NOW)
    want = pl.concat([focus_frame(ledger, query, "USD") for ledger in each.values()])
    assert want.height > 0 and got.height == want.height
    for column in ("BilledCost", "EffectiveCost", "ListCost"):
        assert got[column].sum() == pytest.approx(want[column].sum(), abs=1e-6), column


def test_the_legacy_routes_read_only_their_window_days(day_client: TestClient, each: dict[str, Ledger]) -> None:
    params = {"window": DAY_WINDOW, "aggregation": "cluster"}
    aggregated = get(day_client, "/model/aggregatedCostModel", params)
    query = AggregatedCostQuery.from_params(params, NOW)
    for name, ledger in each.items():
        want = run_aggregated_cost(ledger, query)[name]["totalCost"]
        assert aggregated[name]["totalCost"] == pytest.approx(want, abs=1e-9), name
    entries = get(day_client, "/model/costDataModel", {"timeWindow": DAY_WINDOW})
    cost_query = CostDataQuery.from_params({"timeWindow": DAY_WINDOW}, NOW)
    want_keys = {key for ledger in each.values() for key in run_cost_data(ledger, cost_query)}
    assert want_keys and set(entries) == want_keys


def test_cloud_and_custom_costs_read_only_their_window_days(
    day_client: TestClient,
    each: dict[str, Ledger],
    day_pruned: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    params = {"window": DAY_WINDOW, "aggregate": "service", "accumulate": "true"}
    query = CloudCostQuery.from_params(params, NOW)
    want: dict[str, float] = defaultdict(float)
    for ledger in each.values():
        for name, item in cloud_cost_range(ledger, query)["sets"][0]["cloudCosts"].items():
            want[name] += item["invoicedCost"]["cost"]
    got = get(day_client, "/cloudCost", params)["sets"][0]["cloudCosts"]
    assert want and sorted(got) == sorted(want)
    for name, cost in want.items():
        assert got[name]["invoicedCost"]["cost"] == pytest.approx(cost, abs=1e-4), name
    args = ["--fleet", str(day_pruned), "--window", DAY_WINDOW, "--aggregate", "service", "-o", "json"]
    cli = json.loads(succeed(capsys, monkeypatch, "cloud-costs", *args).out)
    assert {name: item["invoicedCost"]["cost"] for name, item in cli["sets"][0]["cloudCosts"].items()} == pytest.approx(
        dict(want), abs=1e-4
    )
    for view in ("graph", "totals", "table"):
        get(day_client, f"/cloudCost/view/{view}", params)
    custom = {"window": DAY_WINDOW}
    custom_total = sum(
        custom_cost_total(ledger, CustomCostQuery.from_params(custom, NOW))["totalCost"] for ledger in each.values()
    )
    assert get(day_client, "/customCost/total", custom)["totalCost"] == pytest.approx(custom_total, abs=1e-4)
    get(day_client, "/customCost/timeseries", custom)


def test_the_clusters_overview_reads_its_window_days_and_each_cluster_s_last_day(
    fleet: Path, tmp_path_factory: pytest.TempPathFactory, each: dict[str, Ledger]
) -> None:
    path, spoiled = spoiled_copy(fleet, tmp_path_factory.mktemp("overview-pruned") / "fleet", overview_needs)
    assert spoiled > 0
    with fleet_client(path) as client:
        rows = {row["cluster"]: row for row in get(client, "/clusters", {"window": DAY_WINDOW})}
    assert sorted(rows) == sorted(CLUSTERS)
    query = AllocationQuery.from_params({"window": DAY_WINDOW, "accumulate": "true", "includeIdle": "true"}, NOW)
    for name, ledger in each.items():
        total = sum(row["totalCost"] for row in run_allocation(ledger, query)[0].values())
        assert rows[name]["totalCost"] == pytest.approx(total, abs=1e-4), name
        assert rows[name]["lastHourEnd"] == "2026-03-03T05:00:00Z"
        assert rows[name]["lastPublished"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
