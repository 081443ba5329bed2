"""R1–R3: billed running time, billed quantities and compute cost per container and hour bucket."""

from __future__ import annotations

import polars as pl

from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.domain.pricing import GIB
from kubetally.engine.timeline import SECONDS_PER_HOUR, explode_hours
from kubetally.errors import InvalidHistory
from kubetally.history import ClusterHistory

CONTAINER_KEY = ["cluster", "pod_uid", "container"]
RESOURCES = ("cpu", "ram", "gpu")
"""Compute resources, in the order of the ALLOCATIONS columns."""

QUANTITY_HOURS = {"cpu": "cpu_core_hours", "ram": "ram_byte_hours", "gpu": "gpu_hours"}
"""The billed quantity-hours column of each resource."""

REQUEST = {"cpu": "cpu_core_request_average", "ram": "ram_byte_request_average", "gpu": "gpu_request_average"}
USAGE = {"cpu": "cpu_core_usage_average", "ram": "ram_byte_usage_average", "gpu": "gpu_usage_average"}
PRICE = {"cpu": "cpu_price_per_core_hour", "ram": "ram_price_per_gib_hour", "gpu": "gpu_price_per_gpu_hour"}
PRICE_UNIT = {"cpu": 1.0, "ram": GIB, "gpu": 1.0}
"""Divisor turning quantity-hours into the unit the price is quoted in (GiB-hours for RAM)."""


def running_time(history: ClusterHistory, policy: BillingPolicy) -> pl.LazyFrame:
    """R1: per container and bucket, running seconds ``r``, billed seconds ``b`` and charged waiting seconds.

    Only buckets with billed time or charged waiting time are kept.
    """
    running = pl.col("state") == "running"
    minimum = policy.minimum_runtime_seconds
    r = pl.col("running_seconds")
    billed = (
        pl.when((r > 0) & (r < minimum)).then(pl.lit(minimum)).otherwise(r).clip(upper_bound=SECONDS_PER_HOUR)
    )
    charged_waiting = pl.col("waiting_seconds") if policy.charge_reserved_waiting else pl.lit(0.0)
    return (
        explode_hours(history.container_intervals.lazy())
        .group_by([*CONTAINER_KEY, "hour"])
        .agg(
            pl.col("seconds").filter(running).sum().alias("running_seconds"),
            pl.col("seconds").filter(~running).sum().alias("waiting_seconds"),
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


def compute_rows(history: ClusterHistory, node_prices: pl.DataFrame, policy: BillingPolicy) -> pl.LazyFrame:
    """R1–R3: one row per container and bucket with billed or charged waiting time.

    Columns: the container key, ``hour``, ``node``, ``running_minutes``, the request/usage averages and maxima,
    the quantity-hours and the unadjusted ``*_cost`` of CPU, RAM and GPU.
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

    requests = history.containers.lazy().select(
        *CONTAINER_KEY,
        pl.col("cpu_request_cores").alias("req_cpu"),
        pl.col("ram_request_bytes").alias("req_ram"),
        pl.col("gpu_request").alias("req_gpu"),
    )
    usage = history.usage.lazy().select(
        *CONTAINER_KEY, "hour", "cpu_core_seconds", "cpu_cores_max", "ram_bytes_avg", "ram_bytes_max", "gpu_usage_avg"
    )
    pods = history.pods.lazy().select("cluster", "pod_uid", "node")
    prices = node_prices.lazy().select("cluster", "node", *PRICE.values())
    rows = (
        running_time(history, policy)
        .join(requests, on=CONTAINER_KEY, how="left")
        .join(usage, on=[*CONTAINER_KEY, "hour"], how="left")
        .join(pods, on=["cluster", "pod_uid"], how="left")
        .join(prices, on=["cluster", "node"], how="left")
        .with_columns(pl.col("req_cpu", "req_ram", "req_gpu").fill_null(0.0))
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
        *[when_billed(pl.col(f"req_{res}")).alias(REQUEST[res]) for res in RESOURCES],
        *[when_billed(pl.col(f"use_{res}")).alias(USAGE[res]) for res in RESOURCES],
        when_billed(over_running(pl.col("cpu_cores_max"))).alias("cpu_core_usage_max"),
        when_billed(over_running(pl.col("ram_bytes_max"))).alias("ram_byte_usage_max"),
    ).with_columns(
        (pl.col(QUANTITY_HOURS[res]) / PRICE_UNIT[res] * pl.col(PRICE[res])).alias(f"{res}_cost")
        for res in RESOURCES
    )
    return rows.select(
        *CONTAINER_KEY,
        "hour",
        "node",
        "running_minutes",
        *REQUEST.values(),
        *USAGE.values(),
        "cpu_core_usage_max",
        "ram_byte_usage_max",
        *QUANTITY_HOURS.values(),
        *[f"{res}_cost" for res in RESOURCES],
    )


def check_priced(rows: pl.DataFrame) -> None:
    """Raise InvalidHistory when a charged container's pod has no node or its node has no price."""
    unpriced = rows.filter(pl.col("cpu_cost").is_null() | pl.col("node").is_null())
    if unpriced.height:
        sample = unpriced.select("cluster", "pod_uid", "node").unique().head(3).rows()
        raise InvalidHistory(
            f"{unpriced.height} charged container-hours run on a pod whose node is unknown or absent from "
            f"'nodes' (cluster, pod_uid, node): {sample}"
        )
