"""The SQL that reads the ledger: one GROUP BY over the window's hour buckets per query.

When no set boundary falls inside a UTC day, the window's whole days are read from the daily rollup
(``allocations_daily``, 24 times fewer rows) and only the partial-day edges from ``allocations``
(:func:`allocation_source_sql`); the two give the same sums, maxima, time-weighted products and first/last charged
instants.

Filtering, aggregation keys, share classification and step assignment all happen in DuckDB, so that a 30-day
query over millions of container-hours returns a frame of a few hundred rows. The ``pods`` dimension is joined
only when a key, a filter or a shared-label rule reads a pod property.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kubetally.domain.aggregation import AggregateKey, KeySource, value_sql
from kubetally.domain.filters import Filter
from kubetally.domain.window import Window
from kubetally.ledger.rollup import day_ceil, day_floor
from kubetally.ledger.schema import ROLLUP, RUNNING_BOUNDS, product_column
from kubetally.query.filtering import compile_allocation_filter

ALLOCATION_COLUMNS = frozenset({"cluster", "node", "namespace", "pod", "container"})

SUM_COLUMNS: tuple[str, ...] = (
    "running_minutes",
    "cpu_core_hours",
    "cpu_cost",
    "cpu_cost_adjustment",
    "ram_byte_hours",
    "ram_cost",
    "ram_cost_adjustment",
    "gpu_hours",
    "gpu_cost",
    "gpu_cost_adjustment",
    "pv_byte_hours",
    "pv_cost",
    "pv_cost_adjustment",
    "network_transfer_bytes",
    "network_receive_bytes",
    "network_cross_zone_cost",
    "network_cross_region_cost",
    "network_internet_cost",
    "network_cost",
    "load_balancer_cost",
)
"""Columns summed over each group: ledger columns, with the bill adjustments folded in by :data:`SOURCE_VALUES`."""

SOURCE_VALUES: dict[str, str] = {
    **{
        f"{r}_cost": f"{r}_cost + CASE WHEN kind = 'idle' THEN {r}_bill_adjustment ELSE 0 END"
        for r in ("cpu", "ram", "gpu")
    },
    **{
        f"{r}_cost_adjustment": f"{r}_cost_adjustment + CASE WHEN kind = 'idle' THEN 0 ELSE {r}_bill_adjustment END"
        for r in ("cpu", "ram", "gpu")
    },
    "pv_cost_adjustment": "pv_bill_adjustment",
}
"""How the read rows fold a reconciled bill's adjustments into the query columns: a row's ``*_bill_adjustment``
joins its over-commit ``*_cost_adjustment`` (``pv_cost_adjustment`` is only the bill's); an idle row's joins its
idle cost, since what a node was billed beyond what workloads were charged is idle. Every other column is read
as stored. So ``*Cost + *CostAdjustment`` of a node's rows and idle add up to the node's billed cost."""

TIME_WEIGHTED: tuple[tuple[str, str], ...] = (
    ("cpu_request_minutes", "cpu_core_request_average"),
    ("cpu_usage_minutes", "cpu_core_usage_average"),
    ("ram_request_minutes", "ram_byte_request_average"),
    ("ram_usage_minutes", "ram_byte_usage_average"),
    ("gpu_request_minutes", "gpu_request_average"),
    ("gpu_usage_minutes", "gpu_usage_average"),
)
"""(output, ledger average) pairs: Σ average x running minutes, so averages of aggregates are time-weighted."""


@dataclass
class Sql:
    """A SQL text built in order, with its ``?`` parameters in the same order."""

    parts: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    def add(self, text: str, *params: object) -> Sql:
        self.parts.append(text)
        self.params.extend(params)
        return self

    @property
    def text(self) -> str:
        return "".join(self.parts)


def set_index_sql(sets: Sequence[Window], column: str = "a.hour") -> str:
    """The 0-based index of the set holding each hour bucket.

    Equal steps (the last one may be shorter) use arithmetic on epoch seconds; calendar steps (whose first set may
    be the shortest, e.g. the hour before a Sunday with ``accumulate=weeknow``) a CASE chain.
    """
    if len(sets) == 1:
        return "0"
    first = sets[0]
    step = first.duration.total_seconds()
    uniform = all(w.duration.total_seconds() == step for w in sets[:-1]) and sets[-1].duration.total_seconds() <= step
    start = first.start.timestamp()
    if uniform:
        return f"CAST(floor((epoch({column}) - {start!r}) / {step!r}) AS INTEGER)"
    whens = " ".join(f"WHEN epoch({column}) < {w.end.timestamp()!r} THEN {i}" for i, w in enumerate(sets))
    return f"CASE {whens} END"


Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Spans:
    """Where a window's allocation rows are read from: whole UTC days of the rollup, the rest hour by hour."""

    days: Span | None
    """``[first midnight, last midnight)`` read from ``allocations_daily``, or None."""
    hours: tuple[Span, ...]
    """Ranges read from ``allocations`` (the partial-day edges, or the whole window)."""


def _midnight(instant: datetime) -> bool:
    return day_floor(instant) == instant


def spans(window: Window, sets: Sequence[Window], *, rollup: bool = True) -> Spans:
    """Split ``window`` into whole days for the rollup and hour ranges for the hourly table.

    A day may come from the rollup only when no set boundary falls inside it: every boundary between sets must
    be a UTC midnight (steps of whole days from a midnight, or a single set). Otherwise, or when ``rollup`` is
    False, or when the window holds no whole day, the whole window is read hour by hour.
    """
    first, stop = day_ceil(window.start), day_floor(window.end)
    aligned = all(_midnight(w.start) for w in sets[1:]) and all(_midnight(w.end) for w in sets[:-1])
    if not rollup or not aligned or first >= stop:
        return Spans(None, ((window.start, window.end),))
    edges = ((window.start, first), (stop, window.end))
    return Spans((first, stop), tuple((a, b) for a, b in edges if a < b))


_HOURLY_BOUNDS = ", ".join(f"{expression} AS {name}" for name, expression in RUNNING_BOUNDS.items())
_DAILY_BOUNDS = (
    "coalesce(running_start, first_hour) AS running_start, "
    "coalesce(running_end, last_hour + INTERVAL 1 HOUR) AS running_end"
)
_SOURCE_KEYS = ("cluster", "kind", "node", "namespace", "pod", "pod_uid", "container")
_MAXIMA = ("cpu_core_usage_max", "ram_byte_usage_max")


def allocation_source_sql(window: Window, sets: Sequence[Window], *, rollup: bool = True) -> Sql:
    """The allocation rows of ``window`` in one shape, whichever table they come from (UNION ALL).

    Columns: the row keys, ``hour`` (the bucket, or the day of a rollup row: both fall in the same set),
    ``running_start``/``running_end`` (the first and last charged instant; a bucket's bounds where the ledger has
    none, :data:`RUNNING_BOUNDS`), the :data:`SUM_COLUMNS`, the :data:`TIME_WEIGHTED` products and the maxima.
    """
    split = spans(window, sets, rollup=rollup)
    keys = ", ".join(_SOURCE_KEYS)
    values = ", ".join((*(f"{SOURCE_VALUES[c]} AS {c}" if c in SOURCE_VALUES else c for c in SUM_COLUMNS), *_MAXIMA))
    sql = Sql()
    for start, end in split.hours:
        products = ", ".join(f"{average} * running_minutes AS {name}" for name, average in TIME_WEIGHTED)
        sql.add(" UNION ALL " if sql.parts else "")
        sql.add(
            f"SELECT {keys}, hour, {_HOURLY_BOUNDS}, {values}, {products} "
            "FROM allocations WHERE hour >= ? AND hour < ?",
            start,
            end,
        )
    if split.days is not None:
        products = ", ".join(f"{product_column(average)} AS {name}" for name, average in TIME_WEIGHTED)
        sql.add(" UNION ALL " if sql.parts else "")
        sql.add(
            f"SELECT {keys}, day AS hour, {_DAILY_BOUNDS}, {values}, {products} "
            f"FROM {ROLLUP} WHERE day >= ? AND day < ?",
            *split.days,
        )
    return sql


KEY_COLUMNS: dict[str, str] = {
    **{column: f"a.{column}" for column in ALLOCATION_COLUMNS},
    **{
        column: f"p.{column}"
        for column in (
            "controller_kind",
            "controller",
            "cronjob",
            "services",
            "labels",
            "annotations",
            "namespace_labels",
            "namespace_annotations",
            "provider_id",
        )
    },
}
"""Where each aggregate key column lives: ``a`` is the allocations table, ``p`` the pods dimension."""


def key_sql(key: AggregateKey, sql: Sql) -> None:
    """Append the SQL value of one aggregate key for workload rows (aliases ``a`` allocations, ``p`` pods)."""
    fragment = value_sql(key, KEY_COLUMNS)
    sql.add(fragment.sql, *fragment.params)


@dataclass(frozen=True)
class ShareRule:
    """Which allocations are shared: namespaces, labels (any of them), and an optional filter (OR-ed)."""

    namespaces: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    filter: Filter | None = None

    @property
    def empty(self) -> bool:
        return not (self.namespaces or self.labels or self.filter is not None)


def share_sql(rule: ShareRule, sql: Sql) -> bool:
    """Append a boolean: the row is a shared (non-idle) allocation. Returns whether ``pods`` is needed."""
    if rule.empty:
        sql.add("false")
        return False
    needs_pods = False
    terms = Sql()
    if rule.namespaces:
        terms.add("a.namespace IN (" + ", ".join("?" for _ in rule.namespaces) + ")", *rule.namespaces)
    for key, value in rule.labels:
        terms.add(" OR " if terms.parts else "").add("p.labels[?] = ?", key, value)
        needs_pods = True
    if rule.filter is not None:
        fragment, params, pods = compile_allocation_filter(rule.filter)
        terms.add(" OR " if terms.parts else "").add(f"({fragment})", *params)
        needs_pods = needs_pods or pods
    sql.add("(a.kind <> 'idle' AND coalesce(").add(terms.text, *terms.params).add(", false))")
    return needs_pods


@dataclass(frozen=True)
class GroupSpec:
    """What one allocation GROUP BY reads and keys by."""

    window: Window
    sets: tuple[Window, ...]
    keys: tuple[AggregateKey, ...]
    """The name parts, in order (the unaggregated parts when the query is not aggregated)."""
    by_node: bool
    share: ShareRule
    filter: Filter | None
    properties: bool
    """Also read the pod properties (controller, labels, ...) of unaggregated rows."""
    rollup: bool = True
    """Read whole UTC days from ``allocations_daily`` when the sets allow it (False: hourly rows only)."""


_PROPERTY_COLUMNS = (
    "controller_kind",
    "controller",
    "services",
    "provider_id",
    "labels",
    "annotations",
    "namespace_labels",
    "namespace_annotations",
)


def _aggregates(sql: Sql, *, maxima: bool) -> None:
    """The aggregate columns over a source ``a`` of :func:`allocation_source_sql`'s columns (or a pre-grouped
    ``a`` with the same output names)."""
    sql.add(", min(a.running_start) AS running_start, max(a.running_end) AS running_end")
    for column in (*SUM_COLUMNS, *(name for name, _ in TIME_WEIGHTED)):
        sql.add(f", sum(a.{column}) AS {column}")
    if maxima:
        sql.add(", max(a.cpu_core_usage_max) AS cpu_core_usage_max")
        sql.add(", max(a.ram_byte_usage_max) AS ram_byte_usage_max")


_ROW_COLUMNS = ("kind", "cluster", "node", "namespace", "pod", "pod_uid", "container")


def _per_container(spec: GroupSpec) -> Sql:
    """Stage one when pod properties are needed: allocations summed per set and container (a few thousand rows
    instead of millions), so that the join to ``pods`` is cheap."""
    sql = Sql().add("SELECT " + ", ".join(f"a.{c} AS {c}" for c in _ROW_COLUMNS))
    if len(spec.sets) > 1:
        sql.add(f", {set_index_sql(spec.sets)} AS set_idx")
    _aggregates(sql, maxima=spec.properties)
    sql.add(" FROM ")
    _source(spec, sql)
    return sql.add(" GROUP BY ALL")


def _source(spec: GroupSpec, sql: Sql) -> None:
    """Append the window's allocation rows as ``(...) a``: whole days from the rollup when allowed."""
    source = allocation_source_sql(spec.window, spec.sets, rollup=spec.rollup)
    sql.add("(").add(source.text, *source.params).add(") a")


def allocation_group_sql(spec: GroupSpec) -> Sql:
    """``SELECT kind, cluster, [set_idx,] [node,] [shared,] [in_filter,] k0.., sums.. GROUP BY ALL``.

    Only columns that vary are grouped by (each grouped column costs time on millions of rows); the
    constant ones and the name rules of unmounted and idle rows are added on the small result
    (:func:`kubetally.query.names.complete_groups`). Key ``k<i>`` is the raw value of key ``i``. When a key,
    the filter or a share rule reads a pod property, allocations are first summed per container and only
    that result is joined to ``pods``.
    """
    body = Sql()
    needs_pods = spec.properties or any(k.needs_pods for k in spec.keys)
    if spec.by_node:
        body.add(", a.node AS node")
    if not spec.share.empty:
        body.add(", ")
        needs_pods = share_sql(spec.share, body) or needs_pods
        body.add(" AS shared")
    if spec.filter is not None:
        fragment, params, pods = compile_allocation_filter(spec.filter)
        needs_pods = needs_pods or pods
        body.add(f", coalesce(a.kind = 'idle' OR ({fragment}), false) AS in_filter", *params)
    for i, key in enumerate(spec.keys):
        if key.source is not KeySource.ALL:
            body.add(", ")
            key_sql(key, body)
            body.add(f" AS k{i}")
    _aggregates(body, maxima=spec.properties)
    if spec.properties:
        for column in _PROPERTY_COLUMNS:
            body.add(f", any_value(p.{column}) AS {column}")
    sql = Sql().add("SELECT a.kind AS kind, a.cluster AS cluster")
    if len(spec.sets) > 1:
        sql.add(", a.set_idx AS set_idx" if needs_pods else f", {set_index_sql(spec.sets)} AS set_idx")
    sql.add(body.text, *body.params)
    if needs_pods:
        stage = _per_container(spec)
        sql.add(" FROM (").add(stage.text, *stage.params).add(") a")
        sql.add(" LEFT JOIN pods p ON p.cluster = a.cluster AND p.pod_uid = a.pod_uid")
    else:
        sql.add(" FROM ")
        _source(spec, sql)
    return sql.add(" GROUP BY ALL")


def overhead_sql(window: Window, sets: Sequence[Window]) -> Sql:
    """ClusterManagement cost per set (the overhead ``shareTenancyCosts`` shares)."""
    return Sql().add(
        f"SELECT {set_index_sql(sets, 's.hour')} AS set_idx, sum(s.total_cost) AS overhead FROM assets s "
        "WHERE s.type = 'ClusterManagement' AND s.hour >= ? AND s.hour < ? GROUP BY ALL",
        window.start,
        window.end,
    )
