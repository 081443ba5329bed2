"""OpenCost's custom costs (``/customCost/total`` and ``/customCost/timeseries``) from the ledger's cloud bills.

OpenCost's custom costs are the costs of everything outside the cluster (its plugins' SaaS and cloud services).
kubetally answers them from the FOCUS rows of ``cloud_costs`` that are not Kubernetes nodes or disks: a row whose
``ResourceId`` names a node or disk of the ledger's assets in the query window (the test of ``kubernetesPercent``,
:mod:`kubetally.query.cloud`) is left out, every other row is a custom cost.

Each row's properties are read from FOCUS columns (:data:`CUSTOM_COLUMNS`); its cost follows ``costType`` as in
OpenCost: ``billed`` is ``BilledCost``, ``list`` is ``ListCost``, ``blended`` (the default) is ``BilledCost`` when
positive, else ``ListCost``; rows whose chosen cost is zero are left out. With ``aggregate``, rows with the same
key are one item whose properties are kept where all its rows agree (blank otherwise), whose costs, unit prices
and (for one usage unit) quantities are summed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from kubetally.domain.filter_ast import FieldKind, FieldSet, FieldSpec, Filter
from kubetally.domain.filter_sql import FilterColumns, compile_filter
from kubetally.domain.window import Window, parse_accumulate
from kubetally.errors import InvalidParameter
from kubetally.query.allocation import Reader
from kubetally.query.cloud_fields import resource_key_sql
from kubetally.query.cloud_params import cloud_sets
from kubetally.query.filtering import parse_filter_param
from kubetally.query.params import window_param

CUSTOM_COLUMNS: dict[str, str] = {
    "zone": 'coalesce(nullif(c."AvailabilityZone", \'\'), c."RegionId")',
    "accountName": 'coalesce(c."SubAccountName", c."BillingAccountName")',
    "chargeCategory": 'c."ChargeCategory"',
    "description": 'c."ChargeDescription"',
    "resourceName": 'c."ResourceName"',
    "resourceType": 'c."ResourceType"',
    "providerId": 'c."ResourceId"',
    "usageUnit": 'c."ConsumedUnit"',
    "domain": 'c."ProviderName"',
    "costSource": 'c."ServiceCategory"',
}
"""OpenCost's custom cost properties (its ``aggregate`` and ``filter`` names) and the FOCUS column each reads."""

RESPONSE_FIELDS: dict[str, str] = {
    "zone": "zone",
    "accountName": "account_name",
    "chargeCategory": "charge_category",
    "description": "description",
    "resourceName": "resource_name",
    "resourceType": "resource_type",
    "providerId": "provider_id",
    "usageUnit": "usage_unit",
    "domain": "domain",
    "costSource": "cost_source",
}
"""The JSON name of each property in an OpenCost custom cost."""

CUSTOM_FIELDS = FieldSet("custom cost", tuple(FieldSpec(name, FieldKind.SCALAR) for name in CUSTOM_COLUMNS), {})
"""The filter language v2 fields of custom cost queries."""

_FILTER_COLUMNS = FilterColumns(MappingProxyType(CUSTOM_COLUMNS))
_LOWER = {name.lower(): name for name in CUSTOM_COLUMNS}
UNALLOCATED = "__unallocated__"
_E = TypeVar("_E", bound=StrEnum)


class CostType(StrEnum):
    """OpenCost's ``costType``: which FOCUS cost a custom cost reports."""

    BLENDED = "blended"
    LIST = "list"
    BILLED = "billed"


class SortBy(StrEnum):
    """OpenCost's ``sortBy`` of custom costs."""

    COST = "cost"
    AGGREGATE = "aggregate"
    COST_TYPE = "costType"


def _choice(params: Mapping[str, str], name: str, kind: type[_E], default: _E) -> _E:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    found = next((member for member in kind if member.value.lower() == raw.lower()), None)
    if found is None:
        expected = ", ".join(member.value for member in kind)
        raise InvalidParameter(name, f"invalid value {raw[:40]!r}; expected one of {expected}")
    return found


def parse_custom_aggregate(text: str) -> tuple[str, ...]:
    """The properties of a comma list (case-insensitive); InvalidParameter naming ``aggregate`` otherwise."""
    names: list[str] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        name = _LOWER.get(part.lower())
        if name is None:
            raise InvalidParameter(
                "aggregate", f"unknown property {part[:40]!r}; accepted: {', '.join(CUSTOM_COLUMNS)}"
            )
        names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class CustomCostQuery:
    """One custom cost request: window and its sets (for the timeseries), aggregation, filter, cost and order."""

    window: Window
    sets: tuple[Window, ...]
    aggregate: tuple[str, ...] = ()
    filter: Filter | None = None
    cost_type: CostType = CostType.BLENDED
    sort_by: SortBy = SortBy.COST
    descending: bool = True

    @staticmethod
    def from_params(params: Mapping[str, str], now: datetime) -> CustomCostQuery:
        """Decode OpenCost's custom cost parameters; a bad value raises InvalidParameter naming it."""
        window = window_param(params, now)
        raw_filter = (params.get("filter") or "").strip()
        direction = (params.get("sortDirection") or "desc").strip().lower()
        if direction not in ("asc", "desc"):
            raise InvalidParameter("sortDirection", f"invalid value {direction[:40]!r}; expected asc or desc")
        return CustomCostQuery(
            window=window,
            sets=cloud_sets(window, parse_accumulate(params.get("accumulate"), "accumulate"), "accumulate"),
            aggregate=parse_custom_aggregate(params.get("aggregate") or ""),
            filter=parse_filter_param(raw_filter, "filter", CUSTOM_FIELDS) if raw_filter else None,
            cost_type=_choice(params, "costType", CostType, CostType.BLENDED),
            sort_by=_choice(params, "sortBy", SortBy, SortBy.COST),
            descending=direction == "desc",
        )


