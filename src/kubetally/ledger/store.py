"""The Ledger: a DuckDB file of hour-bucket cost rows, written whole hours at a time and read with SQL.

A write replaces every row of the named clusters in ``[start, end)`` in one transaction, so a reader or a crash
sees each ``(cluster, hour)`` bucket either as it was before or as it is after, never in between (DuckDB's
write-ahead log holds only committed transactions). The same transaction recomputes the ``allocations_daily``
rows of every ``(cluster, UTC day)`` it touched from the hourly rows. Writing the same result again leaves the
fact tables and ``pods`` exactly as they were (and the rollup equal to its recomputation); ``hour_coverage`` and
``ingest_runs`` record the new write.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import polars as pl

from kubetally.costs import CostResult
from kubetally.errors import LedgerError
from kubetally.history import STRING_MAP
from kubetally.ledger.acceptances import record_acceptances
from kubetally.ledger.adjustments import AdjustmentWrite, apply_bill_adjustments
from kubetally.ledger.backup import export_database
from kubetally.ledger.cloud import CloudWrite, upsert
from kubetally.ledger.frames import RESULT_TABLES, cluster_names, coverage_frame, hour_range, result_frames
from kubetally.ledger.opening import connect, prepare_schema, rollback_quietly
from kubetally.ledger.rollup import refresh_days
from kubetally.ledger.schema import FACT_TABLES, ROLLUP, TABLES, TableSpec, insert_select_sql

Clock = Callable[[], datetime]
Hook = Callable[[str], None]
"""Called with the name of each step of a write as it starts (``begin``, ``delete:<table>``,
``insert:<table>``, ``rollup:allocations_daily``, ``commit``): a seam for tests that interrupt a write at a
known point."""

_SOURCE = "_kubetally_write_source"
_SCOPE = "_kubetally_write_scope"


def _utc_now() -> datetime:
    return datetime.now(UTC)


PROVISIONAL = "kubetally:provisional"
"""The RunInfo warning that marks a write of a still-open hour: the hour is rewritten once it closes."""


@dataclass(frozen=True)
class RunInfo:
    """Where a write's rows came from, and which inputs were degraded."""

    source: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteReport:
    """What one write did: its generation, run id, the buckets it replaced and the rows it changed."""

    generation: int
    run_id: str
    clusters: tuple[str, ...]
    start: datetime
    end: datetime
    hours: int
    rows_inserted: dict[str, int] = field(default_factory=dict)
    """Rows inserted per table (facts, pods, and the recomputed ``allocations_daily`` rows)."""
    rows_deleted: dict[str, int] = field(default_factory=dict)
    """Rows removed per table (the replaced buckets' previous rows, and the replaced pod rows)."""


@dataclass(frozen=True)
class _Scope:
    """The buckets one write replaces, and the run it records."""

    clusters: tuple[str, ...]
    start: datetime
    end: datetime
    hours: int
    run: RunInfo
    run_id: str
    started_at: datetime


