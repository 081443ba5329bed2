"""Kubecost's legacy endpoints ``/model/costDataModel`` and ``/model/aggregatedCostModel`` (opencost-compat §6).

``aggregatedCostModel`` is an allocation query under other parameter names: its parameters are translated into
``AllocationQuery`` parameters (:data:`AGGREGATED_PARAMETERS`), run through the same idle and sharing steps as
``/allocation``, and its fields are taken from the resulting allocations. The one difference in the steps: idle
(``allocateIdle``) is always spread in proportion to cost, while ``sharedSplit`` (default ``even``, as Kubecost)
divides only the shared namespaces and labels.

``costDataModel`` lists every container with its node's prices and hourly series of requests, usage and
allocation (``max(request, usage)``), read from the ledger in one query per table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import polars as pl

from kubetally.domain.names import DAEMONSET, DEPLOYMENT, JOB, STATEFULSET
from kubetally.domain.window import Window, parse_duration
from kubetally.errors import InvalidAggregate, InvalidFilter, InvalidParameter, InvalidWindow
from kubetally.query.allocation import Reader, group_spec, grouped_frame
from kubetally.query.allocation_shape import allocation_sets
from kubetally.query.params import AllocationQuery, ShareSplit, SplitMethod, parse_bool
from kubetally.query.scope import Scope
from kubetally.query.shape import clean, map_to_dict
from kubetally.query.sql import Sql

T = TypeVar("T")

AGGREGATED_PARAMETERS: dict[str, str] = {
    "window": "window",
    "aggregate": "aggregation",
    "shareNamespaces": "sharedNamespaces",
    "shareLabels": "sharedLabelNames",
    "shareSplit": "sharedSplit",
}
"""AllocationQuery parameter → the aggregatedCostModel parameter it comes from (errors name the latter)."""

MAP_AGGREGATIONS = ("label", "annotation")
"""Aggregations that need ``aggregationSubfield`` (the label or annotation name)."""

COST_DATA_FIELDS: tuple[str, ...] = (
    "name",
    "podName",
    "nodeName",
    "namespace",
    "clusterId",
    "node",
    "deployments",
    "daemonsets",
    "statefulsets",
    "jobs",
    "services",
    "labels",
    "namespaceLabels",
    "cpureq",
    "cpuused",
    "cpuallocated",
    "ramreq",
    "ramused",
    "ramallocated",
    "gpureq",
    "pvcData",
)
"""The fields of one costDataModel entry; ``filterFields`` may name any of them (case-insensitive)."""

SERIES: dict[str, str] = {
    "cpureq": "a.cpu_core_request_average",
    "cpuused": "a.cpu_core_usage_average",
    "cpuallocated": "greatest(coalesce(a.cpu_core_request_average, 0), coalesce(a.cpu_core_usage_average, 0))",
    "ramreq": "a.ram_byte_request_average",
    "ramused": "a.ram_byte_usage_average",
    "ramallocated": "greatest(coalesce(a.ram_byte_request_average, 0), coalesce(a.ram_byte_usage_average, 0))",
    "gpureq": "a.gpu_request_average",
}
"""Hourly series of costDataModel: field → SQL value per container-hour (averages over the running time)."""

CONTROLLER_LISTS: dict[str, str] = {
    "deployments": DEPLOYMENT,
    "daemonsets": DAEMONSET,
    "statefulsets": STATEFULSET,
    "jobs": JOB,
}
"""costDataModel controller lists and the controller kind each holds."""


def _renamed(call: Callable[[], T], names: Mapping[str, str]) -> T:
    """``call()``, with an InvalidParameter about an AllocationQuery parameter re-raised under its legacy name."""
    try:
        return call()
    except InvalidParameter as exc:
        legacy = names.get(exc.parameter)
        if legacy is None or legacy == exc.parameter:
            raise
        reason = exc.message.removeprefix(f"{exc.parameter}: ")
        error: InvalidParameter = InvalidParameter(legacy, reason)
        if isinstance(exc, InvalidWindow | InvalidFilter | InvalidAggregate):
            error = type(exc)(reason, legacy)
        raise error from exc


def shifted_now(params: Mapping[str, str], now: datetime, window_parameter: str) -> datetime:
    """The time a relative window ends at: ``now`` moved back by ``offset`` (``7d``, ``12h``, ``30m``, ``90s``).

    An absolute window (``start,end``) cannot be shifted: ``offset`` with one is refused.
    """
    raw = (params.get("offset") or "").strip()
    if not raw:
        return now
    offset = parse_duration(raw, "offset")
    if "," in (params.get(window_parameter) or ""):
        raise InvalidParameter("offset", f"only shifts a relative {window_parameter} (e.g. 7d), not start,end")
    try:
        return now - offset
    except OverflowError:
        raise InvalidParameter("offset", f"{raw!r} reaches before the supported range of dates") from None


# aggregatedCostModel


@dataclass(frozen=True)
class AggregatedCostQuery:
    """One aggregatedCostModel request: the allocation query it translates to and the legacy labels."""

    allocation: AllocationQuery
    aggregation: str
    subfields: str
    disable_cache: bool = False
    """Accepted for compatibility; kubetally's cache never serves a stale answer."""

    @staticmethod
    def from_params(params: Mapping[str, str], now: datetime) -> AggregatedCostQuery:
        """Decode aggregatedCostModel parameters; a bad value raises InvalidParameter naming the legacy parameter."""
        aggregation = (params.get("aggregation") or "").strip()
        if not aggregation:
            raise InvalidParameter(
                "aggregation", "missing; e.g. aggregation=namespace, or aggregation=label&aggregationSubfield=app"
            )
        subfields = (params.get("aggregationSubfield") or "").strip()
        translated = {
            "window": params.get("window") or "",
            "aggregate": _aggregate(aggregation, subfields),
            "shareIdle": "true" if parse_bool(params, "allocateIdle", False) else "false",
            "includeIdle": "false",
            "shareNamespaces": params.get("sharedNamespaces") or "",
            "shareLabels": _shared_labels(params),
            "shareSplit": (params.get("sharedSplit") or "").strip() or "even",
        }
        if translated["shareSplit"].lower().startswith("metric"):
            raise InvalidParameter("sharedSplit", f"invalid value {params['sharedSplit']!r}; expected even or weighted")
        moved = shifted_now(params, now, "window")
        query = _renamed(lambda: AllocationQuery.from_params(translated, moved), AGGREGATED_PARAMETERS)
        return AggregatedCostQuery(
            allocation=query,
            aggregation=aggregation,
            subfields=subfields,
            disable_cache=parse_bool(params, "disableCache", False),
        )


