"""The simulator's opt-in OpenCost pricing metrics: names and labels of opencost-compat §7, values from the
scenario's PriceBook, and an unchanged exposition when the option is off."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kubetally.domain.pricing import GIB, HOURS_PER_MONTH, NodeSpec
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, write_openmetrics
from tests.prometheus.conftest import NOW

START = datetime(2026, 1, 1, tzinfo=UTC)
INTERVAL = 300
NODE_LABELS = {"cluster", "instance", "node", "instance_type", "region", "provider_id", "arch"}
LABELS = {
    "node_cpu_hourly_cost": NODE_LABELS,
    "node_ram_hourly_cost": NODE_LABELS,
    "node_gpu_hourly_cost": NODE_LABELS,
    "node_total_hourly_cost": NODE_LABELS,
    "pv_hourly_cost": {"cluster", "volumename", "persistentvolume", "provider_id"},
    "kubecost_load_balancer_cost": {"cluster", "ingress_ip", "namespace", "service_name"},
    "kubecost_cluster_management_cost": {"cluster", "provisioner_name"},
    "kubecost_network_zone_egress_cost": {"cluster"},
    "kubecost_network_region_egress_cost": {"cluster"},
    "kubecost_network_internet_egress_cost": {"cluster"},
}
"""opencost-compat §7, plus the ``cluster`` label every series of the exposition carries."""
SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+) (\d+)$")


def _text(tmp_path: Path, name: str, flag: bool) -> str:
    scenario = load_scenario(name).model_copy(update={"opencost_pricing_metrics": flag})
    sim = simulate(scenario, seed=3, start=START, now=NOW, hours=2)
    path = tmp_path / f"{name}-{flag}.om"
    write_openmetrics(sim, path, scrape_interval_seconds=INTERVAL)
    return path.read_text(encoding="utf-8")


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    rows = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
            rows.append((match.group(1), labels, float(match.group(3))))
    return rows


@pytest.mark.parametrize("name", ["small", "demo"])
def test_the_flag_only_appends_the_pricing_families(tmp_path: Path, name: str) -> None:
    assert load_scenario(name).opencost_pricing_metrics is False
    off, on = _text(tmp_path, name, False), _text(tmp_path, name, True)
    body = off.removesuffix("# EOF\n")
    assert on.startswith(body) and on.endswith("# EOF\n") and len(on) > len(off)
    added = _samples(on[len(body) :])
    assert {metric for metric, _, _ in added} == set(LABELS)
    for metric, labels, _ in added:
        assert set(labels) == LABELS[metric], metric
    assert not {metric for metric, _, _ in _samples(off)} & set(LABELS)


def test_values_are_the_scenario_prices(tmp_path: Path) -> None:
    scenario = load_scenario("small").model_copy(update={"opencost_pricing_metrics": True})
    sim = simulate(scenario, seed=3, start=START, now=NOW, hours=2)
    book = scenario_pricebook(scenario)
    samples = _samples(_text(tmp_path, "small", True))
    for node in sim.nodes:
        spec = NodeSpec(
            node.cluster,
            node.name,
            node.instance_type,
            node.region,
            node.labels,
            node.cpu_cores,
            node.ram_bytes,
            node.gpu_count,
        )
        price = book.node_price(spec)
        values = {m: v for m, labels, v in samples if labels.get("node") == node.name and m.startswith("node_")}
        assert values["node_cpu_hourly_cost"] == pytest.approx(price.cpu_price_per_core_hour)
        assert values["node_ram_hourly_cost"] == pytest.approx(price.ram_price_per_gib_hour)
        total = node.cpu_cores * price.cpu_price_per_core_hour + node.ram_bytes / GIB * price.ram_price_per_gib_hour
        assert values["node_total_hourly_cost"] == pytest.approx(total + node.gpu_count * price.gpu_price_per_gpu_hour)
    custom = book.custom
    by_metric = {m: v for m, _, v in samples}
    assert by_metric["kubecost_load_balancer_cost"] == pytest.approx(custom.lb_price_per_hour)
    assert by_metric["kubecost_cluster_management_cost"] == pytest.approx(custom.cluster_management_price_per_hour)
    assert by_metric["kubecost_network_zone_egress_cost"] == pytest.approx(custom.zone_egress_price_per_gib)
    assert by_metric["kubecost_network_region_egress_cost"] == pytest.approx(custom.region_egress_price_per_gib)
    assert by_metric["kubecost_network_internet_egress_cost"] == pytest.approx(custom.internet_egress_price_per_gib)
    storage = custom.storage_class_price_per_gib_month
    for volume in sim.volumes:
        (value,) = {
            v for m, labels, v in samples if m == "pv_hourly_cost" and labels["persistentvolume"] == volume.name
        }
        assert value == pytest.approx(storage[volume.storage_class] / HOURS_PER_MONTH)
