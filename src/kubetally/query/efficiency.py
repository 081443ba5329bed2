"""Right-sizing: how well each workload's requests match its usage, and what setting requests to usage would save.

It reads the allocations of an ordinary allocation answer (idle hidden), using only their OpenCost fields:

* efficiency of a resource = ``usageAverage / requestAverage`` (``None`` without a request);
* recommended request = ``usageAverage × (1 + headroom)`` (the headroom, 20 % by default, absorbs peaks);
* a resource is billed on ``max(request, usage)`` (docs/cost-model.md), so its cost with the recommended
  request is ``cost × recommended / max(requestAverage, usageAverage)``, and the saving is the difference;
* the monthly saving is the saving over the allocation's minutes scaled to 730 hours (OpenCost's month).

A negative saving means the workload requests less than it uses plus headroom: following the recommendation
raises its cost. The figures are estimates from window averages: hour-by-hour billing of ``max(request, usage)``
can differ when usage swings above the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from kubetally.domain.names import IDLE, SEPARATOR
from kubetally.errors import InvalidParameter

DEFAULT_HEADROOM = 0.2
"""Recommended requests are the observed average usage plus this fraction."""
HOURS_PER_MONTH = 730.0

_RESOURCES = {
    "cpu": ("cpuCoreRequestAverage", "cpuCoreUsageAverage", "cpuCost"),
    "ram": ("ramByteRequestAverage", "ramByteUsageAverage", "ramCost"),
}
"""Resource → (request average, usage average, cost) allocation fields."""


def check_headroom(headroom: float) -> float:
    """``headroom`` when it is a fraction between 0 and 10; InvalidParameter naming ``headroom`` otherwise."""
    if not 0.0 <= headroom <= 10.0:
        raise InvalidParameter("headroom", f"must be a fraction between 0 and 10 (0.2 = 20 %), got {headroom}")
    return headroom


def _resource(name: str, request: str, usage: str, cost: str, headroom: float) -> list[pl.Expr]:
    billed = pl.max_horizontal(request, usage)
    recommended = pl.col(usage) * (1.0 + headroom)
    new_cost = pl.when(billed > 0).then(pl.col(cost) * recommended / billed).otherwise(pl.col(cost))
    return [
        pl.when(pl.col(request) > 0).then(pl.col(usage) / pl.col(request)).alias(f"{name}_efficiency"),
        recommended.alias(f"{name}_recommended_request"),
        (pl.col(cost) - new_cost).alias(f"{name}_saving"),
    ]


def efficiency_frame(sets: Sequence[dict[str, dict[str, Any]]], headroom: float = DEFAULT_HEADROOM) -> pl.DataFrame:
    """One row per allocation of each set (idle rows left out), sorted by monthly saving.

    Columns: ``name``, ``minutes``, each resource's request, usage and cost (the allocation fields), its
    ``<resource>_efficiency``, ``<resource>_recommended_request`` and ``<resource>_saving`` (over the window),
    ``total_cost``, ``saving`` and ``monthly_saving``.
    """
    check_headroom(headroom)
    fields = ["minutes", "totalCost", *(f for triple in _RESOURCES.values() for f in triple)]
    rows = [
        {"name": name, **{f: float(row.get(f) or 0.0) for f in fields}}
        for data in sets
        for name, row in data.items()
        if name != IDLE and not name.endswith(SEPARATOR + IDLE)
    ]
    frame = pl.DataFrame(rows, schema={"name": pl.String, **dict.fromkeys(fields, pl.Float64)})
    for name, (request, usage, cost) in _RESOURCES.items():
        frame = frame.with_columns(_resource(name, request, usage, cost, headroom))
    saving = pl.sum_horizontal(*(f"{name}_saving" for name in _RESOURCES))
    monthly = pl.when(pl.col("minutes") > 0).then(saving * HOURS_PER_MONTH * 60.0 / pl.col("minutes")).otherwise(0.0)
    return (
        frame.with_columns(saving.alias("saving"), monthly.alias("monthly_saving"))
        .rename({"totalCost": "total_cost"})
        .sort(["monthly_saving", "name"], descending=[True, False])
    )


__all__ = ["DEFAULT_HEADROOM", "HOURS_PER_MONTH", "check_headroom", "efficiency_frame"]
