"""Splitting a pod's share of a cost evenly among the containers of its spec."""

from __future__ import annotations

import polars as pl

from kubetally.engine.ids import POD_KEY, Keys


def over_containers(frame: pl.LazyFrame, keys: Keys, values: list[str]) -> pl.LazyFrame:
    """``frame`` (per ``cluster``, ``pod_uid``, ...) with one row per spec container (``cid``), ``values`` split.

    A pod whose spec lists no container has one null-named container in :class:`Keys`, which takes the whole
    share, so no cost is lost.
    """
    return (
        frame.join(keys.members.lazy(), on=POD_KEY, how="inner")
        .with_columns(pl.col(values) * pl.col("fraction"))
        .drop("fraction")
    )
