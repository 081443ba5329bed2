"""PriceBook: unit prices for nodes, disks, load balancers, egress and cluster management.

Resolution order for a node's unit prices (per hour), first match wins:

1. explicit per-node or per-instance-type overrides in the pricing config  -> source "override"
2. OpenCost pricing metrics observed in Prometheus (observed_node_prices)   -> source "prometheus"
3. a price sheet row (instance type, region, capacity type) split by Appendix A -> source "price_sheet"
4. the custom pricing defaults (CPU, RAM, GPU, spotCPU, spotRAM, spotGPU)  -> source "default"

``discount`` and ``negotiatedDiscount`` compound (``1 − (1 − discount)·(1 − negotiatedDiscount)``) and apply to
CPU and RAM of levels 3 and 4, never to GPU. Spot nodes (see ``spot.SPOT_LABELS`` and OpenCost's ``spotLabel``)
use the spot base prices at levels 1 (missing unit prices), 3 and 4. docs/pricing.md states all of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from kubetally.domain.pricing.custom import HOURS_PER_MONTH, CustomPricing, NodeOverride, load_custom_pricing
from kubetally.domain.pricing.schemas import (
    CLUSTER_PRICES,
    GIB,
    LB_PRICES,
    NODE_PRICES,
    SOURCE_DEFAULT,
    SOURCE_OVERRIDE,
    SOURCE_PRICE_SHEET,
    SOURCE_PROMETHEUS,
    VOLUME_PRICES,
    NodePrice,
    NodeSpec,
)
from kubetally.domain.pricing.sheet import PriceSheet, load_price_sheet
from kubetally.domain.pricing.split import UnitPrices, split_node_price
from kubetally.domain.pricing.spot import is_spot

LOAD_BALANCER = "LoadBalancer"
"""The ``service_type`` of services that are priced as load balancers."""

_OBSERVED_UNITS = ("cpu_price_per_core_hour", "ram_price_per_gib_hour", "gpu_price_per_gpu_hour")
_EGRESS = ("zone_egress_price_per_gib", "region_egress_price_per_gib", "internet_egress_price_per_gib")


class PriceBook:
    """Prices for everything a cluster pays for. Immutable once built.

    Build it with ``PriceBook.default()`` (OpenCost's defaults), ``PriceBook.from_files(custom, sheet)``, or
    ``PriceBook(custom_pricing, price_sheet)`` from already decoded values.
    """

    def __init__(self, custom: CustomPricing | None = None, sheet: PriceSheet | None = None) -> None:
        self._custom = custom if custom is not None else CustomPricing()
        self._sheet = sheet if sheet is not None else PriceSheet()

    @classmethod
    def default(cls) -> PriceBook:
        """OpenCost's default prices (GCP us-central1), no price sheet, no overrides."""
        return cls()

    @classmethod
    def from_files(cls, custom: Path | None = None, sheet: Path | None = None) -> PriceBook:
        """A PriceBook from a custom pricing JSON file and a price sheet CSV, either optional."""
        return cls(
            load_custom_pricing(custom) if custom is not None else None,
            load_price_sheet(sheet) if sheet is not None else None,
        )

    def __repr__(self) -> str:
        return f"PriceBook(provider={self.provider!r}, currency={self.currency!r}, sheet_rows={len(self._sheet)})"

    @property
    def custom(self) -> CustomPricing:
        """The decoded custom pricing (OpenCost keys and kubetally extensions)."""
        return self._custom

    @property
    def sheet(self) -> PriceSheet:
        return self._sheet

    @property
    def provider(self) -> str:
        return self._custom.provider

    @property
    def currency(self) -> str:
        """ISO 4217 code of every price (``currencyCode``; default ``USD``)."""
        return self._custom.currency

    @property
    def shared_namespaces(self) -> tuple[str, ...]:
        """``sharedNamespaces``: namespaces whose cost queries share to the others by default."""
        return self._custom.shared_namespaces

    @property
    def shared_label_names(self) -> tuple[str, ...]:
        """``sharedLabelNames``, pairwise with ``shared_label_values``."""
        return self._custom.shared_label_names

    @property
    def shared_label_values(self) -> tuple[str, ...]:
        return self._custom.shared_label_values

    @property
    def shared_labels(self) -> tuple[tuple[str, str], ...]:
        """(label name, label value) pairs whose allocations are shared."""
        return tuple(zip(self.shared_label_names, self.shared_label_values, strict=True))

    @property
    def shared_overhead_per_month(self) -> float:
        """``sharedOverhead``: a fixed cost per month (730 h) that queries share across tenants."""
        return self._custom.shared_overhead_per_month

    @property
    def shared_overhead_per_hour(self) -> float:
        return self._custom.shared_overhead_per_month / HOURS_PER_MONTH

    @property
    def storage_price_per_gib_hour(self) -> float:
        """The default disk price (``storage``)."""
        return self._custom.storage_price_per_gib_hour

    @property
    def lb_price_per_hour(self) -> float:
        """The default load balancer price (``defaultLBPrice``)."""
        return self._custom.lb_price_per_hour

    def is_spot(self, labels: Mapping[str, str]) -> bool:
        """True when the node labels mark spot / preemptible capacity (conventions plus ``spotLabel``)."""
        extra = [(self._custom.spot_label, self._custom.spot_label_value)] if self._custom.spot_label else []
        return is_spot(labels, extra)

    def base_prices(self, preemptible: bool) -> UnitPrices:
        """The undiscounted default unit prices: spot ones for preemptible nodes."""
        custom = self._custom
        if preemptible:
            return UnitPrices(
                custom.spot_cpu_price_per_core_hour,
                custom.spot_ram_price_per_gib_hour,
                custom.spot_gpu_price_per_gpu_hour,
            )
        return UnitPrices(custom.cpu_price_per_core_hour, custom.ram_price_per_gib_hour, custom.gpu_price_per_gpu_hour)

    def node_override(self, node: NodeSpec) -> NodeOverride | None:
        """The override for ``node``: ``"<cluster>/<node>"``, then ``"<node>"``, then its instance type."""
        overrides = self._custom.node_overrides
        found = overrides.get(f"{node.cluster}/{node.node}") or overrides.get(node.node)
        if found is None and node.instance_type:
            found = self._custom.instance_type_overrides.get(node.instance_type)
        return found

    def node_price(self, node: NodeSpec, observed: NodePrice | None = None) -> NodePrice:
        """Unit prices of one node by the resolution order; ``observed`` are Prometheus-observed prices."""
        preemptible = self.is_spot(node.labels)
        base = self.base_prices(preemptible)
        shape = (node.cpu_cores, node.ram_bytes / GIB, node.gpu_count)
        override = self.node_override(node)
        if override is not None:
            units = _override_units(override, base, *shape)
            if units is not None:
                return _node_price(units, preemptible, 0.0, SOURCE_OVERRIDE)
        if observed is not None:
            units = UnitPrices(
                observed.cpu_price_per_core_hour, observed.ram_price_per_gib_hour, observed.gpu_price_per_gpu_hour
            )
            return _node_price(units, preemptible, 0.0, SOURCE_PROMETHEUS)
        discount = self._custom.combined_discount
        sheet_price = self._sheet.price_per_hour(node.instance_type, node.region, preemptible)
        if sheet_price is not None:
            units = split_node_price(sheet_price, base, *shape)
            if units is not None:
                return _node_price(units, preemptible, discount, SOURCE_PRICE_SHEET)
        return _node_price(base, preemptible, discount, SOURCE_DEFAULT)

    def node_prices(self, nodes: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        """``node_price`` for each distinct (cluster, node) of a ClusterHistory ``nodes`` table.

        ``observed`` has the ``observed_node_prices`` schema. Returns the NODE_PRICES schema, sorted by cluster and
        node. A node with several existence rows is priced from its latest row. Observed rows are averaged per
        node; they apply when CPU and RAM prices are present, and a missing GPU price takes what levels 3–4 give.
        """
        latest = nodes.sort("start").group_by("cluster", "node", maintain_order=True).last()
        seen = {
            (row["cluster"], row["node"]): row
            for row in _mean_by(observed, ["cluster", "node"], _OBSERVED_UNITS).iter_rows(named=True)
        }
        rows = []
        for row in latest.sort("cluster", "node").iter_rows(named=True):
            spec = NodeSpec(
                cluster=row["cluster"],
                node=row["node"],
                instance_type=row["instance_type"],
                region=row["region"],
                labels={item["key"]: item["value"] or "" for item in row["labels"] or ()},
                cpu_cores=row["cpu_cores"] or 0.0,
                ram_bytes=row["ram_bytes"] or 0.0,
                gpu_count=row["gpu_count"] or 0.0,
            )
            price = self.node_price(spec, self._observed_node_price(spec, seen.get((spec.cluster, spec.node))))
            rows.append(
                (
                    spec.cluster,
                    spec.node,
                    price.cpu_price_per_core_hour,
                    price.ram_price_per_gib_hour,
                    price.gpu_price_per_gpu_hour,
                    price.preemptible,
                    price.discount,
                    price.source,
                )
            )
        return pl.DataFrame(rows, schema=NODE_PRICES, orient="row")

    def _observed_node_price(self, spec: NodeSpec, row: Mapping[str, float | None] | None) -> NodePrice | None:
        if row is None:
            return None
        cpu, ram, gpu = (row[unit] for unit in _OBSERVED_UNITS)
        if cpu is None or ram is None:
            return None
        if gpu is None:
            gpu = self.node_price(spec).gpu_price_per_gpu_hour
        return NodePrice(cpu, ram, gpu, preemptible=False, discount=0.0, source=SOURCE_PROMETHEUS)

    def volume_prices(self, volumes: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        """$/GiB-h per distinct (cluster, pv): observed, then storage class price, then ``storage`` default.

        Sources: ``prometheus`` (``pv_hourly_cost``), ``override`` (``kubetally.storageClassesPerGiBMonth``,
        divided by 730 h), ``default``. A PV with several existence rows takes its latest storage class.
        """
        classes = pl.DataFrame(
            {
                "storage_class": list(self._custom.storage_class_price_per_gib_month),
                "class_price": [
                    price / HOURS_PER_MONTH for price in self._custom.storage_class_price_per_gib_month.values()
                ],
            },
            schema={"storage_class": pl.String, "class_price": pl.Float64},
        )
        seen = _mean_by(observed, ["cluster", "pv"], ("price_per_gib_hour",))
        priced = (
            volumes.sort("start")
            .group_by("cluster", "pv", maintain_order=True)
            .agg(pl.col("storage_class").last())
            .join(seen, on=["cluster", "pv"], how="left")
            .join(classes, on="storage_class", how="left")
            .select(
                "cluster",
                "pv",
                pl.coalesce("price_per_gib_hour", "class_price", pl.lit(self.storage_price_per_gib_hour)).alias(
                    "price_per_gib_hour"
                ),
                pl.when(pl.col("price_per_gib_hour").is_not_null())
                .then(pl.lit(SOURCE_PROMETHEUS))
                .when(pl.col("class_price").is_not_null())
                .then(pl.lit(SOURCE_OVERRIDE))
                .otherwise(pl.lit(SOURCE_DEFAULT))
                .alias("price_source"),
            )
            .sort("cluster", "pv")
        )
        return priced.cast(dict(VOLUME_PRICES))  # type: ignore[arg-type]

    def lb_prices(self, services: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        """$/h per LoadBalancer service: observed, then ``defaultLBPrice``. Other service types get no row."""
        keys = ["cluster", "namespace", "service"]
        seen = _mean_by(observed, keys, ("price_per_hour",))
        priced = (
            services.filter(pl.col("service_type") == LOAD_BALANCER)
            .select(keys)
            .unique(maintain_order=True)
            .join(seen, on=keys, how="left")
            .with_columns(pl.col("price_per_hour").fill_null(self.lb_price_per_hour))
            .sort(keys)
        )
        return priced.select(list(LB_PRICES)).cast(dict(LB_PRICES))  # type: ignore[arg-type]

    def cluster_prices(self, clusters: list[str], observed: pl.DataFrame) -> pl.DataFrame:
        """Management fee and egress prices per cluster: observed, then configured.

        Each observed column is averaged per cluster and overrides the configured price where present; the
        unclassified egress price is always the configured one (``kubetally.unclassifiedNetworkEgress``).
        """
        custom = self._custom
        configured = {
            "management_price_per_hour": custom.cluster_management_price_per_hour,
            "zone_egress_price_per_gib": custom.zone_egress_price_per_gib,
            "region_egress_price_per_gib": custom.region_egress_price_per_gib,
            "internet_egress_price_per_gib": custom.internet_egress_price_per_gib,
        }
        seen = _mean_by(observed, ["cluster"], tuple(configured))
        priced = (
            pl.DataFrame({"cluster": sorted(set(clusters))}, schema={"cluster": pl.String})
            .join(seen, on="cluster", how="left")
            .with_columns(pl.col(column).fill_null(price) for column, price in configured.items())
            .with_columns(pl.lit(custom.unclassified_egress_price_per_gib).alias("unclassified_egress_price_per_gib"))
        )
        return priced.select(list(CLUSTER_PRICES)).cast(dict(CLUSTER_PRICES))  # type: ignore[arg-type]


def _mean_by(frame: pl.DataFrame, keys: list[str], values: tuple[str, ...]) -> pl.DataFrame:
    """Per key, the mean of each value column over rows where it is present (NaN counts as missing)."""
    return frame.group_by(keys).agg(pl.col(column).cast(pl.Float64).fill_nan(None).mean() for column in values)


def _override_units(
    override: NodeOverride, base: UnitPrices, cpu_cores: float, ram_gib: float, gpu_count: float
) -> UnitPrices | None:
    """An override's unit prices: its total split by Appendix A, or its unit prices with ``base`` for the rest."""
    if override.price_per_hour is not None:
        return split_node_price(override.price_per_hour, base, cpu_cores, ram_gib, gpu_count)
    return UnitPrices(
        _given(override.cpu_price_per_core_hour, base.cpu_price_per_core_hour),
        _given(override.ram_price_per_gib_hour, base.ram_price_per_gib_hour),
        _given(override.gpu_price_per_gpu_hour, base.gpu_price_per_gpu_hour),
    )


def _given(value: float | None, fallback: float) -> float:
    return fallback if value is None or math.isnan(value) else value


def _node_price(units: UnitPrices, preemptible: bool, discount: float, source: str) -> NodePrice:
    keep = 1.0 - discount
    return NodePrice(
        cpu_price_per_core_hour=units.cpu_price_per_core_hour * keep,
        ram_price_per_gib_hour=units.ram_price_per_gib_hour * keep,
        gpu_price_per_gpu_hour=units.gpu_price_per_gpu_hour,
        preemptible=preemptible,
        discount=discount,
        source=source,
    )
