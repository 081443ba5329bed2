"""Costs ingested through a real, backfilled Prometheus agree with the simulator's exact ground truth.

The simulator writes its exposition at 30 s and 60 s scrape intervals; promtool backfills it; PrometheusSource
reads it back with the query table and the engine costs it. Only sampling separates the two (docs/prometheus.md).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from kubetally.costs import COST_SCHEMAS
from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.engine import compute
from kubetally.sources.prometheus import PrometheusConfig, PrometheusSource
from kubetally.sources.simulator import Simulation, ground_truth, scenario_pricebook
from tests.prometheus.conftest import Backfilled

TOTAL_TOLERANCE = 0.005
NAMESPACE_TOLERANCE = 0.02
NAMESPACE_SHARE = 0.01
DCGM_WARNING = "NVIDIA DCGM exporter"


def _namespace_costs(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.filter(pl.col("namespace").is_not_null()).group_by("cluster", "namespace").agg(pl.col("total_cost").sum())
    )


def _pods_of_one_interval(simulation: Simulation, interval: int) -> set[str]:
    return {p.uid for p in simulation.pods if sum(e - s for s, e in p.running) >= interval}


@pytest.mark.parametrize("interval", [30, 60])
@pytest.mark.parametrize("scenario", ["small", "demo"])
def test_prometheus_costs_agree_with_ground_truth(request: pytest.FixtureRequest, interval: int, scenario: str) -> None:
    server: Backfilled = request.getfixturevalue(f"prometheus_{interval}")
    simulation = server.simulations[scenario]
    source = PrometheusSource(PrometheusConfig(server.url))
    history = source.fetch(simulation.start, simulation.end)
    assert source.scrape_interval_seconds == interval
    has_gpu_usage = bool((simulation.gpu_usage > 0).any())
    assert any(w.startswith(DCGM_WARNING) for w in source.warnings) is not has_gpu_usage, source.warnings
    prices = scenario_pricebook(simulation.scenario)
    for policy in (BillingPolicy(), BillingPolicy(mode=BillingMode.USAGE)):
        _assert_agrees(
            compute(history, prices, policy).allocations, ground_truth(simulation, prices, policy).allocations
        )
    costed = set(compute(history, prices, BillingPolicy()).allocations.get_column("pod_uid").drop_nulls().to_list())
    missing = _pods_of_one_interval(simulation, interval) - costed
    assert not missing, f"pods running at least {interval} s missing: {sorted(missing)}"


def _assert_agrees(ingested: pl.DataFrame, exact: pl.DataFrame) -> None:
    """Total within 0.5 %; every namespace with more than 1 % of the cost within 2 %."""
    total = float(ingested["total_cost"].sum())
    expected = float(exact["total_cost"].sum())
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


def test_short_pods_are_in_the_demo_slice(prometheus_60: Backfilled) -> None:
    """The demo slice has pods that run for less than ten minutes: the presence queries must keep them."""
    short = [p for p in prometheus_60.simulations["demo"].pods if 60 <= sum(e - s for s, e in p.running) < 600]
    assert short


def test_single_cluster_prometheus_uses_the_configured_cluster_name(prometheus_60: Backfilled) -> None:
    simulation = prometheus_60.simulations["small"]
    config = PrometheusConfig(prometheus_60.url, cluster_label=None, cluster_name="solo", scrape_interval_seconds=60)
    history = PrometheusSource(config).fetch(simulation.start, simulation.end)
    assert history.clusters == ["solo"]
    assert history.pods.height == len(simulation.pods)
    assert set(history.usage.get_column("cluster")) == {"solo"}


def test_a_window_without_data_is_empty_and_says_so(prometheus_60: Backfilled) -> None:
    start = prometheus_60.simulations["small"].start - timedelta(days=30)
    source = PrometheusSource(PrometheusConfig(prometheus_60.url))
    history = source.fetch(start, start + timedelta(hours=2))
    assert all(frame.is_empty() for frame in history.tables().values())
    assert any("no kube_node_info samples" in w for w in source.warnings), source.warnings


def test_two_fetches_of_the_same_window_are_bit_identical(prometheus_30: Backfilled) -> None:
    simulation = prometheus_30.simulations["demo"]
    histories = [
        PrometheusSource(PrometheusConfig(prometheus_30.url)).fetch(simulation.start, simulation.end) for _ in range(2)
    ]
    tables = [history.tables() for history in histories]
    assert tables[0]["usage"].height > 0 and tables[0]["container_intervals"].height > 0
    for name, frame in tables[0].items():
        assert frame.equals(tables[1][name]), name
    prices = scenario_pricebook(simulation.scenario)
    results = [compute(history, prices, BillingPolicy()) for history in histories]
    for name in COST_SCHEMAS:
        assert getattr(results[0], name).equals(getattr(results[1], name)), name


def test_controllers_agree_with_the_simulation(prometheus_60: Backfilled) -> None:
    """Controllers resolved from the owner series are the ones the simulator names by the documented rule
    (kinds in lower case, a CronJob's pods under kind ``job``, the CronJob in ``cronjob``)."""
    simulation = prometheus_60.simulations["demo"]
    pods = PrometheusSource(PrometheusConfig(prometheus_60.url)).fetch(simulation.start, simulation.end).pods
    fetched = {row[0]: row[1:] for row in pods.select("pod_uid", "controller_kind", "controller", "cronjob").rows()}
    expected = {p.uid: (p.controller_kind, p.controller, p.cronjob) for p in simulation.pods if p.uid in fetched}
    assert len(expected) == len(fetched) > 100
    assert {uid: fetched[uid] for uid in expected} == expected
    assert {kind for kind, _, cronjob in expected.values() if cronjob} == {"job"}
