"""OpenCost pricing metrics read from a real Prometheus price the cluster, below overrides and above the config.

The server holds three windows, 60 s apart scrapes: ``small`` with the simulator's pricing metrics (2026-01-01),
``small`` without them (2026-03-01), and a hand-written node price that changes mid-window (2026-05-01).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.domain.pricing import HOURS_PER_MONTH, NodeSpec, PriceBook, parse_custom_pricing
from kubetally.engine import compute
from kubetally.sources.prometheus import PrometheusConfig, PrometheusSource
from kubetally.sources.prometheus.client import PrometheusClient
from kubetally.sources.prometheus.frames import to_frame
from kubetally.sources.prometheus.queries import BY_NAME, QUERIES
from kubetally.sources.simulator import Simulation, ground_truth, load_scenario, scenario_pricebook, simulate
from kubetally.sources.simulator.openmetrics import write_openmetrics
from tests.prometheus.conftest import NOW, backfill, running_prometheus

INTERVAL = 60
TOTAL_TOLERANCE = 0.005
NAMESPACE_TOLERANCE = 0.02
NAMESPACE_SHARE = 0.01
PRICE_WARNING = "OpenCost pricing metric "
CHANGING_START = datetime(2026, 5, 1, tzinfo=UTC)
CHANGING = (("m5.large", 0.02, 0, 3600), ("m5.xlarge", 0.05, 3600, 5400))
"""The hand-written ``node_cpu_hourly_cost`` of node ``n1``: (instance_type, price, from, to) in seconds."""

CONFIG: dict[str, Any] = {
    "CPU": 0.5,
    "RAM": 0.05,
    "spotCPU": 0.2,
    "spotRAM": 0.02,
    "GPU": 3.0,
    "defaultLBPrice": 0.9,
    "zoneNetworkEgress": 0.3,
    "regionNetworkEgress": 0.4,
    "internetNetworkEgress": 0.8,
    "kubetally": {"clusterManagementPerHour": 1.5, "storageClassesPerGiBMonth": {"gp3": 7.3}},
}
"""The pricing config given to ingest: every price differs from the ``small`` scenario's."""


@dataclass(frozen=True)
class Server:
    url: str
    priced: Simulation
    plain: Simulation


def _changing_exposition(path: Path) -> None:
    base = int(CHANGING_START.timestamp())
    lines = ["# TYPE node_cpu_hourly_cost gauge"]
    for instance_type, price, start, end in CHANGING:
        labels = f'cluster="c",instance="n1",node="n1",instance_type="{instance_type}"'
        lines += [f"node_cpu_hourly_cost{{{labels}}} {price} {base + t}" for t in range(start, end, INTERVAL)]
    path.write_text("\n".join([*lines, "# EOF", ""]), encoding="utf-8")


def _backfill(root: Path, simulations: dict[str, Simulation]) -> Path:
    data = root / "data"
    for name, simulation in simulations.items():
        write_openmetrics(simulation, root / f"{name}.om", scrape_interval_seconds=INTERVAL)
    _changing_exposition(root / "changing.om")
    for exposition in sorted(root.glob("*.om")):
        backfill(exposition, data)
    return data


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("prometheus-prices")
    small = load_scenario("small")
    priced_scenario = small.model_copy(update={"opencost_pricing_metrics": True})
    priced = simulate(priced_scenario, seed=7, start=datetime(2026, 1, 1, tzinfo=UTC), now=NOW)
    plain = simulate(small, seed=7, start=datetime(2026, 3, 1, tzinfo=UTC), now=NOW)
    data = _backfill(root, {"priced": priced, "plain": plain})
    with running_prometheus(data, root) as url:
        yield Server(url, priced, plain)


def _book(extra: dict[str, Any] | None = None) -> PriceBook:
    document = {**CONFIG, "kubetally": {**CONFIG["kubetally"], **(extra or {})}}
    return PriceBook(parse_custom_pricing(document))


