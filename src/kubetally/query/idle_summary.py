"""The idle share of the cluster cost: idle cost as a percentage of the total, per resource and per cluster or node.

It reads an allocation answer computed with :func:`idle_params` (idle as separate, split per cluster or node, one
set for the window), so the figures are exactly the ``__idle__`` rows the API returns for the same query: the idle
cost of a cluster (node) is the ``totalCost`` of its ``<cluster>/__idle__`` (``<cluster>/<node>/__idle__``) row, and
its total is that plus every other row of the same cluster (node).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import polars as pl

from kubetally.domain.names import IDLE, SEPARATOR

RESOURCES: dict[str, str] = {"cpu": "cpuCost", "ram": "ramCost", "gpu": "gpuCost"}
"""The resources idle is reported for, and the allocation field holding each one's cost."""

_IDLE_SUFFIX = SEPARATOR + IDLE


class IdleBy(StrEnum):
    """What the idle breakdown is per."""

    CLUSTER = "cluster"
    NODE = "node"


def idle_params(window: str, by: IdleBy) -> dict[str, str]:
    """The /allocation parameters whose answer :func:`summarize_idle` reads."""
    params = {"window": window, "accumulate": "true", "idle": "separate", "splitIdle": "true"}
    if by is IdleBy.NODE:
        return params | {"aggregate": "cluster,node", "idleByNode": "true"}
    return params | {"aggregate": "cluster"}


@dataclass(frozen=True)
class IdleShare:
    """The idle cost of a part of the window's cost and its share of that part's total (0–100 %)."""

    name: str
    total_cost: float
    idle_cost: float
    idle_percent: float | None
    """``None`` when the total is zero."""


@dataclass(frozen=True)
class IdleSummary:
    """Idle cost overall, per resource (``cpu``, ``ram``, ``gpu``) and per cluster or node."""

    overall: IdleShare
    resources: tuple[IdleShare, ...]
    groups: tuple[IdleShare, ...]


def _percent(idle: float, total: float) -> float | None:
    return None if total == 0 else round(100.0 * idle / total, 4)


def _share(name: str, total: float, idle: float) -> IdleShare:
    return IdleShare(name, round(total, 5), round(idle, 5), _percent(idle, total))


def summarize_idle(sets: Sequence[dict[str, dict[str, Any]]]) -> IdleSummary:
    """The idle summary of the sets of an :func:`idle_params` query (summed over the sets)."""
    costs = ["totalCost", *RESOURCES.values()]
    rows = [
        {"name": name, **{c: float(row.get(c) or 0.0) for c in costs}} for data in sets for name, row in data.items()
    ]
    schema = {"name": pl.String, **dict.fromkeys(costs, pl.Float64)}
    frame = pl.DataFrame(rows, schema=schema).with_columns(
        is_idle=pl.col("name").str.ends_with(_IDLE_SUFFIX) | (pl.col("name") == IDLE),
        group=pl.col("name").str.strip_suffix(_IDLE_SUFFIX),
    )
    totals = frame.select(pl.col(costs).sum()).row(0, named=True)
    idle = frame.filter("is_idle").select(pl.col(costs).sum()).row(0, named=True)
    per_group = (
        frame.group_by("group")
        .agg(
            pl.col("totalCost").sum().alias("total"),
            pl.col("totalCost").filter(pl.col("is_idle")).sum().alias("idle"),
        )
        .sort("group")
    )
    return IdleSummary(
        overall=_share("total", totals["totalCost"], idle["totalCost"]),
        resources=tuple(_share(name, totals[field], idle[field]) for name, field in RESOURCES.items()),
        groups=tuple(_share(group, total, idle_cost) for group, total, idle_cost in per_group.iter_rows()),
    )


__all__ = ["RESOURCES", "IdleBy", "IdleShare", "IdleSummary", "idle_params", "summarize_idle"]
