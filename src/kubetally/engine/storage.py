"""R7: Disk assets per volume and bucket, and their split among the pods mounting the volume's claim."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kubetally.domain.hours import explode_hours
from kubetally.domain.pricing import GIB
from kubetally.engine.ids import Keys
from kubetally.engine.segments import split_pieces
from kubetally.engine.spread import over_containers
from kubetally.engine.timeline import ENGINE, SECONDS_PER_HOUR
from kubetally.history import ClusterHistory


@dataclass(frozen=True)
class Storage:
    """Storage cost.

    ``assets``: per (cluster, pv, hour). ``details``: the ALLOCATION_PVS columns, workload and unmounted rows.
    ``unmounted``: the unmounted part per volume piece with the volume's ``price_source``.
    """

    assets: pl.DataFrame
    details: pl.DataFrame
    unmounted: pl.DataFrame


def storage(history: ClusterHistory, keys: Keys, volume_prices: pl.DataFrame) -> Storage:
    """Disk assets (capacity GiB x hours x $/GiB-h) and each volume-hour's split (R7)."""
    volumes = (
        history.volumes.lazy()
        .with_row_index("res_id")
        .join(volume_prices.lazy(), on=["cluster", "pv"], how="left", maintain_order="left")
        .with_columns(
            (pl.col("capacity_bytes") / GIB * pl.col("price_per_gib_hour") / SECONDS_PER_HOUR).alias("__cost_s"),
            (pl.col("capacity_bytes") / SECONDS_PER_HOUR).alias("__bytes_s"),
            pl.when(pl.col("claim").is_null()).then(None).otherwise(pl.col("claim_namespace")).alias("__ns"),
        )
    )
    pieces = explode_hours(volumes).with_row_index("piece_id").collect(engine=ENGINE)
    assets = (
        pieces.lazy()
        .sort("cluster", "pv", "hour", "lo_us")
        .group_by("cluster", "pv", "hour")
        .agg(
            (pl.col("seconds").sum() / 60.0).alias("minutes"),
            (pl.col("seconds") * pl.col("__bytes_s")).sum().alias("byte_hours"),
            (pl.col("seconds") * pl.col("__cost_s")).sum().alias("total_cost"),
            pl.col("capacity_bytes").last().alias("bytes"),
            *[pl.col(c).last() for c in ("provider_id", "storage_class", "claim", "claim_namespace", "price_source")],
        )
    )
    users = (
        history.mounts.lazy()
        .unique()
        .join(history.pod_intervals.lazy(), on=["cluster", "pod_uid"], how="inner")
        .join(
            volumes.select("res_id", "cluster", pl.col("claim_namespace").alias("namespace"), "claim"),
            on=["cluster", "namespace", "claim"],
            how="inner",
        )
    )
    split = split_pieces(pieces, users)
    attributes = pieces.lazy().select(
        "piece_id", "cluster", "hour", "pv", "provider_id", "__ns", "__cost_s", "__bytes_s", "price_source"
    )
    value = [
        (pl.col("seconds") * pl.col("__bytes_s")).alias("pv_byte_hours"),
        (pl.col("seconds") * pl.col("__cost_s")).alias("pv_cost"),
    ]
    shared = (
        split.shares.lazy()
        .join(attributes, on="piece_id")
        .select("cluster", "hour", "pod_uid", pl.col("__ns").alias("namespace"), "pv", "provider_id", *value)
    )
    workload = (
        over_containers(shared, keys, ["pv_byte_hours", "pv_cost"])
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
            pl.col("__ns").alias("namespace"),
            pl.lit(None, dtype=pl.String).alias("pod_uid"),
            pl.lit(None, dtype=pl.String).alias("container"),
            pl.lit(None, dtype=pl.Int64).alias("cid"),
            "pv",
            "provider_id",
            *value,
            "price_source",
        )
    )
    key = ["cluster", "hour", "kind", "namespace", "pod_uid", "container", "cid", "pv", "provider_id"]
    details = (
        pl.concat([workload.select(*key, "pv_byte_hours", "pv_cost"), unmounted_part.drop("price_source")])
        .group_by(key)
        .agg(pl.col("pv_byte_hours", "pv_cost").sum())
    )
    frames = pl.collect_all([assets, details, unmounted_part], engine=ENGINE)
    return Storage(assets=frames[0], details=frames[1], unmounted=frames[2])