def _namespace_costs(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.filter(pl.col("namespace").is_not_null()).group_by("cluster", "namespace").agg(pl.col("total_cost").sum())
    )


def _assert_agrees(ingested: pl.DataFrame, exact: pl.DataFrame) -> None:
    """Total within 0.5 %; every namespace with more than 1 % of the cost within 2 %."""
    total, expected = float(ingested["total_cost"].sum()), float(exact["total_cost"].sum())
    assert expected > 0
    assert abs(total - expected) <= TOTAL_TOLERANCE * expected, (total, expected)
    namespaces = _namespace_costs(exact).join(
        _namespace_costs(ingested), on=["cluster", "namespace"], how="left", suffix="_ingested"
    )
    large = namespaces.filter(pl.col("total_cost") > NAMESPACE_SHARE * expected)
    assert large.height >= 2
    off = large.filter(
        ((pl.col("total_cost_ingested") - pl.col("total_cost")).abs() > NAMESPACE_TOLERANCE * pl.col("total_cost"))
        | pl.col("total_cost_ingested").is_null()
    )
    assert off.is_empty(), off


def _node_specs(simulation: Simulation) -> list[NodeSpec]:
    return [
        NodeSpec(n.cluster, n.name, n.instance_type, n.region, n.labels, n.cpu_cores, n.ram_bytes, n.gpu_count)
        for n in sorted(simulation.nodes, key=lambda n: (n.cluster, n.name))
    ]


def test_observed_tables_hold_the_exported_prices(server: Server) -> None:
    simulation = server.priced
    exported = scenario_pricebook(simulation.scenario)
    history = PrometheusSource(PrometheusConfig(server.url)).fetch(simulation.start, simulation.end)

    nodes = history.observed_node_prices.sort("cluster", "node")
    specs = _node_specs(simulation)
    assert nodes.select("cluster", "node").rows() == [(s.cluster, s.node) for s in specs]
    for column in ("cpu_price_per_core_hour", "ram_price_per_gib_hour", "gpu_price_per_gpu_hour"):
        expected = [getattr(exported.node_price(spec), column) for spec in specs]
        assert nodes.get_column(column).to_list() == pytest.approx(expected)

    volumes = history.observed_volume_prices.sort("pv")
    assert volumes.get_column("pv").to_list() == sorted(v.name for v in simulation.volumes)
    classes = {v.name: v.storage_class for v in simulation.volumes}
    per_month = simulation.scenario.pricing["kubetally"]["storageClassesPerGiBMonth"]
    expected_volume = [per_month[classes[pv]] / HOURS_PER_MONTH for pv in volumes.get_column("pv")]
    assert volumes.get_column("price_per_gib_hour").to_list() == pytest.approx(expected_volume)

    balancers = history.observed_lb_prices
    assert balancers.select("namespace", "service").rows() == [
        (s.namespace, s.name) for s in simulation.services if s.service_type == "LoadBalancer"
    ]
    assert balancers.get_column("price_per_hour").to_list() == pytest.approx([exported.lb_price_per_hour])

    clusters = history.observed_cluster_prices
    configured = exported.cluster_prices(simulation.clusters, clusters[:0]).drop("unclassified_egress_price_per_gib")
    assert clusters.columns == configured.columns
    assert clusters.get_column("cluster").to_list() == configured.get_column("cluster").to_list()
    for column in clusters.columns[1:]:
        assert clusters.get_column(column).to_list() == pytest.approx(configured.get_column(column).to_list()), column


