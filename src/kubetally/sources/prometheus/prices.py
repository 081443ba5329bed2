"""Observed prices: OpenCost's pricing metrics, read by the ``*_price`` queries, as the ``observed_*`` tables of a
ClusterHistory.

Each price is the time-weighted mean of its samples over the fetched window, per node, volume, LoadBalancer
service or cluster: prices that change within the window are averaged, not applied hour by hour. A metric that is
absent leaves its column null, so the PriceBook falls through to the next level of the resolution order.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

import polars as pl

NODE_UNITS = {
    "node_cpu_price": "cpu_price_per_core_hour",
    "node_ram_price": "ram_price_per_gib_hour",
    "node_gpu_price": "gpu_price_per_gpu_hour",
}
"""Query name -> column of ``observed_node_prices``."""

CLUSTER_COLUMNS = {
    "management_price": "management_price_per_hour",
    "zone_egress_price": "zone_egress_price_per_gib",
    "region_egress_price": "region_egress_price_per_gib",
    "internet_egress_price": "internet_egress_price_per_gib",
}
"""Query name -> column of ``observed_cluster_prices``."""

PRICE_QUERIES = frozenset({*NODE_UNITS, "pv_price", "lb_price", *CLUSTER_COLUMNS})
"""The queries whose results are prices: an empty result means the metric is absent (a zero price is a price)."""


def _keyed(frame: pl.DataFrame, keys: Mapping[str, str], column: str) -> pl.DataFrame:
    """``frame`` with its label columns renamed by ``keys``, rows without a key value dropped, value as ``column``."""
    present = [pl.col(label) != "" for label in keys]
    return frame.filter(*present).select(
        "cluster", *(pl.col(label).alias(name) for label, name in keys.items()), pl.col("value").alias(column)
    )


def _merge(r: Mapping[str, pl.DataFrame], columns: Mapping[str, str], keys: Mapping[str, str]) -> pl.DataFrame:
    """One row per key with a column per query; a price not observed for the key is null."""
    frames = [_keyed(r[name], keys, column) for name, column in columns.items()]
    on = ["cluster", *keys.values()]
    return reduce(lambda left, right: left.join(right, on=on, how="full", coalesce=True), frames)


def observed_tables(r: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The four ``observed_*`` tables from the query results ``r`` (by query name)."""
    return {
        "observed_node_prices": _merge(r, NODE_UNITS, {"node": "node"}),
        "observed_volume_prices": _keyed(r["pv_price"], {"persistentvolume": "pv"}, "price_per_gib_hour"),
        "observed_lb_prices": _keyed(
            r["lb_price"], {"namespace": "namespace", "service_name": "service"}, "price_per_hour"
        ),
        "observed_cluster_prices": _merge(r, CLUSTER_COLUMNS, {}),
    }