def _aggregate(aggregation: str, subfields: str) -> str:
    """The ``aggregate`` of ``aggregation`` (comma list): ``label`` / ``annotation`` become one key per subfield."""
    keys: list[str] = []
    names = [part.strip() for part in subfields.split(",") if part.strip()]
    for part in (p.strip() for p in aggregation.split(",")):
        if part.lower() in MAP_AGGREGATIONS:
            if not names:
                raise InvalidParameter(
                    "aggregationSubfield", f"aggregation={part} needs the {part} name, e.g. aggregationSubfield=app"
                )
            keys.extend(f"{part.lower()}:{name}" for name in names)
        else:
            keys.append(part)
    if names and not any(part.strip().lower() in MAP_AGGREGATIONS for part in aggregation.split(",")):
        raise InvalidParameter("aggregationSubfield", "is only used with aggregation=label or aggregation=annotation")
    return ",".join(keys)


def _shared_labels(params: Mapping[str, str]) -> str:
    """``sharedLabelNames`` and ``sharedLabelValues`` paired into ``shareLabels`` (``name:value,...``)."""
    names = [part.strip() for part in (params.get("sharedLabelNames") or "").split(",") if part.strip()]
    values = [part.strip() for part in (params.get("sharedLabelValues") or "").split(",") if part.strip()]
    if len(names) != len(values):
        raise InvalidParameter(
            "sharedLabelNames",
            f"sharedLabelNames has {len(names)} names but sharedLabelValues has {len(values)} values; "
            "they must have the same length (name i pairs with value i)",
        )
    return ",".join(f"{name}:{value}" for name, value in zip(names, values, strict=True))