def test_prometheus_prices_cost_the_cluster(server: Server) -> None:
    simulation = server.priced
    source = PrometheusSource(PrometheusConfig(server.url))
    history = source.fetch(simulation.start, simulation.end)
    assert not [w for w in source.warnings if w.startswith(PRICE_WARNING)], source.warnings
    exported = scenario_pricebook(simulation.scenario)
    for policy in (BillingPolicy(), BillingPolicy(mode=BillingMode.USAGE)):
        result = compute(history, _book(), policy)
        _assert_agrees(result.allocations, ground_truth(simulation, exported, policy).allocations)
        config_total = float(ground_truth(simulation, _book(), policy).allocations["total_cost"].sum())
        assert abs(float(result.allocations["total_cost"].sum()) - config_total) > 0.5 * config_total
        priced = result.allocations.filter(pl.col("node").is_not_null())
        assert priced.get_column("price_source").unique().to_list() == ["prometheus"]
        assets = result.assets.filter(pl.col("type").is_in(["Node", "Disk", "LoadBalancer"]))
        assert set(assets.get_column("type")) == {"Node", "Disk", "LoadBalancer"}
        assert assets.get_column("price_source").unique().to_list() == ["prometheus"]
        management = result.assets.filter(pl.col("type") == "ClusterManagement")
        expected_fee = exported.cluster_prices(simulation.clusters, history.observed_cluster_prices[:0])
        hours = simulation.hours * len(simulation.clusters)
        assert float(management["total_cost"].sum()) == pytest.approx(
            float(expected_fee["management_price_per_hour"].sum()) * hours
        )


def test_an_override_still_wins_over_prometheus(server: Server) -> None:
    simulation = server.priced
    history = PrometheusSource(PrometheusConfig(server.url)).fetch(simulation.start, simulation.end)
    override = {"nodes": {"node-a": {"hourly": 0.75}}}
    result = compute(history, _book(override), BillingPolicy())
    nodes = result.assets.filter(pl.col("type") == "Node").group_by("name").agg(pl.col("price_source").unique())
    assert dict(nodes.rows()) == {"node-a": ["override"], "node-b": ["prometheus"]}
    pricing = dict(simulation.scenario.pricing)
    pricing["kubetally"] = {**pricing["kubetally"], **override}
    expected = ground_truth(simulation, PriceBook(parse_custom_pricing(pricing)), BillingPolicy())
    _assert_agrees(result.allocations, expected.allocations)


def test_absent_metrics_warn_once_each_and_fall_through(server: Server) -> None:
    simulation = server.plain
    source = PrometheusSource(PrometheusConfig(server.url))
    history = source.fetch(simulation.start, simulation.end)
    warned = [w for w in source.warnings if w.startswith(PRICE_WARNING)]
    metrics = [q.template.split("sum_over_time(")[1].split("[")[0] for q in QUERIES if q.name.endswith("_price")]
    assert len(metrics) == 9
    assert sorted(w.removeprefix(PRICE_WARNING).split(" ")[0] for w in warned) == sorted(metrics)
    for name in ("observed_node_prices", "observed_volume_prices", "observed_lb_prices", "observed_cluster_prices"):
        assert getattr(history, name).is_empty(), name
    result = compute(history, _book(), BillingPolicy())
    assert "prometheus" not in result.allocations.get_column("price_source").drop_nulls().to_list()
    _assert_agrees(result.allocations, ground_truth(simulation, _book(), BillingPolicy()).allocations)


def test_a_changing_price_is_averaged_over_time_across_series(server: Server) -> None:
    """Two series of one node (the instance type changed) and a price change: the mean is per sample."""
    query = BY_NAME["node_cpu_price"]
    end = CHANGING_START + timedelta(hours=2)
    client = PrometheusClient(PrometheusConfig(server.url))
    try:
        series = client.query(query.render(INTERVAL, 7200, "cluster"), end)
    finally:
        client.close()
    frame = to_frame(series, query, "cluster", "default")
    samples = np.concatenate([np.full((e - s) // INTERVAL, price) for _, price, s, e in CHANGING])
    assert frame.select("cluster", "node").rows() == [("c", "n1")]
    assert frame.get_column("value").to_list() == pytest.approx([float(samples.mean())])
