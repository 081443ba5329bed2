"""Row-by-row comparison of two cost frames (the engine's and the ground truth's)."""

from __future__ import annotations

import polars as pl

from kubetally.costs import ALLOCATIONS, ASSETS

TOLERANCE = 1e-9

ALLOCATION_KEY = ("cluster", "hour", "kind", "node", "namespace", "pod_uid", "container")
ASSET_KEY = ("cluster", "hour", "type", "name")


def assert_same_rows(actual: pl.DataFrame, expected: pl.DataFrame, key: tuple[str, ...], what: str) -> None:
    """Same keys, equal text columns, and every number equal to 1e-9 (absolute or relative)."""
    schema = ALLOCATIONS if what == "allocations" else ASSETS
    duplicated = actual.group_by(key).len().filter(pl.col("len") > 1)
    assert duplicated.is_empty(), f"{what}: duplicated keys in the engine's rows:\n{duplicated}"
    joined = actual.join(expected, on=list(key), how="full", suffix="_truth", nulls_equal=True, coalesce=True)
    missing = joined.filter(pl.col("total_cost").is_null() | pl.col("total_cost_truth").is_null())
    assert missing.is_empty(), (
        f"{what}: rows only on one side:\n{missing.select(*key, 'total_cost', 'total_cost_truth')}"
    )
    for column, dtype in schema.items():
        if column in key or column not in actual.columns:
            continue
        mine, theirs = pl.col(column), pl.col(f"{column}_truth")
        if dtype == pl.Float64:
            off = joined.filter((mine - theirs).abs() > TOLERANCE * pl.max_horizontal(pl.lit(1.0), theirs.abs()))
        elif isinstance(dtype, pl.List):
            continue
        else:
            off = joined.filter(mine.ne_missing(theirs))
        assert off.is_empty(), (
            f"{what}.{column}: {off.height} rows differ, e.g.\n{off.select(*key, column, f'{column}_truth').head(5)}"
        )
