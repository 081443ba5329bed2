"""PriceBook: unit prices for nodes, disks, load balancers, egress and cluster management.

INTERFACE CONTRACT (bodies to be completed; signatures are shared by the engine and the simulator truth).

Resolution order for a node's unit prices (per hour), first match wins:
1. explicit per-node or per-instance-type overrides in the pricing config  -> source "override"
2. OpenCost pricing metrics observed in Prometheus (observed_node_prices)   -> source "prometheus"
3. a price sheet row (instance type, region, capacity type) split by Appendix A -> source "price_sheet"
4. the custom pricing defaults (CPU, RAM, GPU, spotCPU, spotRAM, spotGPU)  -> source "default"
``discount`` and ``negotiatedDiscount`` apply to CPU and RAM of levels 3 and 4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

GIB = 1024.0**3


@dataclass(frozen=True)
class NodePrice:
    """A node's unit prices after discounts, and where they came from."""

    cpu_price_per_core_hour: float
    ram_price_per_gib_hour: float
    gpu_price_per_gpu_hour: float
    preemptible: bool
    discount: float
    source: str


@dataclass(frozen=True)
class NodeSpec:
    """What pricing needs to know of a node."""

    cluster: str
    node: str
    instance_type: str | None
    region: str | None
    labels: Mapping[str, str]
    cpu_cores: float
    ram_bytes: float
    gpu_count: float


@dataclass(frozen=True)
class ClusterPrices:
    """Per-cluster prices: management fee ($/h) and egress ($/GiB by class)."""

    management_price_per_hour: float
    zone_egress_price_per_gib: float
    region_egress_price_per_gib: float
    internet_egress_price_per_gib: float
    unclassified_egress_price_per_gib: float


NODE_PRICES = pl.Schema(
    {
        "cluster": pl.String,
        "node": pl.String,
        "cpu_price_per_core_hour": pl.Float64,
        "ram_price_per_gib_hour": pl.Float64,
        "gpu_price_per_gpu_hour": pl.Float64,
        "preemptible": pl.Boolean,
        "discount": pl.Float64,
        "price_source": pl.String,
    }
)
VOLUME_PRICES = pl.Schema(
    {"cluster": pl.String, "pv": pl.String, "price_per_gib_hour": pl.Float64, "price_source": pl.String}
)
LB_PRICES = pl.Schema(
    {"cluster": pl.String, "namespace": pl.String, "service": pl.String, "price_per_hour": pl.Float64}
)
CLUSTER_PRICES = pl.Schema(
    {
        "cluster": pl.String,
        "management_price_per_hour": pl.Float64,
        "zone_egress_price_per_gib": pl.Float64,
        "region_egress_price_per_gib": pl.Float64,
        "internet_egress_price_per_gib": pl.Float64,
        "unclassified_egress_price_per_gib": pl.Float64,
    }
)


class PriceBook:
    """Prices for everything a cluster pays for. Immutable once built."""

    def node_price(self, node: NodeSpec, observed: NodePrice | None = None) -> NodePrice:
        """Unit prices of one node by the resolution order; ``observed`` are Prometheus-observed prices."""
        raise NotImplementedError

    def node_prices(self, nodes: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        """``node_price`` for each distinct (cluster, node) of a ClusterHistory ``nodes`` table.

        ``observed`` has the ``observed_node_prices`` schema. Returns the NODE_PRICES schema.
        """
        raise NotImplementedError

    def volume_prices(self, volumes: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        """$/GiB-h per distinct (cluster, pv): observed, then storage class price, then ``storage`` default."""
        raise NotImplementedError

    def lb_prices(self, services: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        """$/h per LoadBalancer service: observed, then ``defaultLBPrice``."""
        raise NotImplementedError

    def cluster_prices(self, clusters: list[str], observed: pl.DataFrame) -> pl.DataFrame:
        """Management fee and egress prices per cluster: observed, then configured."""
        raise NotImplementedError
