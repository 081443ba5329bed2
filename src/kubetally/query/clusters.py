"""The Clusters overview: per cluster, its cost, idle share, efficiency and how fresh its data is.

Cost, idle and efficiency come from the allocation query (aggregated by cluster, idle split per cluster), so they
are the numbers ``/allocation`` gives; freshness is the end of the cluster's last written hour and, on a fleet,
the time of its last publication. A cluster is *stale* when its last hour ended more than ``stale_after`` ago.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kubetally.query.allocation import Reader, run_allocation
from kubetally.query.params import AllocationQuery
from kubetally.query.shape import clean

IDLE_SUFFIX = "/__idle__"
DEFAULT_STALE_AFTER = timedelta(hours=2)


def _latest(reader: Reader) -> dict[str, datetime]:
    frame = reader.fetch("SELECT cluster, max(hour) + INTERVAL 1 HOUR AS last FROM hour_coverage GROUP BY cluster")
    return {row["cluster"]: row["last"] for row in frame.iter_rows(named=True)}


def overview_query(window: str, now: datetime) -> AllocationQuery:
    """The allocation query behind the overview of ``window``: by cluster, idle split per cluster, one set."""
    return AllocationQuery.from_params(
        {"window": window, "aggregate": "cluster", "includeIdle": "true", "splitIdle": "true", "accumulate": "true"},
        now,
    )


def cluster_overview(
    reader: Reader,
    query: AllocationQuery,
    now: datetime,
    *,
    published: dict[str, datetime] | None = None,
    latest: Reader | None = None,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
) -> list[dict[str, Any]]:
    """One row per cluster with data in the window of ``query`` (:func:`overview_query`), most expensive first.

    Costs are read from ``reader`` (it needs only the window's rows), each cluster's last hour from ``latest``
    (default: ``reader``), which must hold every cluster's newest coverage row."""
    sets = run_allocation(reader, query)
    allocations = sets[0] if sets else {}
    last_hours = _latest(reader if latest is None else latest)
    rows: dict[str, dict[str, Any]] = {}
    for name, allocation in allocations.items():
        cluster = name.removesuffix(IDLE_SUFFIX)
        row = rows.setdefault(cluster, {"cluster": cluster, "allocatedCost": 0.0, "idleCost": 0.0, "efficiency": None})
        if name.endswith(IDLE_SUFFIX):
            row["idleCost"] += allocation["totalCost"]
        else:
            row["allocatedCost"] += allocation["totalCost"]
            row["efficiency"] = allocation.get("totalEfficiency")
    result = []
    for cluster, row in rows.items():
        total = row["allocatedCost"] + row["idleCost"]
        last = last_hours.get(cluster)
        publication = (published or {}).get(cluster)
        result.append(
            {
                **row,
                "totalCost": total,
                "idlePercent": row["idleCost"] / total * 100.0 if total else None,
                "lastHourEnd": None if last is None else last.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "lastPublished": None if publication is None else publication.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "stale": last is None or now - last > stale_after,
            }
        )
    cleaned: list[dict[str, Any]] = clean(sorted(result, key=lambda r: -r["totalCost"]))  # type: ignore[assignment]
    return cleaned
