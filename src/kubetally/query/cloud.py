"""Cloud bill costs from the ledger's ``cloud_costs`` table (FOCUS rows), aggregated, filtered and split in sets.

A row belongs to the set whose window holds its ``ChargePeriodStart`` (rows are not pro-rated across sets). Filters
use the filter language v2 over :data:`~kubetally.query.cloud_fields.CLOUD_FIELDS`; an unknown field is refused
(never dropped), so a filtered answer is always what it says.

``kubernetesPercent`` is the share of a cost whose ``ResourceId`` names a node or disk of the ledger's assets in the
query window, both sides normalised by :func:`kubetally.domain.provider_ids.resource_key` (computed in DuckDB by
:func:`~kubetally.query.cloud_fields.resource_key_sql`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from kubetally.domain.filter_parser import parse
from kubetally.domain.filter_sql import compile_filter
from kubetally.domain.names import label_lookup_keys
from kubetally.domain.window import Window
from kubetally.query.allocation import Reader
from kubetally.query.cloud_fields import (
    CLOUD_COLUMNS,
    CLOUD_FIELDS,
    FILTER_COLUMNS,
    PROPERTY_FIELDS,
    resource_key_sql,
)
from kubetally.query.cloud_params import CloudCostQuery, CloudKey, CostMetric, parse_cloud_aggregate

EMPTY_NOTE = (
    "no cloud bill rows are in the ledger for this window: cloud costs appear once FOCUS bills are ingested "
    "(kubetally focus ingest, or the Krateo pipeline: see docs/focus-ingest.md); Kubernetes costs are answered by "
    "get_allocation_costs and get_asset_costs"
)

UNALLOCATED = "__unallocated__"
"""The key part of an item without a value for an aggregation property (OpenCost's name)."""

FOCUS_COSTS: dict[str, str] = {"list_cost": "ListCost", "billed_cost": "BilledCost", "effective_cost": "EffectiveCost"}
"""Summed cost columns of a group, by the FOCUS column they sum."""

_METRIC_SUMS: dict[CostMetric, str] = {
    metric: next(alias for alias, column in FOCUS_COSTS.items() if column == metric.focus_column)
    for metric in CostMetric
}


def _label_sql(label: str) -> tuple[str, tuple[object, ...]]:
    """SQL reading tag ``label`` (as written, then Prometheus-sanitised) and its parameters."""
    keys = label_lookup_keys(label)
    return "coalesce(" + ", ".join('c."Tags"[?]' for _ in keys) + ")", tuple(keys)


def _key_sql(keys: tuple[CloudKey, ...]) -> tuple[str, tuple[object, ...]]:
    """The item-name expression: the keys' values joined by ``/``, a missing value as ``__unallocated__``."""
    parts: list[str] = []
    params: list[object] = []
    for key in keys:
        if key.label is not None:
            expression, label_params = _label_sql(key.label)
            params.extend(label_params)
        else:
            expression = CLOUD_COLUMNS[key.field or key.name]
        parts.append(f"coalesce(nullif({expression}, ''), '{UNALLOCATED}')")
    return "concat_ws('/', " + ", ".join(parts) + ")", tuple(params)


def _rows_sql(query: CloudCostQuery) -> tuple[str, list[object]]:
    """``WITH`` clauses ending in ``kt_rows``: each matching bill row with its set index, item name and whether
    it is a Kubernetes node or disk."""
    name_sql, name_params = _key_sql(query.aggregate)
    where = 'c."ChargePeriodStart" >= ? AND c."ChargePeriodStart" < ?'
    where_params: list[object] = [query.window.start, query.window.end]
    if query.filter is not None:
        fragment = compile_filter(query.filter, FILTER_COLUMNS)
        where += f" AND ({fragment.sql})"
        where_params.extend(fragment.params)
    resource_key = resource_key_sql('c."ResourceId"')
    sql = (
        "WITH kt_sets AS (SELECT unnest(?::TIMESTAMPTZ[]) AS set_start, unnest(?::TIMESTAMPTZ[]) AS set_end, "
        "unnest(range(?)) AS set_index), "
        f"kt_k8s AS (SELECT DISTINCT {resource_key_sql('provider_id')} AS resource_key FROM assets "
        "WHERE type IN ('Node', 'Disk') AND hour >= ? AND hour < ? AND provider_id IS NOT NULL), "
        f"kt_rows AS (SELECT s.set_index, {name_sql} AS name, c.*, k.resource_key IS NOT NULL AS kubernetes "
        'FROM cloud_costs c JOIN kt_sets s ON c."ChargePeriodStart" >= s.set_start '
        'AND c."ChargePeriodStart" < s.set_end '
        f"LEFT JOIN kt_k8s k ON k.resource_key = {resource_key} WHERE {where}) "
    )
    params: list[object] = [
        [w.start for w in query.sets],
        [w.end for w in query.sets],
        len(query.sets),
        query.window.start,
        query.window.end,
        *name_params,
        *where_params,
    ]
    return sql, params


def _common(expression: str) -> str:
    """The value of ``expression`` when every row of the group has the same non-empty one, else NULL."""
    value = f"coalesce({expression}, '')"
    return f"CASE WHEN count(DISTINCT {value}) = 1 THEN nullif(any_value({value}), '') END"


def cloud_cost_groups(reader: Reader, query: CloudCostQuery) -> pl.DataFrame:
    """One row per set and item: ``set_index, name, row_count, start, end``, the summed FOCUS costs
    (``list_cost, billed_cost, effective_cost``) and their Kubernetes parts (``*_k8s``), the properties common to
    the item's rows (:data:`~kubetally.query.cloud_fields.PROPERTY_FIELDS`) and ``currency``; by set, then name."""
    rows_sql, params = _rows_sql(query)
    sums = ", ".join(
        f'coalesce(sum("{column}"), 0) AS {alias}, '
        f'coalesce(sum("{column}") FILTER (WHERE kubernetes), 0) AS {alias}_k8s'
        for alias, column in FOCUS_COSTS.items()
    )
    properties = ", ".join(f'{_common(CLOUD_COLUMNS[name])} AS "{name}"' for name in PROPERTY_FIELDS)
    sql = (
        f'{rows_sql}SELECT set_index, name, count(*) AS row_count, min("ChargePeriodStart") AS start, '
        f'max("ChargePeriodEnd") AS "end", {sums}, {properties}, '
        "coalesce(any_value(\"BillingCurrency\"), '') AS currency "
        "FROM kt_rows c GROUP BY set_index, name ORDER BY set_index, name"
    )
    return reader.fetch(sql, params)


def cloud_cost_labels(reader: Reader, query: CloudCostQuery) -> pl.DataFrame:
    """``set_index, name, key, value``: the tags every row of an item carries with the same value."""
    rows_sql, params = _rows_sql(query)
    sql = (
        f"{rows_sql}, kt_counts AS (SELECT set_index, name, count(*) AS rows FROM kt_rows GROUP BY ALL), "
        'kt_tags AS (SELECT set_index, name, unnest(map_keys("Tags")) AS key, unnest(map_values("Tags")) AS value '
        'FROM kt_rows WHERE "Tags" IS NOT NULL) '
        "SELECT t.set_index, t.name, t.key, t.value FROM kt_tags t JOIN kt_counts n USING (set_index, name) "
        "GROUP BY t.set_index, t.name, t.key, t.value, n.rows HAVING count(*) = n.rows ORDER BY 1, 2, 3"
    )
    return reader.fetch(sql, params)


def _metric(total: float, kubernetes: float) -> dict[str, float]:
    return {"cost": round(total, 5), "kubernetesPercent": round(kubernetes / total, 5) if total else 0.0}


def _iso(value: Any) -> str:
    return str(value.strftime("%Y-%m-%dT%H:%M:%SZ"))


def cloud_cost_items(groups: pl.DataFrame, labels: pl.DataFrame) -> list[dict[str, dict[str, Any]]]:
    """OpenCost cloud cost items (``properties, window`` and the five metrics) per set index, keyed by name."""
    by_group: dict[tuple[int, str], dict[str, str]] = {}
    for row in labels.iter_rows(named=True):
        by_group.setdefault((row["set_index"], row["name"]), {})[row["key"]] = row["value"]
    sets: dict[int, dict[str, dict[str, Any]]] = {}
    for row in groups.iter_rows(named=True):
        properties: dict[str, Any] = {name: row[name] for name in PROPERTY_FIELDS if row[name] is not None}
        properties["labels"] = by_group.get((row["set_index"], row["name"]), {})
        item: dict[str, Any] = {
            "properties": properties,
            "window": {"start": _iso(row["start"]), "end": _iso(row["end"])},
        }
        for metric in CostMetric:
            alias = _METRIC_SUMS[metric]
            item[metric.value] = _metric(row[alias], row[f"{alias}_k8s"])
        sets.setdefault(row["set_index"], {})[row["name"]] = item
    return [sets.get(index, {}) for index in range(max(sets, default=-1) + 1)]


def cloud_cost_range(reader: Reader, query: CloudCostQuery) -> dict[str, Any]:
    """OpenCost's ``/cloudCost`` data: ``{"sets": [{"cloudCosts", "window", "aggregationProperties"}], "window"}``."""
    items = cloud_cost_items(cloud_cost_groups(reader, query), cloud_cost_labels(reader, query))
    return {
        "sets": [
            {
                "cloudCosts": items[index] if index < len(items) else {},
                "window": set_window.to_json(),
                "aggregationProperties": query.aggregation_properties,
            }
            for index, set_window in enumerate(query.sets)
        ],
        "window": query.window.to_json(),
    }


def cloud_cost_frame(reader: Reader, window: Window, aggregate: str, filter_text: str) -> pl.DataFrame:
    """``name, billed_cost, effective_cost, list_cost, currency`` per aggregate value, largest billed cost first.

    Without an aggregate, one row named ``total``. InvalidParameter / InvalidFilter for unknown fields.
    """
    keys = parse_cloud_aggregate(aggregate) if aggregate.strip() else ()
    name_sql, name_params = _key_sql(keys) if keys else ("'total'", ())
    where = 'c."ChargePeriodStart" >= ? AND c."ChargePeriodStart" < ?'
    params: list[object] = [*name_params, window.start, window.end]
    if filter_text.strip():
        fragment = compile_filter(parse(filter_text, CLOUD_FIELDS), FILTER_COLUMNS)
        where += f" AND ({fragment.sql})"
        params.extend(fragment.params)
    sql = (
        f'SELECT {name_sql} AS name, sum(c."BilledCost") AS billed_cost, sum(c."EffectiveCost") AS effective_cost, '
        f'sum(c."ListCost") AS list_cost, coalesce(any_value(c."BillingCurrency"), \'\') AS currency '
        f"FROM cloud_costs c WHERE {where} GROUP BY 1 HAVING count(*) > 0 ORDER BY billed_cost DESC, name"
    )
    return reader.fetch(sql, params)


__all__ = [
    "CLOUD_COLUMNS",
    "CLOUD_FIELDS",
    "EMPTY_NOTE",
    "UNALLOCATED",
    "cloud_cost_frame",
    "cloud_cost_groups",
    "cloud_cost_items",
    "cloud_cost_labels",
    "cloud_cost_range",
]
