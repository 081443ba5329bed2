"""OpenCost's pricing metrics (shared reference ``opencost-compat.md`` §7), written into the exposition when the
scenario sets ``opencost_pricing_metrics``.

The values are the scenario's PriceBook resolved for each object, as OpenCost would export them: a node's unit
prices after discounts and spot rules (``node_*_hourly_cost``; ``node_total_hourly_cost`` is their sum over its
capacity), a volume's $/GiB-h (``pv_hourly_cost``), a LoadBalancer service's $/h, the cluster management fee
($/h) and the three egress prices ($/GiB, no labels besides ``cluster``). Each series is sampled while its object
exists; cluster-wide series over the whole window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kubetally.domain.pricing import GIB, LOAD_BALANCER, NodePrice, NodeSpec, PriceBook
from kubetally.sources.simulator.exposition import Family, Series
from kubetally.sources.simulator.model import SimNode, Simulation
from kubetally.sources.simulator.prices import scenario_pricebook
from kubetally.sources.simulator.truth_assets import AssetLedger

NodeValue = Callable[[SimNode, NodePrice], float]


def _node_price(book: PriceBook, n: SimNode) -> NodePrice:
    return book.node_price(
        NodeSpec(n.cluster, n.name, n.instance_type, n.region, n.labels, n.cpu_cores, n.ram_bytes, n.gpu_count)
    )


def _total(n: SimNode, p: NodePrice) -> float:
    return (
        n.cpu_cores * p.cpu_price_per_core_hour
        + n.ram_bytes / GIB * p.ram_price_per_gib_hour
        + n.gpu_count * p.gpu_price_per_gpu_hour
    )


def node_costs(value: NodeValue) -> Callable[[Simulation], Iterator[Series]]:
    """One series per node with OpenCost's node labels; ``value`` reads the node's resolved price."""

    def series(sim: Simulation) -> Iterator[Series]:
        book = scenario_pricebook(sim.scenario)
        for n in sim.nodes:
            labels = {
                "cluster": n.cluster,
                "instance": n.name,
                "node": n.name,
                "instance_type": n.instance_type,
                "region": n.region,
                "provider_id": n.provider_id,
                "arch": n.arch,
            }
            yield Series(labels, n.spans, value(n, _node_price(book, n)))

    return series


def _ledger(sim: Simulation) -> AssetLedger:
    return AssetLedger(sim, scenario_pricebook(sim.scenario), {})


def pv_costs(sim: Simulation) -> Iterator[Series]:
    ledger = _ledger(sim)
    for v in sim.volumes:
        price, _ = ledger.volume_price(v)
        labels = {"cluster": v.cluster, "volumename": v.name, "persistentvolume": v.name, "provider_id": v.provider_id}
        yield Series(labels, [v.span], price)


def lb_costs(sim: Simulation) -> Iterator[Series]:
    ledger = _ledger(sim)
    for s in sim.services:
        if s.service_type != LOAD_BALANCER:
            continue
        price, _ = ledger.lb_price(s)
        labels = {"cluster": s.cluster, "ingress_ip": s.ip, "namespace": s.namespace, "service_name": s.name}
        yield Series(labels, [s.span], price)


def management_costs(sim: Simulation) -> Iterator[Series]:
    ledger = _ledger(sim)
    provisioner = ledger.prices.provider
    for cluster in sim.clusters:
        price = float(ledger.cluster_prices[cluster]["management_price_per_hour"])
        yield Series({"cluster": cluster, "provisioner_name": provisioner}, [(0, sim.seconds)], price)


def egress_costs(kind: str) -> Callable[[Simulation], Iterator[Series]]:
    """The ``kind`` (zone, region, internet) egress price of each cluster."""

    def series(sim: Simulation) -> Iterator[Series]:
        ledger = _ledger(sim)
        for cluster in sim.clusters:
            yield Series({"cluster": cluster}, [(0, sim.seconds)], ledger.egress_prices(cluster)[kind])

    return series


PRICING_FAMILIES: tuple[Family, ...] = (
    Family(
        "node_cpu_hourly_cost",
        "gauge",
        "node_cpu_hourly_cost hourly cost for each cpu on this node",
        node_costs(lambda n, p: p.cpu_price_per_core_hour),
    ),
    Family(
        "node_ram_hourly_cost",
        "gauge",
        "node_ram_hourly_cost hourly cost for each gb of ram on this node",
        node_costs(lambda n, p: p.ram_price_per_gib_hour),
    ),
    Family(
        "node_gpu_hourly_cost",
        "gauge",
        "node_gpu_hourly_cost hourly cost for each gpu on this node",
        node_costs(lambda n, p: p.gpu_price_per_gpu_hour),
    ),
    Family("node_total_hourly_cost", "gauge", "node_total_hourly_cost Total node cost per hour", node_costs(_total)),
    Family("pv_hourly_cost", "gauge", "pv_hourly_cost Cost per GB per hour on a persistent disk", pv_costs),
    Family(
        "kubecost_load_balancer_cost", "gauge", "kubecost_load_balancer_cost Hourly cost of load balancer", lb_costs
    ),
    Family(
        "kubecost_cluster_management_cost",
        "gauge",
        "kubecost_cluster_management_cost Hourly cost paid as a cluster management fee.",
        management_costs,
    ),
    Family(
        "kubecost_network_zone_egress_cost",
        "gauge",
        "kubecost_network_zone_egress_cost Total cost per GB egress across zones",
        egress_costs("zone"),
    ),
    Family(
        "kubecost_network_region_egress_cost",
        "gauge",
        "kubecost_network_region_egress_cost Total cost per GB egress across regions",
        egress_costs("region"),
    ),
    Family(
        "kubecost_network_internet_egress_cost",
        "gauge",
        "kubecost_network_internet_egress_cost Total cost per GB of internet egress.",
        egress_costs("internet"),
    ),
)
"""Written after the other families when ``Scenario.opencost_pricing_metrics`` is set."""
