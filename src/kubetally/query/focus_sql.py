"""The one SQL query behind a FOCUS export: the window's costs per charge period, row kind and kept dimension.

Sources, in one ``UNION ALL``: the ``allocations`` rows (whole UTC days from ``allocations_daily`` at day
granularity, the partial-day edges hour by hour) and the ``ClusterManagement`` assets as ``overhead`` rows. Each
allocation row gets the load-balancer hours of its ``allocation_lbs`` detail and, through its node, the node's
region, zone and capacity type; pods give controllers and labels. The filter is applied to every row (idle and
overhead rows have no namespace, pod or labels: a missing value compares as the empty string); the GROUP BY keeps
the requested dimensions, plus the node of idle rows, the period, region, zone and capacity type.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubetally.domain.filter_ast import Filter
from kubetally.domain.window import Window
from kubetally.ledger.schema import ROLLUP
from kubetally.query.filtering import compile_allocation_filter
from kubetally.query.focus_columns import COMPONENTS, Granularity
from kubetally.query.sql import Sql, spans

KEY_SQL: dict[str, str] = {
    "node": "a.node",
    "namespace": "a.namespace",
    "controllerKind": "p.controller_kind",
    "controller": "p.controller",
    "pod": "a.pod",
    "container": "a.container",
}
"""The SQL value of each dimension but ``cluster`` (always kept)."""

_IDENTITY = ("cluster", "kind", "node", "namespace", "pod", "pod_uid", "container")
_SUMMED = tuple(
    dict.fromkeys(
        [
            *(column for component in COMPONENTS for column in component.costs),
            "cpu_core_hours",
            "ram_byte_hours",
            "gpu_hours",
            "pv_byte_hours",
            "network_transfer_bytes",
            "total_cost",
        ]
    )
)
"""The ledger columns summed per source row."""


@dataclass(frozen=True)
class FocusSqlSpec:
    """What the export's GROUP BY reads and keeps."""

    window: Window
    granularity: Granularity
    keys: frozenset[str]
    """Kept dimensions besides ``cluster`` (names of :data:`KEY_SQL`)."""
    filter: Filter | None
    workloads_only: bool
    rollup: bool = True


def _period(column: str, granularity: Granularity) -> str:
    return column if granularity is Granularity.HOUR else f"date_trunc('day', {column})"


def _allocation_rows(spec: FocusSqlSpec, sql: Sql) -> None:
    """The window's allocation rows with ``period`` (hour or day), identity and summed columns."""
    identity = ", ".join(_IDENTITY)
    values = ", ".join(f"sum({column}) AS {column}" for column in _SUMMED)
    split = spans(spec.window, (spec.window,), rollup=spec.rollup and spec.granularity is Granularity.DAY)
    parts = Sql()
    for start, end in split.hours:
        parts.add(" UNION ALL " if parts.parts else "")
        parts.add(
            f"SELECT {identity}, {_period('hour', spec.granularity)} AS period, {values}, "
            "min(price_source) AS price_source FROM allocations WHERE hour >= ? AND hour < ? GROUP BY ALL",
            start,
            end,
        )
    if split.days is not None:
        parts.add(" UNION ALL " if parts.parts else "")
        parts.add(
            f"SELECT {identity}, day AS period, {values}, min(price_source) AS price_source FROM {ROLLUP} "
            "WHERE day >= ? AND day < ? GROUP BY ALL",
            *split.days,
        )
    sql.add(parts.text, *parts.params)


