"""OpenCost's cloud cost views (``/cloudCost/view/graph|totals|table``) and ``/cloudCost/status``.

The views read one cost metric (``costMetric``) of the items of :func:`kubetally.query.cloud.cloud_cost_groups`:
the graph per set, the totals and the table over the whole window.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

import polars as pl

from kubetally.query.allocation import Reader
from kubetally.query.cloud import FOCUS_COSTS, cloud_cost_groups, cloud_cost_items, cloud_cost_labels
from kubetally.query.cloud_params import CloudCostQuery, SortField

CHART_ITEMS = 10
"""Items per graph set: the largest ``CHART_ITEMS - 1`` and ``Other`` holding the rest (OpenCost's default)."""

OTHER = "Other"


def _metric_columns(query: CloudCostQuery) -> tuple[str, str]:
    alias = next(alias for alias, column in FOCUS_COSTS.items() if column == query.cost_metric.focus_column)
    return alias, f"{alias}_k8s"


def _whole(query: CloudCostQuery) -> CloudCostQuery:
    """``query`` with one set covering its whole window."""
    return replace(query, sets=(query.window,))


def _percent(cost: pl.Expr, kubernetes: pl.Expr) -> pl.Expr:
    return pl.when(cost != 0).then(kubernetes / cost).otherwise(0.0).round(5)


def view_graph(reader: Reader, query: CloudCostQuery) -> list[dict[str, Any]]:
    """Per set ``{"start", "end", "items": [{"name", "value"}]}``, largest first, at most :data:`CHART_ITEMS`
    items (the last one ``Other`` when there are more); ``[]`` when no bill row matches."""
    cost, _ = _metric_columns(query)
    groups = cloud_cost_groups(reader, query)
    if groups.is_empty():
        return []
    sets = []
    for index, window in enumerate(query.sets):
        rows = groups.filter(pl.col("set_index") == index).sort([cost, "name"], descending=[True, False])
        items = [{"name": name, "value": round(value, 5)} for name, value in zip(rows["name"], rows[cost], strict=True)]
        if len(items) > CHART_ITEMS:
            rest = sum(item["value"] for item in items[CHART_ITEMS - 1 :])
            items = [*items[: CHART_ITEMS - 1], {"name": OTHER, "value": round(rest, 5)}]
        sets.append({**window.to_json(), "items": items})
    return sets


def view_totals(reader: Reader, query: CloudCostQuery) -> dict[str, Any] | None:
    """``{"numResults", "combined": {"name": "Totals", "labels", "kubernetesPercent", "cost"}}`` over the window;
    ``None`` when no bill row matches (OpenCost answers ``null``)."""
    items = cloud_cost_groups(reader, _whole(query))
    if items.is_empty():
        return None
    cost_column, kubernetes_column = _metric_columns(query)
    cost, kubernetes = float(items[cost_column].sum()), float(items[kubernetes_column].sum())
    return {
        "numResults": items.height,
        "combined": {
            "name": "Totals",
            "labels": None,
            "kubernetesPercent": round(kubernetes / cost, 5) if cost else 0.0,
            "cost": round(cost, 5),
        },
    }


def view_table(reader: Reader, query: CloudCostQuery) -> list[dict[str, Any]]:
    """One row ``{"name", "labels", "kubernetesPercent", "cost"}`` per item over the window, sorted by
    ``sortBy``/``sortByOrder`` (name as the tie-break), then ``offset`` and ``limit`` applied."""
    whole = _whole(query)
    groups = cloud_cost_groups(reader, whole)
    if groups.is_empty():
        return []
    cost, kubernetes = _metric_columns(query)
    items = cloud_cost_items(groups, cloud_cost_labels(reader, whole))[0]
    rows = groups.select(
        "name",
        pl.col(cost).round(5).alias("cost"),
        _percent(pl.col(cost), pl.col(kubernetes)).alias("kubernetesPercent"),
    )
    column = {SortField.NAME: "name", SortField.COST: "cost", SortField.KUBERNETES_PERCENT: "kubernetesPercent"}
    rows = rows.sort([column[query.sort_by], "name"], descending=[query.descending, False])
    rows = rows.slice(query.offset, query.limit or None)
    return [
        {
            "name": row["name"],
            "labels": items[row["name"]]["properties"]["labels"],
            "kubernetesPercent": row["kubernetesPercent"],
            "cost": row["cost"],
        }
        for row in rows.iter_rows(named=True)
    ]


def table_csv(rows: list[dict[str, Any]], query: CloudCostQuery) -> str:
    """The table view as OpenCost's CSV: ``Name, K8s Utilization, Total, Window``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Name", "K8s Utilization", "Total", "Window"])
    for row in rows:
        writer.writerow([row["name"], f"{row['kubernetesPercent']:.3f}", f"{row['cost']:.3f}", str(query.window)])
    return out.getvalue()


def cloud_status(reader: Reader) -> list[dict[str, Any]]:
    """Per bill source (the ``source`` column): ``source, providers, rows``, the first charge period start, the
    last charge period end and ``lastIngest`` (when rows of that source were last written, from ``cloud_sources``)."""
    frame = reader.fetch(
        'SELECT c.source AS source, list(DISTINCT c."ProviderName" ORDER BY c."ProviderName") '
        'FILTER (WHERE c."ProviderName" IS NOT NULL) AS providers, count(*) AS row_count, '
        'min(c."ChargePeriodStart") AS first_start, max(c."ChargePeriodEnd") AS last_end, '
        "(SELECT max(s.last_ingest) FROM cloud_sources s WHERE s.source = c.source AND s.table_name = 'cloud_costs') "
        "AS last_ingest "
        "FROM cloud_costs c GROUP BY c.source ORDER BY c.source"
    )
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return [
        {
            "key": row["source"],
            "source": row["source"],
            "providers": row["providers"] or [],
            "rows": row["row_count"],
            "firstChargePeriodStart": row["first_start"].strftime(iso),
            "lastChargePeriodEnd": row["last_end"].strftime(iso),
            "lastIngest": None if row["last_ingest"] is None else row["last_ingest"].strftime(iso),
        }
        for row in frame.iter_rows(named=True)
    ]


__all__ = ["CHART_ITEMS", "OTHER", "cloud_status", "table_csv", "view_graph", "view_table", "view_totals"]
