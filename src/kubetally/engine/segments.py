"""R7/R8 splitting: a resource's time in a bucket cut into segments by the running intervals of its users.

Storage volumes and load balancers share this rule: within each piece (the resource's existence clipped to one
hour bucket) the running intervals of the pods using it cut the time into segments; a segment with ``k ≥ 1``
running users gives each ``1/k`` of its length, a segment with none is unmounted.

The split is computed with prefix sums rather than by pairing users with segments: along a piece, ``F(t)`` is the
integral of ``1/k`` over the used segments before ``t``, so a user running over ``[s, e)`` in the piece receives
``F(e) − F(s)`` seconds. Every user start and end is a boundary, so both are found by an equality join.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kubetally.domain.hours import epoch_us
from kubetally.engine.timeline import ENGINE


@dataclass(frozen=True)
class Split:
    """The result of splitting pieces among their users.

    ``shares``: ``piece_id``, ``pod_uid``, ``seconds`` (the user's share of the piece, in seconds).
    ``unmounted``: ``piece_id``, ``seconds`` (the time no user was running).
    """

    shares: pl.DataFrame
    unmounted: pl.DataFrame


def split_pieces(pieces: pl.DataFrame, users: pl.LazyFrame) -> Split:
    """Split ``pieces`` (``piece_id``, ``res_id``, ``lo_us``, ``hi_us``) among ``users``.

    ``users`` has ``res_id``, ``pod_uid``, ``start`` and ``end``: one row per running interval of a pod using
    the resource. A pod's intervals are disjoint.
    """
    clipped = (
        pieces.lazy()
        .select("piece_id", "res_id", "lo_us", "hi_us")
        .join(
            users.select("res_id", "pod_uid", epoch_us("start").alias("__s"), epoch_us("end").alias("__e")),
            on="res_id",
            how="inner",
        )
        .select(
            "piece_id",
            "pod_uid",
            pl.max_horizontal("lo_us", "__s").alias("s_us"),
            pl.min_horizontal("hi_us", "__e").alias("e_us"),
        )
        .filter(pl.col("s_us") < pl.col("e_us"))
        .collect(engine=ENGINE)
    )
    edge = pl.lit(0, dtype=pl.Int64)
    events = pl.concat(
        [
            clipped.lazy().select("piece_id", pl.col("s_us").alias("t"), pl.lit(1, dtype=pl.Int64).alias("d")),
            clipped.lazy().select("piece_id", pl.col("e_us").alias("t"), pl.lit(-1, dtype=pl.Int64).alias("d")),
            pieces.lazy().select("piece_id", pl.col("lo_us").alias("t"), edge.alias("d")),
            pieces.lazy().select("piece_id", pl.col("hi_us").alias("t"), edge.alias("d")),
        ]
    )
    same_piece = pl.col("piece_id").shift(-1) == pl.col("piece_id")
    length = pl.when(same_piece).then(pl.col("t").shift(-1) - pl.col("t")).otherwise(0) / 1e6
    # Every user adds 1 at its start and removes it at its end, so each piece's events sum to 0 and the running
    # sum over all pieces in order is the count of running users within each piece.
    boundaries = (
        events.group_by("piece_id", "t")
        .agg(pl.col("d").sum())
        .sort("piece_id", "t")
        .with_columns(pl.col("d").cum_sum().alias("k"), length.alias("length"))
        .with_columns(pl.when(pl.col("k") > 0).then(pl.col("length") / pl.col("k")).otherwise(0.0).alias("__per_user"))
        .with_columns((pl.col("__per_user").cum_sum().over("piece_id") - pl.col("__per_user")).alias("F"))
        .collect(engine=ENGINE)
    )
    prefix = boundaries.lazy().select("piece_id", "t", "F")
    shares = (
        clipped.lazy()
        .join(prefix.rename({"t": "s_us", "F": "__fs"}), on=["piece_id", "s_us"], how="left", maintain_order="left")
        .join(prefix.rename({"t": "e_us", "F": "__fe"}), on=["piece_id", "e_us"], how="left", maintain_order="left")
        .group_by("piece_id", "pod_uid")
        .agg((pl.col("__fe") - pl.col("__fs")).sum().alias("seconds"))
    )
    unmounted = (
        boundaries.lazy()
        .filter(pl.col("k") == 0)
        .group_by("piece_id")
        .agg(pl.col("length").sum().alias("seconds"))
        .filter(pl.col("seconds") > 0)
    )
    shares_frame, unmounted_frame = pl.collect_all([shares, unmounted], engine=ENGINE)
    return Split(shares=shares_frame, unmounted=unmounted_frame)
