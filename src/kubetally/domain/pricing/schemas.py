"""The values and frame schemas PriceBook hands to the engine, the simulator truth and the query layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

GIB = 1024.0**3
"""Bytes in a GiB: RAM and storage prices are per GiB (2^30 bytes)."""

SOURCE_OVERRIDE = "override"
SOURCE_PROMETHEUS = "prometheus"
SOURCE_PRICE_SHEET = "price_sheet"
SOURCE_DEFAULT = "default"
PRICE_SOURCES = (SOURCE_OVERRIDE, SOURCE_PROMETHEUS, SOURCE_PRICE_SHEET, SOURCE_DEFAULT)
"""Every ``price_source`` value, highest resolution level first."""


@dataclass(frozen=True)
class NodePrice:
    """A node's unit prices after discounts, and where they came from.

    ``cpu_price_per_core_hour`` ($/vCPU-h), ``ram_price_per_gib_hour`` ($/GiB-h) and ``gpu_price_per_gpu_hour``
    ($/GPU-h) are what the engine multiplies quantities by. ``discount`` is the fraction already taken off CPU and
    RAM (0 for overrides and Prometheus-observed prices). ``source`` is one of ``PRICE_SOURCES``.
    """

    cpu_price_per_core_hour: float
    ram_price_per_gib_hour: float
    gpu_price_per_gpu_hour: float
    preemptible: bool
    discount: float
    source: str


@dataclass(frozen=True)
class NodeSpec:
    """What pricing needs to know of a node.

    ``labels`` may use Kubernetes names (``eks.amazonaws.com/capacityType``) or their Prometheus-sanitised forms
    (``label_eks_amazonaws_com_capacityType``, ``eks_amazonaws_com_capacityType``).
    """

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
