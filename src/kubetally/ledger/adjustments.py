"""Writing bill adjustments: the part of a cloud bill that differs from the estimated cost of nodes and disks.

One call sets, for every allocation row and asset with an hour in ``[start, end)``, the bill adjustments given in
its frames, and sets every other bill adjustment of that range back to 0, in one transaction. ``total_cost``
follows (``total_cost − old adjustments + new ones``), the daily rollup of the touched ``(cluster, day)``s is
recomputed, and the covered hours of the clusters that changed get a new ``generation`` in ``hour_coverage``, so
that cached answers of those windows are recomputed. A call that changes nothing writes nothing and keeps the
generation. Ingest writes (which replace whole hours) reset the bill adjustments of the hours they rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from kubetally.errors import InvalidParameter, LedgerError
from kubetally.history import TIME
from kubetally.ledger.frames import hour_range
from kubetally.ledger.opening import rollback_quietly
from kubetally.ledger.rollup import refresh_days

BILL_COLUMNS: tuple[str, ...] = (
    "cpu_bill_adjustment",
    "ram_bill_adjustment",
    "gpu_bill_adjustment",
    "pv_bill_adjustment",
)
"""The allocation columns holding a row's share of bill adjustments."""

ALLOCATION_KEY: tuple[str, ...] = ("cluster", "hour", "kind", "node", "namespace", "pod_uid", "container")
"""The columns identifying one allocation row (NULL equal to NULL)."""

ALLOCATION_ADJUSTMENTS = pl.Schema(
    {
        "cluster": pl.String(),
        "hour": TIME,
        "kind": pl.String(),
        "node": pl.String(),
        "namespace": pl.String(),
        "pod_uid": pl.String(),
        "container": pl.String(),
        **dict.fromkeys(BILL_COLUMNS, pl.Float64()),
    }
)
"""The frame of allocation bill adjustments: one row per adjusted allocation row."""

ASSET_KEY: tuple[str, ...] = ("cluster", "hour", "type", "name")
ASSET_ADJUSTMENTS = pl.Schema(
    {"cluster": pl.String(), "hour": TIME, "type": pl.String(), "name": pl.String(), "adjustment": pl.Float64()}
)
"""The frame of asset bill adjustments: one row per adjusted asset and hour."""

_ALLOCATIONS_SOURCE = "_kubetally_bill_allocations"
_ASSETS_SOURCE = "_kubetally_bill_assets"
_SCOPE = "_kubetally_bill_scope"


@dataclass(frozen=True)
class AdjustmentWrite:
    """What one bill adjustment write changed."""

    generation: int
    """The ledger generation after the write (unchanged when nothing changed)."""
    start: datetime
    end: datetime
    allocations_changed: int
    """Allocation rows whose bill adjustments were set to new values or reset to 0."""
    assets_changed: int
    clusters: tuple[str, ...]
    """Clusters whose rows changed (their rollup and coverage were refreshed)."""


def _conform(frame: pl.DataFrame, schema: pl.Schema, key: tuple[str, ...], parameter: str) -> pl.DataFrame:
    if not isinstance(frame, pl.DataFrame):
        raise InvalidParameter(parameter, f"expected a polars DataFrame, got {type(frame).__name__}")
    missing = [c for c in schema if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema]
    if missing or extra:
        raise InvalidParameter(parameter, f"missing columns {missing or 'none'}, unexpected columns {extra or 'none'}")
    try:
        conformed = frame.select(pl.col(c).cast(dtype, strict=True) for c, dtype in schema.items())
    except pl.exceptions.PolarsError as exc:
        raise InvalidParameter(parameter, f"columns of the wrong type: {exc}") from exc
    values = [c for c in schema if c not in key]
    if conformed.select(pl.any_horizontal(pl.col(values).is_null() | pl.col(values).is_nan()).any()).item():
        raise InvalidParameter(parameter, f"{', '.join(values)} must be numbers (no null or NaN)")
    if conformed.select(pl.any_horizontal(pl.col("cluster", "hour").is_null()).any()).item():
        raise InvalidParameter(parameter, "cluster and hour must not be null")
    if conformed.select(pl.struct(list(key)).is_duplicated().any()).item():
        raise InvalidParameter(parameter, f"holds a key ({', '.join(key)}) more than once")
    return conformed


