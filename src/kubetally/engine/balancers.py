"""R8: LoadBalancer assets per service and bucket, split among the running pods the service selects."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kubetally.domain.hours import explode_hours
from kubetally.engine.ids import Keys
from kubetally.engine.segments import split_pieces
from kubetally.engine.spread import over_containers
from kubetally.engine.timeline import ENGINE, SECONDS_PER_HOUR
from kubetally.history import ClusterHistory

SERVICE_KEY = ["cluster", "namespace", "service"]
LOAD_BALANCER = "LoadBalancer"


@dataclass(frozen=True)
class Balancers:
    """Load balancer cost.

    ``assets``: per (cluster, namespace, service, hour). ``details``: the ALLOCATION_LBS columns, workload and
    unmounted rows. ``unmounted``: the unmounted part per service piece with its ``price_source``.
    """

    assets: pl.DataFrame
    details: pl.DataFrame
    unmounted: pl.DataFrame


def load_balancer_services(history: ClusterHistory) -> pl.DataFrame:
    """The existence intervals of services of type LoadBalancer."""
    return history.services.filter(pl.col("service_type") == LOAD_BALANCER)


def with_price_source(lb_prices: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
    """``lb_prices`` with a ``price_source``: its own when given, else ``prometheus`` for observed prices."""
    if "price_source" in lb_prices.columns:
        return lb_prices
    seen = observed.filter(pl.col("price_per_hour").is_not_null()).select(*SERVICE_KEY).unique()
    return lb_prices.join(
        seen.with_columns(pl.lit("prometheus").alias("price_source")), on=SERVICE_KEY, how="left", maintain_order="left"
    )


def balancers(history: ClusterHistory, keys: Keys, lb_prices: pl.DataFrame) -> Balancers:
    """LoadBalancer assets ($/h x hours) and each service-hour's split (R8)."""
    services = (
        load_balancer_services(history)
        .lazy()
        .with_row_index("res_id")
        .join(
            with_price_source(lb_prices, history.observed_lb_prices).lazy(),
            on=SERVICE_KEY,
            how="left",
            maintain_order="left",
        )
        .with_columns(
            (pl.col("price_per_hour") / SECONDS_PER_HOUR).alias("__cost_s"),
            pl.col("price_source").fill_null("default"),
        )
    )
    pieces = explode_hours(services).with_row_index("piece_id").collect(engine=ENGINE)
    assets = (
        pieces.lazy()
        .sort(*SERVICE_KEY, "hour", "lo_us")
        .group_by(*SERVICE_KEY, "hour")
        .agg(
            (pl.col("seconds").sum() / 60.0).alias("minutes"),
            (pl.col("seconds") * pl.col("__cost_s")).sum().alias("total_cost"),
            *[pl.col(c).last() for c in ("ip", "private", "price_source")],
        )
    )
    users = (
        history.service_pods.lazy()
        .unique()
        .join(history.pod_intervals.lazy(), on=["cluster", "pod_uid"], how="inner")
        .join(services.select("res_id", *SERVICE_KEY), on=SERVICE_KEY, how="inner")
    )
    split = split_pieces(pieces, users)
    attributes = pieces.lazy().select("piece_id", *SERVICE_KEY, "hour", "ip", "private", "__cost_s", "price_source")
    value = [
        (pl.col("seconds") / SECONDS_PER_HOUR).alias("hours"),
        (pl.col("seconds") * pl.col("__cost_s")).alias("load_balancer_cost"),
    ]
    shared = (
        split.shares.lazy()
        .join(attributes, on="piece_id")
        .select("cluster", "hour", "pod_uid", "namespace", "service", "ip", "private", *value)
    )
    workload = (
        over_containers(shared, keys, ["hours", "load_balancer_cost"])
        .join(keys.containers.lazy().select("cid", "container"), on="cid", how="left", maintain_order="left")
        .with_columns(pl.lit("workload").alias("kind"))
    )
    unmounted_part = (
        split.unmounted.lazy()
        .join(attributes, on="piece_id")
        .select(
            "cluster",
            "hour",
            pl.lit("unmounted").alias("kind"),
            "namespace",
            pl.lit(None, dtype=pl.String).alias("pod_uid"),
            pl.lit(None, dtype=pl.String).alias("container"),
            pl.lit(None, dtype=pl.Int64).alias("cid"),
            "service",
            "ip",
            "private",
            *value,
            "price_source",
        )
    )
    key = ["cluster", "hour", "kind", "namespace", "pod_uid", "container", "cid", "service", "ip", "private"]
    details = (
        pl.concat([workload.select(*key, "hours", "load_balancer_cost"), unmounted_part.drop("price_source")])
        .group_by(key)
        .agg(pl.col("hours", "load_balancer_cost").sum())
    )
    frames = pl.collect_all([assets, details, unmounted_part], engine=ENGINE)
    return Balancers(assets=frames[0], details=frames[1], unmounted=frames[2])