def _legacy_frame(ledger: Reader, query: AllocationQuery) -> pl.DataFrame:
    """The allocation steps of ``run_allocation`` (filter included) with idle spread by cost and shares split by
    ``sharedSplit``."""
    split = ShareSplit(SplitMethod.WEIGHTED) if query.scope is None else query.share_split
    return grouped_frame(ledger, query, group_spec(query), idle_split=split)


def run_aggregated_cost(ledger: Reader, query: AggregatedCostQuery) -> dict[str, dict[str, Any]]:
    """The ``data`` of aggregatedCostModel: one entry per aggregate name, with Kubecost's legacy fields.

    ``cpuCost``/``ramCost``/``gpuCost`` are charged costs (cost plus adjustment, plus received idle), so that
    ``totalCost`` equals the ``/allocation`` total of the same aggregate.
    """
    allocation = query.allocation
    frame = _legacy_frame(ledger, allocation)
    clusters = {
        row["name"]: ",".join(row["cluster"])
        for row in frame.group_by("name").agg(pl.col("cluster").drop_nulls().unique().sort()).iter_rows(named=True)
    }
    keys = group_spec(allocation).keys
    allocations = allocation_sets(frame, allocation, keys, unaggregated=False, pvs={}, lbs={})[0]
    result: dict[str, dict[str, Any]] = {}
    for name, item in allocations.items():
        entry = {
            "aggregation": query.aggregation,
            "subfields": query.subfields,
            "environment": name,
            "cluster": clusters.get(name, ""),
            "cpuCost": (item["cpuCost"] or 0.0) + (item["cpuCostAdjustment"] or 0.0),
            "gpuCost": (item["gpuCost"] or 0.0) + (item["gpuCostAdjustment"] or 0.0),
            "ramCost": (item["ramCost"] or 0.0) + (item["ramCostAdjustment"] or 0.0),
            "pvCost": (item["pvCost"] or 0.0) + (item["pvCostAdjustment"] or 0.0),
            "networkCost": item["networkCost"],
            "loadBalancerCost": item["loadBalancerCost"],
            "sharedCost": item["sharedCost"],
            "totalCost": item["totalCost"],
            "cpuEfficiency": item["cpuEfficiency"],
            "ramEfficiency": item["ramEfficiency"],
            "efficiency": item["totalEfficiency"],
        }
        result[name] = {key: clean(value) for key, value in entry.items()}
    return result


# costDataModel


@dataclass(frozen=True)
class CostDataQuery:
    """One costDataModel request: the window, an optional namespace filter and the fields left out."""

    window: Window
    namespaces: tuple[str, ...] = ()
    excluded: frozenset[str] = frozenset()
    scope: Scope | None = None
    """An identity's scope: only its clusters and namespaces are listed (on top of ``namespaces``)."""

    @staticmethod
    def from_params(params: Mapping[str, str], now: datetime) -> CostDataQuery:
        """Decode costDataModel parameters (``timeWindow``, ``offset``, ``namespace``, ``filterFields``)."""
        if not (params.get("timeWindow") or "").strip():
            raise InvalidParameter("timeWindow", "missing; e.g. timeWindow=7d (units d, h, m) or start,end")
        moved = shifted_now(params, now, "timeWindow")
        translated = {"window": params["timeWindow"]}
        query = _renamed(lambda: AllocationQuery.from_params(translated, moved), {"window": "timeWindow"})
        namespaces = tuple(part.strip() for part in (params.get("namespace") or "").split(",") if part.strip())
        return CostDataQuery(query.window, namespaces, _excluded(params.get("filterFields") or ""))


def _excluded(text: str) -> frozenset[str]:
    known = {name.lower(): name for name in COST_DATA_FIELDS}
    excluded = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.lower() not in known:
            raise InvalidParameter("filterFields", f"unknown field {part!r}; accepted: {', '.join(COST_DATA_FIELDS)}")
        excluded.add(known[part.lower()])
    return frozenset(excluded)


