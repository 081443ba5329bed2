"""Splitting a pod's share of a cost evenly among the containers of its spec."""

from __future__ import annotations

import polars as pl


def over_containers(frame: pl.LazyFrame, containers: pl.DataFrame, values: list[str]) -> pl.LazyFrame:
    """``frame`` (per ``cluster``, ``pod_uid``, ...) with one row per spec container and ``values`` divided evenly.

    A pod whose spec lists no container keeps one row with a null ``container`` and the whole share, so no cost
    is lost.
    """
    spec = containers.lazy().select("cluster", "pod_uid", "container")
    counts = spec.group_by("cluster", "pod_uid").agg(pl.len().cast(pl.Float64).alias("__n"))
    return (
        frame.join(counts, on=["cluster", "pod_uid"], how="left")
        .join(spec, on=["cluster", "pod_uid"], how="left")
        .with_columns((pl.col(values) / pl.col("__n").fill_null(1.0)))
        .drop("__n")
    )
