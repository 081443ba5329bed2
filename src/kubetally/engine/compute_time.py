"""R1–R3: billed running time, billed quantities and compute cost per container and hour bucket."""

from __future__ import annotations

import polars as pl

from kubetally.domain.hours import explode_hours
from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.engine.ids import CONTAINER_KEY, Keys
from kubetally.engine.resources import PRICE, PRICE_UNIT, QUANTITY_HOURS, REQUEST, RESOURCES, USAGE
from kubetally.engine.timeline import SECONDS_PER_HOUR
from kubetally.history import TIME, ClusterHistory


def running_time(history: ClusterHistory, keys: Keys, policy: BillingPolicy) -> pl.LazyFrame:
    """R1: per ``cid`` and bucket, running seconds, billed seconds and charged waiting seconds, and
    ``running_start``/``running_end``: the first and last instant of the charged intervals (running, and waiting
    when reserved waiting is charged) within the bucket.

    Only buckets with billed time or charged waiting time are kept.
    """
    running = pl.col("state") == "running"
    minimum = policy.minimum_runtime_seconds
    r = pl.col("running_seconds")
    billed = pl.when((r > 0) & (r < minimum)).then(pl.lit(minimum)).otherwise(r).clip(upper_bound=SECONDS_PER_HOUR)
    charged_waiting = pl.col("waiting_seconds") if policy.charge_reserved_waiting else pl.lit(0.0)
    charged = running | pl.lit(policy.charge_reserved_waiting)
    intervals = history.container_intervals.lazy().join(
        keys.containers.lazy().select(*CONTAINER_KEY, "cid"), on=CONTAINER_KEY, how="inner"
    )
    return (
        explode_hours(intervals.select("cid", "state", "start", "end"))
        .group_by("cid", "hour", maintain_order=True)
        .agg(
            pl.col("seconds").filter(running).sum().alias("running_seconds"),
            pl.col("seconds").filter(~running).sum().alias("waiting_seconds"),
            pl.col("lo_us").filter(charged).min().cast(TIME).alias("running_start"),
            pl.col("hi_us").filter(charged).max().cast(TIME).alias("running_end"),
        )
        .with_columns(billed.alias("billed_seconds"), charged_waiting.alias("charged_waiting_seconds"))
        .filter((pl.col("billed_seconds") > 0) | (pl.col("charged_waiting_seconds") > 0))
    )


def billed_quantity(resource: str, mode: BillingMode) -> pl.Expr:
    """R2: the billed quantity of one resource from its ``req_*`` and ``use_*`` columns."""
    req, use = pl.col(f"req_{resource}"), pl.col(f"use_{resource}")
    if mode is BillingMode.REQUEST:
        return req
    if mode is BillingMode.USAGE:
        return use
    return pl.max_horizontal(req, use)


def compute_rows(history: ClusterHistory, keys: Keys, policy: BillingPolicy) -> pl.LazyFrame:
    """R1–R3: one row per container and bucket with billed or charged waiting time.

    Requests are reported on every such row (a charged waiting container holds its request); usage averages
    and maxima are over the running time, 0 when the container did not run.

    Columns: ``cid``, ``hour``, ``nid``, ``running_minutes``, ``running_start``/``running_end``, the request/usage
    averages and maxima, the
    quantity-hours and the unadjusted ``*_cost`` of CPU, RAM and GPU. A container whose pod's node is absent from
    the history (``nid`` null: a node deleted before its pods, or never reported) is charged nothing, as one on a
    node absent in a bucket is (R5): there is no node cost to divide. Its time and usage are kept.
    """
    r = pl.col("running_seconds")
    ran = r > 0
    has_billed = pl.col("billed_seconds") > 0
    t = pl.col("billed_seconds") / SECONDS_PER_HOUR
    waiting_hours = pl.col("charged_waiting_seconds") / SECONDS_PER_HOUR

    def over_running(expr: pl.Expr) -> pl.Expr:
        return pl.when(ran).then(expr.fill_null(0.0)).otherwise(0.0)

    def when_billed(expr: pl.Expr) -> pl.Expr:
        return pl.when(has_billed).then(expr).otherwise(0.0)

    usage = (
        history.usage.lazy()
        .join(keys.containers.lazy().select(*CONTAINER_KEY, "cid"), on=CONTAINER_KEY, how="inner")
        .select("cid", "hour", "cpu_core_seconds", "cpu_cores_max", "ram_bytes_avg", "ram_bytes_max", "gpu_usage_avg")
    )
    per_container = keys.containers.lazy().select("cid", "nid", "req_cpu", "req_ram", "req_gpu", *PRICE.values())
    rows = (
        running_time(history, keys, policy)
        .join(usage, on=["cid", "hour"], how="left", maintain_order="left")
        .join(per_container, on="cid", how="left", maintain_order="left")
        .with_columns(
            over_running(pl.col("cpu_core_seconds") / r).alias("use_cpu"),
            over_running(pl.col("ram_bytes_avg")).alias("use_ram"),
            over_running(pl.col("gpu_usage_avg")).alias("use_gpu"),
        )
    )
    quantities = [
        (billed_quantity(res, policy.mode) * t + pl.col(f"req_{res}") * waiting_hours).alias(QUANTITY_HOURS[res])
        for res in RESOURCES
    ]
    rows = rows.with_columns(
        ((pl.col("billed_seconds") + pl.col("charged_waiting_seconds")) / 60.0).alias("running_minutes"),
        *quantities,
        *[pl.col(f"req_{res}").alias(REQUEST[res]) for res in RESOURCES],
        *[when_billed(pl.col(f"use_{res}")).alias(USAGE[res]) for res in RESOURCES],
        when_billed(over_running(pl.col("cpu_cores_max"))).alias("cpu_core_usage_max"),
        when_billed(over_running(pl.col("ram_bytes_max"))).alias("ram_byte_usage_max"),
    ).with_columns(
        (pl.col(QUANTITY_HOURS[res]) / PRICE_UNIT[res] * pl.col(PRICE[res]).fill_null(0.0)).alias(f"{res}_cost")
        for res in RESOURCES
    )
    return rows.select(
        "cid",
        "hour",
        "nid",
        "running_minutes",
        "running_start",
        "running_end",
        *REQUEST.values(),
        *USAGE.values(),
        "cpu_core_usage_max",
        "ram_byte_usage_max",
        *QUANTITY_HOURS.values(),
        *[f"{res}_cost" for res in RESOURCES],
    )