class Ledger:
    """An open ledger file. Writes are serialised; reads may come from several threads."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        path: Path,
        *,
        read_only: bool,
        clock: Clock = _utc_now,
        hook: Hook | None = None,
    ) -> None:
        self._connection = connection
        self._path = path
        self._read_only = read_only
        self._clock = clock
        self._hook = hook
        self._write_lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        read_only: bool = False,
        clock: Clock = _utc_now,
        hook: Hook | None = None,
    ) -> Ledger:
        """Open (and on first use create) the ledger at ``path``; ``read_only`` never creates or writes.

        Raises LedgerError when the file is missing (read-only), is not a DuckDB file, is held by another
        writing process, or holds another schema version.
        """
        file = Path(path)
        connection = connect(file, read_only=read_only)
        try:
            prepare_schema(connection, file, read_only=read_only)
        except LedgerError:
            connection.close()
            raise
        except duckdb.Error as exc:
            connection.close()
            raise LedgerError(f"ledger {file} cannot be read: {exc}") from exc
        return cls(connection, file, read_only=read_only, clock=clock, hook=hook)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def read_only(self) -> bool:
        return self._read_only

    def close(self) -> None:
        """Close the file (DuckDB checkpoints its write-ahead log into it)."""
        if not self._closed:
            self._closed = True
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def export(self, directory: Path) -> Path:
        """Back the ledger up into ``directory`` (``EXPORT DATABASE``, see :mod:`kubetally.ledger.backup`)."""
        self._check_open()
        cursor = self._cursor()
        try:
            return export_database(cursor, directory, now=self._clock())
        finally:
            cursor.close()

    # reading

    def fetch(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> pl.DataFrame:
        """The result of one SQL query (``?`` or ``$name`` parameters) as a Polars frame.

        Timestamps come back as ``Datetime("us", "UTC")`` and ``MAP`` columns as ``List(Struct(key, value))``,
        the types of :mod:`kubetally.costs`.
        """
        cursor = self._cursor()
        try:
            relation = cursor.sql(sql, params=params if params else None)
            frame: pl.DataFrame = pl.DataFrame() if relation is None else relation.pl()
        except duckdb.Error as exc:
            raise LedgerError(f"ledger query failed: {exc}") from exc
        finally:
            cursor.close()
        maps = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Map)]
        return frame.with_columns(pl.col(maps).cast(STRING_MAP)) if maps else frame

    def fetch_arrow(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> Any:
        """The result of one SQL query as a ``pyarrow.Table``, DuckDB's types kept (``MAP`` stays a map)."""
        cursor = self._cursor()
        try:
            relation = cursor.sql(sql, params=params if params else None)
            return None if relation is None else relation.to_arrow_table()
        except duckdb.Error as exc:
            raise LedgerError(f"ledger query failed: {exc}") from exc
        finally:
            cursor.close()

    @property
    def generation(self) -> int:
        """A counter increased by every write: equal generations mean equal contents."""
        frame = self.fetch("SELECT value FROM ledger_meta WHERE key = 'generation'")
        return int(frame.item()) if frame.height else 0

    def coverage(self, cluster: str | None = None) -> pl.DataFrame:
        """The hour buckets written so far (``cluster``, ``hour``, ``generation``, ``run_id``), in order."""
        where, params = ("WHERE cluster = ?", [cluster]) if cluster is not None else ("", [])
        return self.fetch(f"SELECT * FROM hour_coverage {where} ORDER BY cluster, hour", params)

    def provisional_hours(self, start: datetime | None = None, end: datetime | None = None) -> pl.DataFrame:
        """The ``(cluster, hour)`` buckets in ``[start, end)`` whose last write was :data:`PROVISIONAL`, in order."""
        sql = """
            SELECT c.cluster, c.hour FROM hour_coverage c
            JOIN ingest_runs r ON r.run_id = c.run_id AND r.cluster = c.cluster
            WHERE position(? IN r.warnings) > 0 AND c.hour >= ? AND c.hour < ?
            ORDER BY c.cluster, c.hour"""
        lowest, highest = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
        return self.fetch(sql, [json.dumps(PROVISIONAL), start or lowest, end or highest])

    def clusters(self) -> tuple[str, ...]:
        """Every cluster with at least one written hour, sorted."""
        frame = self.fetch("SELECT DISTINCT cluster FROM hour_coverage ORDER BY cluster")
        return tuple(frame.get_column("cluster").to_list())

    def bounds(self, cluster: str | None = None) -> tuple[datetime, datetime] | None:
        """``(first hour, end of the last hour)``: the half-open range of written buckets, or None if none."""
        where, params = ("WHERE cluster = ?", [cluster]) if cluster is not None else ("", [])
        frame = self.fetch(
            f"SELECT min(hour) AS first, max(hour) + INTERVAL 1 HOUR AS stop FROM hour_coverage {where}", params
        )
        first, stop = frame.row(0)
        if first is None:
            return None
        return first, stop

    def runs(self) -> pl.DataFrame:
        """Every ingest run record, oldest first."""
        return self.fetch("SELECT * FROM ingest_runs ORDER BY generation, cluster")

    # writing

    def write(
        self,
        result: CostResult,
        *,
        clusters: Sequence[str],
        start: datetime,
        end: datetime,
        run: RunInfo,
    ) -> WriteReport:
        """Replace every row of ``clusters`` with an hour in ``[start, end)`` by ``result``, in one transaction.

        Pod rows of ``result`` replace the stored rows with the same ``(cluster, pod_uid)``. Every written
        ``(cluster, hour)`` is recorded in ``hour_coverage``, even when it has no rows, and each cluster gets
        an ``ingest_runs`` row.
        """
        if self._read_only:
            raise LedgerError(f"ledger {self._path} is open read-only and cannot be written")
        names = cluster_names(clusters)
        first, stop, hours = hour_range(start, end)
        frames = result_frames(result, names, first, stop)
        scope = _Scope(names, first, stop, hours, run, uuid.uuid4().hex, self._clock())
        with self._write_lock:
            self._check_open()
            try:
                return self._write_transaction(frames, scope)
            except duckdb.Error as exc:
                raise LedgerError(
                    f"ledger {self._path}: write of {list(names)} failed and was rolled back: {exc}"
                ) from exc

    def upsert_cloud_costs(self, frame: pl.DataFrame) -> CloudWrite:
        """Upsert FOCUS cost rows (exactly the ``cloud_costs`` columns) by their line key, in one transaction."""
        return self._upsert_cloud("cloud_costs", frame)

    def record_bill_acceptances(self, frame: pl.DataFrame) -> int:
        """Record accepted reconciliations (``bill_acceptances`` rows), replacing earlier ones of the same key."""
        if self._read_only:
            raise LedgerError(f"ledger {self._path} is open read-only and cannot be written")
        with self._write_lock:
            self._check_open()
            return record_acceptances(self._connection, frame)

    def upsert_cloud_usage(self, frame: pl.DataFrame) -> CloudWrite:
        """Upsert cloud usage rows by ``(ResourceId, metricName, timestamp)``, in one transaction."""
        return self._upsert_cloud("cloud_usage", frame)

    def apply_bill_adjustments(
        self,
        allocations: pl.DataFrame,
        assets: pl.DataFrame,
        *,
        start: datetime,
        end: datetime,
        expected_generation: int | None = None,
    ) -> AdjustmentWrite:
        """Set the bill adjustments of every row with an hour in ``[start, end)``, in one transaction (see
        :func:`kubetally.ledger.adjustments.apply_bill_adjustments`)."""
        if self._read_only:
            raise LedgerError(f"ledger {self._path} is open read-only and cannot be written")
        with self._write_lock:
            self._check_open()
            return apply_bill_adjustments(
                self._connection, allocations, assets, start=start, end=end, expected_generation=expected_generation
            )

    def _upsert_cloud(self, table: str, frame: pl.DataFrame) -> CloudWrite:
        if self._read_only:
            raise LedgerError(f"ledger {self._path} is open read-only and cannot be written")
        with self._write_lock:
            self._check_open()
            return upsert(self._connection, table, frame, self._clock())

    def _write_transaction(self, frames: dict[str, pl.DataFrame], scope: _Scope) -> WriteReport:
        connection = self._connection
        self._step("begin")
        connection.begin()
        try:
            generation = self._next_generation()
            deleted: dict[str, int] = {}
            inserted: dict[str, int] = {}
            clusters = pl.DataFrame({"cluster": pl.Series(scope.clusters, dtype=pl.String)})
            connection.register(_SCOPE, clusters.to_arrow())
            for table in FACT_TABLES:
                self._step(f"delete:{table}")
                deleted[table] = self._delete_range(table, scope)
                self._step(f"insert:{table}")
                inserted[table] = self._insert(TABLES[table], frames[table])
            self._step(f"rollup:{ROLLUP}")
            inserted[ROLLUP] = refresh_days(connection, _SCOPE, scope.start, scope.end)
            self._step("delete:pods")
            deleted["pods"] = self._delete_pods(frames["pods"])
            self._step("insert:pods")
            inserted["pods"] = self._insert(TABLES["pods"], frames["pods"])
            self._step("insert:hour_coverage")
            coverage = coverage_frame(scope.clusters, scope.start, scope.end).with_columns(
                generation=pl.lit(generation, dtype=pl.Int64), run_id=pl.lit(scope.run_id)
            )
            self._delete_range("hour_coverage", scope)
            self._insert(TABLES["hour_coverage"], coverage)
            self._insert(TABLES["ingest_runs"], self._run_rows(frames["allocations"], scope, generation))
            connection.execute(
                "UPDATE ledger_meta SET value = ? WHERE key = 'generation'", [str(generation)]
            ).fetchall()
            self._step("commit")
            connection.commit()
        except BaseException:
            rollback_quietly(connection)
            raise
        finally:
            connection.unregister(_SCOPE)
        return WriteReport(
            generation, scope.run_id, scope.clusters, scope.start, scope.end, scope.hours, inserted, deleted
        )

    def _next_generation(self) -> int:
        rows = self._connection.execute("SELECT value FROM ledger_meta WHERE key = 'generation'").fetchall()
        return (int(rows[0][0]) if rows else 0) + 1

    def _delete_range(self, table: str, scope: _Scope) -> int:
        rows = self._connection.execute(
            f"DELETE FROM {table} WHERE hour >= ? AND hour < ? AND cluster IN (SELECT cluster FROM {_SCOPE})",
            [scope.start, scope.end],
        ).fetchall()
        return int(rows[0][0]) if rows else 0

    def _delete_pods(self, pods: pl.DataFrame) -> int:
        if pods.is_empty():
            return 0
        self._connection.register(_SOURCE, pods.select("cluster", "pod_uid").to_arrow())
        try:
            rows = self._connection.execute(
                f"DELETE FROM pods WHERE (cluster, pod_uid) IN (SELECT (cluster, pod_uid) FROM {_SOURCE})"
            ).fetchall()
        finally:
            self._connection.unregister(_SOURCE)
        return int(rows[0][0]) if rows else 0

    def _insert(self, spec: TableSpec, frame: pl.DataFrame) -> int:
        if frame.is_empty():
            return 0
        self._connection.register(_SOURCE, frame.to_arrow())
        try:
            self._connection.execute(insert_select_sql(spec, _SOURCE)).fetchall()
        finally:
            self._connection.unregister(_SOURCE)
        return frame.height

    def _run_rows(self, allocations: pl.DataFrame, scope: _Scope, generation: int) -> pl.DataFrame:
        """One ``ingest_runs`` row per written cluster, counting its allocation rows."""
        counts = allocations.group_by("cluster").len(name="rows")
        schema = TABLES["ingest_runs"].schema
        return (
            pl.DataFrame({"cluster": pl.Series(scope.clusters, dtype=pl.String)})
            .join(counts, on="cluster", how="left")
            .select(
                run_id=pl.lit(scope.run_id),
                generation=pl.lit(generation, dtype=pl.Int64),
                cluster="cluster",
                start=pl.lit(scope.start, dtype=schema["start"]),
                end=pl.lit(scope.end, dtype=schema["end"]),
                source=pl.lit(scope.run.source),
                started_at=pl.lit(scope.started_at.astimezone(UTC), dtype=schema["started_at"]),
                finished_at=pl.lit(self._clock().astimezone(UTC), dtype=schema["finished_at"]),
                status=pl.lit("ok"),
                hours_written=pl.lit(scope.hours, dtype=pl.Int64),
                rows=pl.col("rows").fill_null(0).cast(pl.Int64),
                warnings=pl.lit(json.dumps(list(scope.run.warnings))),
            )
        )

    def _step(self, name: str) -> None:
        if self._hook is not None:
            self._hook(name)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        self._check_open()
        return self._connection.cursor()

    def _check_open(self) -> None:
        if self._closed:
            raise LedgerError(f"ledger {self._path} is closed")


__all__ = ["RESULT_TABLES", "Clock", "CloudWrite", "Hook", "Ledger", "RunInfo", "WriteReport"]
