"""The cost invariant: every asset dollar is in an allocation row or is overhead."""

from __future__ import annotations

import polars as pl

from kubetally.costs import CostResult

OVERHEAD_TYPES = ("ClusterManagement",)


def invariant_gap(result: CostResult) -> float:
    """The largest relative gap, over clusters, between asset cost and allocated cost plus overhead.

    Per cluster: ``|Σ assets − (Σ allocations + Σ ClusterManagement)| / Σ assets`` (the absolute gap when the
    assets cost nothing). The cost model requires it below 1e-9.
    """
    assets = result.assets.group_by("cluster").agg(
        pl.col("total_cost").sum().alias("assets"),
        pl.col("total_cost").filter(pl.col("type").is_in(OVERHEAD_TYPES)).sum().alias("overhead"),
    )
    allocated = result.allocations.group_by("cluster").agg(pl.col("total_cost").sum().alias("allocated"))
    joined = assets.join(allocated, on="cluster", how="full", coalesce=True).fill_null(0.0)
    gaps = joined.select(
        (
            (pl.col("assets") - pl.col("allocated") - pl.col("overhead")).abs()
            / pl.when(pl.col("assets").abs() > 0).then(pl.col("assets").abs()).otherwise(1.0)
        ).alias("gap")
    )
    worst = gaps.get_column("gap").max()
    return float(worst) if isinstance(worst, int | float) else 0.0