def _source(spec: FocusSqlSpec, sql: Sql) -> None:
    """``rows``: allocation rows with their load-balancer hours, and overhead rows, in one shape."""
    window = (spec.window.start, spec.window.end)
    zeros = ", ".join(f"0.0 AS {column}" for column in _SUMMED)
    sql.add("WITH alloc AS (")
    _allocation_rows(spec, sql)
    sql.add(
        f"), lbs AS (SELECT cluster, kind, namespace, pod_uid, container, {_period('hour', spec.granularity)} "
        "AS period, sum(hours) AS lb_hours FROM allocation_lbs WHERE hour >= ? AND hour < ? GROUP BY ALL)",
        *window,
    )
    sql.add(
        ", nodes AS (SELECT cluster, name, bool_or(coalesce(preemptible, false)) AS spot, min(region) AS region, "
        "min(zone) AS zone FROM assets WHERE type = 'Node' AND hour >= ? AND hour < ? GROUP BY ALL)",
        *window,
    )
    cols = ", ".join(f"a.{column}" for column in _SUMMED)
    sql.add(
        f", src AS (SELECT a.cluster, a.kind, a.node, a.namespace, a.pod, a.pod_uid, a.container, a.period, {cols}, "
        "a.price_source, coalesce(l.lb_hours, 0.0) AS lb_hours, 0.0 AS overhead_cost, 0.0 AS overhead_hours "
        "FROM alloc a LEFT JOIN lbs l ON l.cluster = a.cluster AND l.period = a.period AND l.kind = a.kind "
        "AND l.namespace IS NOT DISTINCT FROM a.namespace AND l.pod_uid IS NOT DISTINCT FROM a.pod_uid "
        "AND (a.kind = 'unmounted' OR l.container IS NOT DISTINCT FROM a.container)"
    )
    sql.add(
        " UNION ALL SELECT cluster, 'overhead' AS kind, NULL AS node, NULL AS namespace, NULL AS pod, "
        f"NULL AS pod_uid, NULL AS container, {_period('hour', spec.granularity)} AS period, {zeros}, "
        "min(price_source) AS price_source, 0.0 AS lb_hours, sum(total_cost) AS overhead_cost, "
        "sum(minutes) / 60.0 AS overhead_hours FROM assets WHERE type = 'ClusterManagement' "
        "AND hour >= ? AND hour < ? GROUP BY ALL)",
        *window,
    )


def focus_group_sql(spec: FocusSqlSpec) -> Sql:
    """``period, kind, cluster, <kept keys>, spot, region, zone, price_source, tags, cost_<c>, qty_<c>, total_cost``.

    One row per charge period, row kind, cluster, kept dimension values, node capacity type, region and zone.
    Columns of dimensions that are not kept are NULL; ``tags`` (the pod's labels as a JSON object) only when the
    pod is kept.
    """
    sql = Sql()
    _source(spec, sql)
    sql.add(" SELECT a.period AS period, a.kind AS kind, a.cluster AS cluster")
    for key, expression in KEY_SQL.items():
        if key == "node":
            kept = expression if "node" in spec.keys else "NULL"
            sql.add(f", CASE WHEN a.kind = 'idle' THEN a.node ELSE {kept} END AS node")
        elif key in spec.keys:
            sql.add(f", {expression} AS {_alias(key)}")
        else:
            sql.add(f", CAST(NULL AS VARCHAR) AS {_alias(key)}")
    sql.add(", coalesce(n.spot, false) AS spot, n.region AS region, n.zone AS zone")
    sql.add(", min(a.price_source) AS price_source")
    if "pod" in spec.keys:
        sql.add(", CAST(to_json(any_value(p.labels)) AS VARCHAR) AS tags")
    else:
        sql.add(", CAST(NULL AS VARCHAR) AS tags")
    for component in COMPONENTS:
        cost = " + ".join(f"a.{column}" for column in component.costs)
        sql.add(f", sum({cost}) AS cost_{component.name}, sum({component.quantity}) AS qty_{component.name}")
    sql.add(", sum(a.overhead_cost) AS cost_cluster_management, sum(a.overhead_hours) AS qty_cluster_management")
    sql.add(", sum(a.total_cost) AS total_cost")
    sql.add(" FROM src a LEFT JOIN nodes n ON n.cluster = a.cluster AND n.name = a.node")
    sql.add(" LEFT JOIN pods p ON p.cluster = a.cluster AND p.pod_uid = a.pod_uid")
    conditions: list[Sql] = []
    if spec.workloads_only:
        conditions.append(Sql().add("a.kind = 'workload'"))
    if spec.filter is not None:
        fragment, params, _ = compile_allocation_filter(spec.filter)
        conditions.append(Sql().add(f"coalesce(({fragment}), false)", *params))
    for i, condition in enumerate(conditions):
        sql.add(" WHERE " if i == 0 else " AND ").add(condition.text, *condition.params)
    return sql.add(" GROUP BY ALL")


def _alias(key: str) -> str:
    return {"controllerKind": "controller_kind"}.get(key, key)