def cost_data_sql(query: CostDataQuery) -> Sql:
    """Per container (key ``namespace,pod,container,node,cluster``): hourly series, pod properties and PVCs."""
    series = ", ".join(
        f"list({{'timestamp': CAST(epoch(a.hour) AS BIGINT), 'value': {value}}} ORDER BY a.hour) AS {name}"
        for name, value in SERIES.items()
    )
    sql = Sql().add(f"WITH c AS (SELECT a.cluster, a.pod_uid, a.namespace, a.pod, a.container, a.node, {series} ")
    sql.add("FROM allocations a WHERE a.kind = 'workload' AND a.hour >= ? AND a.hour < ?", *_span(query.window))
    limits: list[tuple[str, tuple[str, ...]]] = [("namespace", query.namespaces)]
    if query.scope is not None:
        limits += [
            (column, tuple(sorted(values)) or ("",))
            for column, values in (("namespace", query.scope.namespaces), ("cluster", query.scope.clusters))
            if values is not None
        ]
    for column, values in limits:
        if values:
            sql.add(f" AND a.{column} IN (" + ", ".join("?" for _ in values) + ")", *values)
    sql.add(" GROUP BY ALL), d AS (SELECT cluster, name, any_value(storage_class) AS storage_class, ")
    sql.add("any_value(claim) AS claim, any_value(claim_namespace) AS claim_namespace FROM assets ")
    sql.add("WHERE type = 'Disk' AND hour >= ? AND hour < ? GROUP BY ALL), ", *_span(query.window))
    sql.add("v AS (SELECT v.cluster, v.pod_uid, v.container, list({'class': d.storage_class, 'claim': d.claim, ")
    sql.add("'namespace': d.claim_namespace, 'volumeName': v.pv, 'clusterId': v.cluster, 'providerID': v.provider_id, ")
    sql.add("'byteHours': v.byte_hours, 'cost': v.cost} ORDER BY v.pv) AS pvc FROM (SELECT cluster, pod_uid, ")
    sql.add("container, pv, any_value(provider_id) AS provider_id, sum(pv_byte_hours) AS byte_hours, ")
    sql.add("sum(pv_cost) AS cost FROM allocation_pvs WHERE kind = 'workload' AND hour >= ? AND hour < ? ")
    sql.add(
        "GROUP BY ALL) v LEFT JOIN d ON d.cluster = v.cluster AND d.name = v.pv GROUP BY ALL) ", *_span(query.window)
    )
    merged = ", ".join(f"list_sort(flatten(list(c.{name}))) AS {name}" for name in SERIES)
    sql.add(f"SELECT c.cluster, c.namespace, c.pod, c.container, c.node, {merged}, ")
    sql.add("flatten(list(v.pvc) FILTER (WHERE v.pvc IS NOT NULL)) AS pvc, ")
    sql.add("any_value(p.controller_kind) AS controller_kind, any_value(p.controller) AS controller, ")
    sql.add("any_value(p.services) AS services, any_value(p.labels) AS labels, ")
    sql.add("any_value(p.namespace_labels) AS namespace_labels FROM c ")
    sql.add("LEFT JOIN pods p ON p.cluster = c.cluster AND p.pod_uid = c.pod_uid ")
    sql.add("LEFT JOIN v ON v.cluster = c.cluster AND v.pod_uid = c.pod_uid AND v.container = c.container ")
    return sql.add("GROUP BY c.cluster, c.namespace, c.pod, c.container, c.node ORDER BY ALL")


def node_sql(window: Window) -> Sql:
    """Per node of the window: type, region, capacity and the prices its cost was computed with."""
    return Sql().add(
        "SELECT cluster, name, any_value(node_type) AS node_type, any_value(region) AS region, "
        "any_value(provider_id) AS provider_id, bool_or(coalesce(preemptible, false)) AS preemptible, "
        "max(cpu_cores) AS cpu_cores, max(ram_bytes) AS ram_bytes, max(gpu_count) AS gpu_count, "
        "sum(total_cost) / nullif(sum(minutes) / 60, 0) AS hourly_cost, "
        "sum(cpu_cost) / nullif(sum(cpu_core_hours), 0) AS cpu_price, "
        "sum(ram_cost) / nullif(sum(ram_byte_hours) / 1073741824, 0) AS ram_price, "
        "sum(gpu_cost) / nullif(sum(gpu_hours), 0) AS gpu_price "
        "FROM assets WHERE type = 'Node' AND hour >= ? AND hour < ? GROUP BY cluster, name",
        *_span(window),
    )