def _cost_sql(cost_type: CostType) -> tuple[str, str]:
    """The chosen cost of a row and its cost type, as SQL."""
    billed, listed = 'coalesce(c."BilledCost", 0)', 'coalesce(c."ListCost", 0)'
    if cost_type is CostType.BILLED:
        return billed, "'billed'"
    if cost_type is CostType.LIST:
        return listed, "'list'"
    return (
        f"CASE WHEN {billed} > 0 THEN {billed} ELSE {listed} END",
        f"CASE WHEN {billed} > 0 THEN 'billed' ELSE 'list' END",
    )


def _common(expression: str) -> str:
    """The value of ``expression`` when every row of the group has the same one, else ``''``."""
    value = f"coalesce({expression}, '')"
    return f"CASE WHEN count(DISTINCT {value}) = 1 THEN any_value({value}) ELSE '' END"


def _items_sql(query: CustomCostQuery, window: Window) -> tuple[str, list[object]]:
    cost, cost_type = _cost_sql(query.cost_type)
    where = 'k.resource_key IS NULL AND c."ChargePeriodStart" >= ? AND c."ChargePeriodStart" < ?'
    params: list[object] = [query.window.start, query.window.end, window.start, window.end]
    if query.filter is not None:
        fragment = compile_filter(query.filter, _FILTER_COLUMNS)
        where += f" AND ({fragment.sql})"
        params.extend(fragment.params)
    parts = [f"coalesce(nullif({CUSTOM_COLUMNS[name]}, ''), '{UNALLOCATED}')" for name in query.aggregate]
    group = "concat_ws('/', " + ", ".join(parts) + ")" if parts else "CAST(row_number() OVER () AS VARCHAR)"
    resource_key = resource_key_sql('c."ResourceId"')
    item_id = _common('c."ResourceId"')
    aggregate = "kt_group" if parts else "''"
    rows = (
        f"SELECT c.*, {cost} AS kt_cost, {cost_type} AS kt_cost_type, {group} AS kt_group "
        f"FROM cloud_costs c LEFT JOIN kt_k8s k ON k.resource_key = {resource_key} "
        f"WHERE {where}"
    )
    properties = ", ".join(f'{_common(CUSTOM_COLUMNS[name])} AS "{name}"' for name in CUSTOM_COLUMNS)
    order = {SortBy.COST: "cost", SortBy.AGGREGATE: "aggregate", SortBy.COST_TYPE: "cost_type"}[query.sort_by]
    direction = "DESC" if query.descending else "ASC"
    sql = (
        f"WITH kt_k8s AS (SELECT DISTINCT {resource_key_sql('provider_id')} AS resource_key FROM assets "
        "WHERE type IN ('Node', 'Disk') AND hour >= ? AND hour < ? AND provider_id IS NOT NULL), "
        f"kt_rows AS ({rows}) "
        f"SELECT {aggregate} AS aggregate, sum(kt_cost) AS cost, "
        "CASE WHEN count(DISTINCT kt_cost_type) = 1 THEN any_value(kt_cost_type) ELSE 'blended' END AS cost_type, "
        f'{item_id} AS id, coalesce(sum("ListUnitPrice"), 0) AS list_unit_price, '
        'CASE WHEN count(DISTINCT coalesce("ConsumedUnit", \'\')) = 1 THEN coalesce(sum("ConsumedQuantity"), 0) '
        f"ELSE 0 END AS usage_quantity, {properties} "
        f"FROM kt_rows c WHERE kt_cost <> 0 GROUP BY kt_group ORDER BY {order} {direction}, aggregate, id"
    )
    return sql, params


def custom_cost_total(reader: Reader, query: CustomCostQuery, window: Window | None = None) -> dict[str, Any]:
    """OpenCost's ``CostResponse`` over ``window`` (the query's by default): ``window``, ``totalCost``,
    ``totalCostType`` and ``customCosts``, sorted as asked."""
    span = window or query.window
    sql, params = _items_sql(query, span)
    costs: list[dict[str, Any]] = []
    for row in reader.fetch(sql, params).iter_rows(named=True):
        item = {"id": row["id"], **{RESPONSE_FIELDS[name]: row[name] for name in CUSTOM_COLUMNS}}
        item.update(
            cost=float(row["cost"]),
            list_unit_price=float(row["list_unit_price"]),
            usage_quantity=float(row["usage_quantity"]),
            aggregate=row["aggregate"],
            cost_type=row["cost_type"],
        )
        costs.append(item)
    return {
        "window": span.to_json(),
        "totalCost": sum(item["cost"] for item in costs),
        "totalCostType": query.cost_type.value,
        "customCosts": costs,
    }


def custom_cost_timeseries(reader: Reader, query: CustomCostQuery) -> dict[str, Any]:
    """OpenCost's ``CostTimeseriesResponse``: the window and one ``CostResponse`` per set (a day by default)."""
    return {
        "window": query.window.to_json(),
        "timeseries": [custom_cost_total(reader, query, window) for window in query.sets],
    }


__all__ = [
    "CUSTOM_COLUMNS",
    "CostType",
    "CustomCostQuery",
    "SortBy",
    "custom_cost_timeseries",
    "custom_cost_total",
    "parse_custom_aggregate",
]