def _outside(frame: pl.DataFrame, start: datetime, end: datetime, parameter: str) -> None:
    hour = pl.col("hour")
    bad = frame.filter((hour < pl.lit(start, dtype=TIME)) | (hour >= pl.lit(end, dtype=TIME)))
    if bad.height:
        raise InvalidParameter(
            parameter,
            f"{bad.height} rows have an hour outside [{start.isoformat()}, {end.isoformat()}) "
            f"(first: {bad.get_column('hour')[0]})",
        )


def _match(alias: str, source: str, key: tuple[str, ...]) -> str:
    return " AND ".join(f"{alias}.{c} IS NOT DISTINCT FROM {source}.{c}" for c in key)


def _count(connection: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    rows = connection.execute(sql, params).fetchall()
    return int(rows[0][0]) if rows else 0


class _Tables:
    """The SQL of one table's adjustment columns: the allocation table's four, or the assets' one."""

    def __init__(self, table: str, source: str, key: tuple[str, ...], columns: tuple[str, ...]) -> None:
        self.table, self.source, self.key, self.columns = table, source, key, columns

    def old_sum(self, alias: str) -> str:
        return "(" + " + ".join(f"{alias}.{c}" for c in self.columns) + ")"

    def differs(self) -> str:
        return "(" + " OR ".join(f"t.{c} <> s.{c}" for c in self.columns) + ")"

    def nonzero(self) -> str:
        return "(" + " OR ".join(f"t.{c} <> 0" for c in self.columns) + ")"

    def in_source(self) -> str:
        return f"EXISTS (SELECT 1 FROM {self.source} s WHERE {_match('s', 't', self.key)})"

    def changed_clusters_sql(self) -> str:
        """Clusters with a row to reset or to set to another value."""
        return (
            f"SELECT DISTINCT t.cluster FROM {self.table} t WHERE t.hour >= ? AND t.hour < ? AND {self.nonzero()} "
            f"AND NOT {self.in_source()} UNION SELECT DISTINCT t.cluster FROM {self.table} t "
            f"JOIN {self.source} s ON {_match('t', 's', self.key)} "
            f"WHERE t.hour >= ? AND t.hour < ? AND {self.differs()}"
        )

    def reset_sql(self) -> str:
        zeros = ", ".join(f"{c} = 0" for c in self.columns)
        return (
            f"UPDATE {self.table} AS t SET total_cost = t.total_cost - {self.old_sum('t')}, {zeros} "
            f"WHERE t.hour >= ? AND t.hour < ? AND {self.nonzero()} AND NOT {self.in_source()}"
        )

    def set_sql(self) -> str:
        values = ", ".join(f"{c} = s.{c}" for c in self.columns)
        return (
            f"UPDATE {self.table} AS t SET total_cost = t.total_cost - {self.old_sum('t')} + {self.old_sum('s')}, "
            f"{values} FROM {self.source} AS s "
            f"WHERE t.hour >= ? AND t.hour < ? AND {_match('t', 's', self.key)} AND {self.differs()}"
        )

    def matched_sql(self) -> str:
        return (
            f"SELECT count(*) FROM {self.source} s JOIN {self.table} t ON {_match('t', 's', self.key)} "
            "WHERE t.hour >= ? AND t.hour < ?"
        )


_ALLOCATIONS = _Tables("allocations", _ALLOCATIONS_SOURCE, ALLOCATION_KEY, BILL_COLUMNS)
_ASSETS = _Tables("assets", _ASSETS_SOURCE, ASSET_KEY, ("adjustment",))


def _generation(connection: duckdb.DuckDBPyConnection) -> int:
    rows = connection.execute("SELECT value FROM ledger_meta WHERE key = 'generation'").fetchall()
    return int(rows[0][0]) if rows else 0


def apply_bill_adjustments(
    connection: duckdb.DuckDBPyConnection,
    allocations: pl.DataFrame,
    assets: pl.DataFrame,
    *,
    start: datetime,
    end: datetime,
    expected_generation: int | None = None,
) -> AdjustmentWrite:
    """Make the bill adjustments of every row with an hour in ``[start, end)`` those of ``allocations``
    (:data:`ALLOCATION_ADJUSTMENTS`) and ``assets`` (:data:`ASSET_ADJUSTMENTS`), 0 for rows they do not name,
    in one transaction (see the module docstring).

    Raises InvalidParameter for malformed frames or rows outside the range, LedgerError when a frame row names
    no stored row, when the ledger's generation is not ``expected_generation`` (it changed since the frames
    were computed), or when DuckDB fails; the ledger is then unchanged.
    """
    first, stop, _ = hour_range(start, end)
    frames = {
        _ALLOCATIONS: _conform(allocations, ALLOCATION_ADJUSTMENTS, ALLOCATION_KEY, "allocations"),
        _ASSETS: _conform(assets, ASSET_ADJUSTMENTS, ASSET_KEY, "assets"),
    }
    for spec, frame in frames.items():
        _outside(frame, first, stop, spec.table)
    try:
        return _transaction(connection, frames, first, stop, expected_generation)
    except duckdb.Error as exc:
        raise LedgerError(f"bill adjustment write failed and was rolled back: {exc}") from exc


def _transaction(
    connection: duckdb.DuckDBPyConnection,
    frames: dict[_Tables, pl.DataFrame],
    start: datetime,
    end: datetime,
    expected_generation: int | None,
) -> AdjustmentWrite:
    for spec, frame in frames.items():
        connection.register(spec.source, frame.to_arrow())
    connection.begin()
    try:
        generation = _generation(connection)
        if expected_generation is not None and generation != expected_generation:
            raise LedgerError(
                f"the ledger changed while bill adjustments were computed (generation {expected_generation} → "
                f"{generation}); compute them again"
            )
        span: list[object] = [start, end]
        for spec, frame in frames.items():
            matched = _count(connection, spec.matched_sql(), span)
            if matched != frame.height:
                raise LedgerError(
                    f"{frame.height - matched} of {frame.height} {spec.table} bill adjustments name no stored row "
                    f"in [{start.isoformat()}, {end.isoformat()})"
                )
        clusters: set[str] = set()
        for spec in frames:
            found = connection.execute(spec.changed_clusters_sql(), span + span).fetchall()
            clusters.update(str(row[0]) for row in found)
        changed = {spec: 0 for spec in frames}
        if clusters:
            for spec in frames:
                changed[spec] = _count(connection, spec.reset_sql(), span) + _count(connection, spec.set_sql(), span)
            generation = _refresh(connection, sorted(clusters), start, end, generation + 1)
        connection.commit()
    except BaseException:
        rollback_quietly(connection)
        raise
    finally:
        for spec in frames:
            connection.unregister(spec.source)
    return AdjustmentWrite(generation, start, end, changed[_ALLOCATIONS], changed[_ASSETS], tuple(sorted(clusters)))


def _refresh(
    connection: duckdb.DuckDBPyConnection, clusters: list[str], start: datetime, end: datetime, generation: int
) -> int:
    """Recompute the rollup days of ``clusters`` and stamp their covered hours with ``generation``."""
    connection.register(_SCOPE, pl.DataFrame({"cluster": pl.Series(clusters, dtype=pl.String)}).to_arrow())
    try:
        refresh_days(connection, _SCOPE, start, end)
        connection.execute(
            f"UPDATE hour_coverage SET generation = ? WHERE hour >= ? AND hour < ? "
            f"AND cluster IN (SELECT cluster FROM {_SCOPE})",
            [generation, start, end],
        ).fetchall()
        connection.execute("UPDATE ledger_meta SET value = ? WHERE key = 'generation'", [str(generation)]).fetchall()
    finally:
        connection.unregister(_SCOPE)
    return generation


__all__ = [
    "ALLOCATION_ADJUSTMENTS",
    "ALLOCATION_KEY",
    "ASSET_ADJUSTMENTS",
    "ASSET_KEY",
    "BILL_COLUMNS",
    "AdjustmentWrite",
    "apply_bill_adjustments",
]