def _span(window: Window) -> tuple[datetime, datetime]:
    return window.start, window.end


def _text(value: float | None, digits: int = 6) -> str:
    """A number as Kubecost writes node prices: a string, empty when unknown."""
    if value is None:
        return ""
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") or "0"


def _node(row: Mapping[str, Any]) -> dict[str, str]:
    ram = row["ram_bytes"]
    return {
        "hourlyCost": _text(row["hourly_cost"]),
        "CPU": _text(row["cpu_cores"]),
        "CPUHourlyCost": _text(row["cpu_price"]),
        "RAM": "" if ram is None else f"{int(ram // 1024)}Ki",
        "RAMBytes": _text(ram, 0),
        "RAMGBHourlyCost": _text(row["ram_price"]),
        "GPU": _text(row["gpu_count"]),
        "GPUHourlyCost": _text(row["gpu_price"]),
        "instanceType": row["node_type"] or "",
        "region": row["region"] or "",
        "providerID": row["provider_id"] or "",
        "preemptible": "true" if row["preemptible"] else "false",
    }


NODE_CAPACITY = ("CPU", "RAM", "RAMBytes", "GPU")
"""The node fields a namespace-scoped identity sees: capacity only. Prices, instance type, region, provider ID
and spot flag are cluster-wide facts (``/assets`` refuses them to it): with its own usage they would give the
other tenants' costs per node-hour."""


def _scoped_node(node: dict[str, str], scope: Scope | None) -> dict[str, str]:
    if scope is None or scope.namespaces is None:
        return node
    return {name: value for name, value in node.items() if name in NODE_CAPACITY}


def _entry(row: Mapping[str, Any], node: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": row["container"],
        "podName": row["pod"],
        "nodeName": row["node"],
        "namespace": row["namespace"],
        "clusterId": row["cluster"],
        "node": node,
        **{
            field: [row["controller"]] if row["controller_kind"] == kind and row["controller"] else []
            for field, kind in CONTROLLER_LISTS.items()
        },
        "services": list(row["services"] or []),
        "labels": map_to_dict(row["labels"]),
        "namespaceLabels": map_to_dict(row["namespace_labels"]),
        **{name: [{**point, "value": clean(point["value"])} for point in row[name]] for name in SERIES},
        "pvcData": clean(row["pvc"] or []),
    }
    return entry


def run_cost_data(ledger: Reader, query: CostDataQuery) -> dict[str, dict[str, Any]]:
    """The ``data`` of costDataModel: ``"namespace,pod,container,node,cluster"`` → container entry, without the
    ``filterFields``. Series points are ``{timestamp: unix seconds of the hour, value}``; values are averages
    over the container's running time in that hour (cores, bytes, GPUs)."""
    sql = cost_data_sql(query)
    frame = ledger.fetch(sql.text, sql.params)
    nodes_sql = node_sql(query.window)
    nodes = {
        (row["cluster"], row["name"]): _node(row)
        for row in ledger.fetch(nodes_sql.text, nodes_sql.params).iter_rows(named=True)
    }
    result: dict[str, dict[str, Any]] = {}
    for row in frame.iter_rows(named=True):
        key = ",".join(str(row[part] or "") for part in ("namespace", "pod", "container", "node", "cluster"))
        entry = _entry(row, _scoped_node(nodes.get((row["cluster"], row["node"]), {}), query.scope))
        result[key] = {name: value for name, value in entry.items() if name not in query.excluded}
    return result


__all__ = [
    "AGGREGATED_PARAMETERS",
    "COST_DATA_FIELDS",
    "AggregatedCostQuery",
    "CostDataQuery",
    "run_aggregated_cost",
    "run_cost_data",
    "shifted_now",
]
