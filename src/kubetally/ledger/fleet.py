"""The fleet store: a read-only Ledger over a published fleet dataset, on DuckDB or on Spark.

:class:`FleetLedger` registers one view per ledger table (same names, same columns) over the Parquet files that
the partitions' manifests name, so the query layer's SQL runs unchanged. The engine is a parameter
(:mod:`kubetally.ledger.engines`): DuckDB reads the files in process; Spark runs the same SQL, transpiled by
sqlglot, on a cluster given by its master URL.

A cluster-scoped store (:meth:`FleetLedger.scoped`) lists only its clusters' files, and a window-scoped store
(:meth:`FleetLedger.windowed`) lists only the days of its window in the tables partitioned by the time a query
filters on, so their queries never open another cluster's or another day's partitions (pruning happens before the
engine sees the dataset); :meth:`FleetLedger.latest` lists only each cluster's last day of them. The manifests are
re-read at most every ``refresh_seconds``; whenever the set of visible partitions changed, the fleet's *revision*
grows, and it is what ``hour_coverage.generation`` shows, so caches keyed on the coverage version see every change.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.fs as pafs

from kubetally.errors import InvalidParameter
from kubetally.ledger.engines import DuckDBEngine, FleetEngine, TableFiles
from kubetally.ledger.fleet_layout import MANIFEST, PUBLISHED_BY_NAME, Manifest
from kubetally.ledger.publish import fleet_filesystem
from kubetally.ledger.schema import TABLES
from kubetally.ledger.store import Ledger

DEFAULT_REFRESH_SECONDS = 30.0

WINDOWED_TABLES = frozenset(
    {"allocations", "allocations_daily", "allocation_pvs", "allocation_lbs", "assets", "hour_coverage", "cloud_costs"}
)
"""The tables partitioned by the UTC day of the column that queries bound by their window (``hour``, ``day``, the
bill's ``ChargePeriodStart``): a window-scoped store lists only the partitions of the window's days in them, so a
query read through it must bound that column to the window. The other tables (pods by their first hour, runs,
cloud usage and sources) are listed whole: a pod running in the window may have started before it. Reconciliation
reads bill rows whose charge period merely overlaps its hours, so it reads the store unwindowed."""

WINDOW_STORES = 8
"""How many window-scoped stores a fleet store keeps (most recently used first)."""

DayRange = tuple[date, date]
Selection = Callable[[Sequence[Manifest]], list[Manifest]]
"""Which of its parent's partitions a derived store lists."""


def window_days(start: datetime, end: datetime) -> DayRange:
    """The first and last UTC day that the window ``[start, end)`` touches."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return first, max(first, last)


def in_days(days: DayRange) -> Selection:
    """The partitions of ``days`` (inclusive) in the :data:`WINDOWED_TABLES`, and every partition of the others."""
    first, last = days[0].isoformat(), days[1].isoformat()

    def select(manifests: Sequence[Manifest]) -> list[Manifest]:
        return [m for m in manifests if m.table not in WINDOWED_TABLES or first <= m.date <= last]

    return select


def last_days(manifests: Sequence[Manifest]) -> list[Manifest]:
    """Each cluster's last partition of each of the :data:`WINDOWED_TABLES`, and every partition of the others."""
    last: dict[tuple[str, str], str] = {}
    for m in manifests:
        if m.table in WINDOWED_TABLES:
            last[m.table, m.cluster] = max(m.date, last.get((m.table, m.cluster), m.date))
    return [m for m in manifests if m.table not in WINDOWED_TABLES or m.date == last[m.table, m.cluster]]


def read_manifests(uri: str, clusters: frozenset[str] | None = None) -> list[Manifest]:
    """Every partition manifest of the fleet at ``uri`` (of ``clusters`` only, when given), sorted by path.

    Only the directories of the requested clusters are listed, so other clusters' partitions are never opened.
    """
    filesystem, root = fleet_filesystem(uri)
    found: list[Manifest] = []
    for table in PUBLISHED_BY_NAME:
        for cluster_dir in _children(filesystem, f"{root}/{table}"):
            name = cluster_dir.base_name.removeprefix("cluster=")
            if clusters is not None and name not in clusters:
                continue
            for day_dir in _children(filesystem, cluster_dir.path):
                path = f"{day_dir.path}/{MANIFEST}"
                if filesystem.get_file_info(path).type != pafs.FileType.File:
                    continue
                with filesystem.open_input_stream(path) as stream:
                    found.append(Manifest.from_json(stream.read(), path))
    return sorted(found, key=lambda m: m.path)


def _children(filesystem: pafs.FileSystem, path: str) -> list[pafs.FileInfo]:
    if filesystem.get_file_info(path).type != pafs.FileType.Directory:
        return []
    infos = filesystem.get_file_info(pafs.FileSelector(path))
    return sorted((i for i in infos if i.type == pafs.FileType.Directory), key=lambda i: i.path)


class FleetLedger(Ledger):
    """A read-only ledger whose tables are the fleet's published partitions."""

    def __init__(
        self,
        uri: str,
        engine: FleetEngine | None = None,
        *,
        clusters: frozenset[str] | None = None,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        select: Selection | None = None,
        parent: FleetLedger | None = None,
    ) -> None:
        """``parent`` is the store whose manifests (and revision) a derived store (window-scoped, latest) follows
        instead of listing the fleet itself, keeping those ``select`` picks."""
        self._engine = engine if engine is not None else DuckDBEngine()
        super().__init__(self._engine.connection(), Path(uri), read_only=True)
        self._uri = uri
        self._root = fleet_filesystem(uri)[1]
        self._scope = clusters
        self._select = select
        self._parent = parent
        self._refresh_seconds = refresh_seconds
        self._refresh_lock = threading.Lock()
        self._stores_lock = threading.Lock()
        self._manifests: list[Manifest] = []
        self._defined = False
        self._revision = 0
        self._read_at = float("-inf")
        self._scoped: dict[frozenset[str], FleetLedger] = {}
        self._windowed: OrderedDict[DayRange, FleetLedger] = OrderedDict()
        self._latest: FleetLedger | None = None
        self.refresh(force=parent is None)

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def engine(self) -> FleetEngine:
        return self._engine

    @property
    def manifests(self) -> list[Manifest]:
        """The visible partitions, as of the last refresh."""
        return list(self._manifests)

    @property
    def revision(self) -> int:
        """Grows whenever the set of visible partitions changes."""
        return self._revision

    def scoped(self, clusters: frozenset[str]) -> FleetLedger:
        """The fleet limited to ``clusters``: a store whose views list only their files (kept for reuse)."""
        with self._stores_lock:
            store = self._scoped.get(clusters)
            if store is None:
                store = FleetLedger(
                    self._uri, self._engine.sibling(), clusters=clusters, refresh_seconds=self._refresh_seconds
                )
                self._scoped[clusters] = store
            return store

    def windowed(self, start: datetime, end: datetime) -> FleetLedger:
        """This store limited to the days of the window ``[start, end)`` in the :data:`WINDOWED_TABLES`.

        Its views list only those days' partitions, so a query bounded by the window opens no file of another day.
        It follows this store's manifests and revision (no listing of its own); the last :data:`WINDOW_STORES`
        are kept for reuse.
        """
        days = window_days(start, end)
        with self._stores_lock:
            store = self._windowed.get(days)
            if store is None:
                store = self._derived(in_days(days))
                self._windowed[days] = store
                while len(self._windowed) > WINDOW_STORES:
                    self._windowed.popitem(last=False)
            self._windowed.move_to_end(days)
        store.refresh()
        return store

    def latest(self) -> FleetLedger:
        """This store limited to each cluster's last day in the :data:`WINDOWED_TABLES`: all a query of a cluster's
        newest hour needs (the last day holding a partition holds it). Follows this store, as :meth:`windowed`."""
        with self._stores_lock:
            if self._latest is None:
                self._latest = self._derived(last_days)
            store = self._latest
        store.refresh()
        return store

    def _derived(self, select: Selection) -> FleetLedger:
        return FleetLedger(self._uri, self._engine.sibling(), clusters=self._scope, select=select, parent=self)

    def _snapshot(self) -> tuple[int, list[Manifest]]:
        with self._refresh_lock:
            return self._revision, self._manifests

    def refresh(self, *, force: bool = False) -> None:
        """Re-read the manifests (at most every ``refresh_seconds`` unless ``force``); the views follow them.

        A derived store refreshes its parent and takes its selection of the parent's manifests."""
        if self._parent is not None:
            self._parent.refresh(force=force)
            with self._refresh_lock:
                revision, manifests = self._parent._snapshot()
                if revision != self._revision:
                    self._manifests = manifests if self._select is None else self._select(manifests)
                    self._revision = revision
                    self._defined = False
            return
        with self._refresh_lock:
            if not force and time.monotonic() - self._read_at < self._refresh_seconds:
                return
            manifests = read_manifests(self._uri, self._scope)
            self._read_at = time.monotonic()
            if [m.path for m in manifests] == [m.path for m in self._manifests] and self._revision:
                return
            self._revision += 1
            self._manifests = manifests
            self._defined = False

    def _define(self) -> None:
        """(Re)define the views over the current manifests, if they changed since the last definition.

        Views are defined on the first query after a change, not at the refresh: a store only used to derive
        window-scoped stores from never binds a view (DuckDB opens a view's first file to bind it)."""
        with self._refresh_lock:
            if not self._defined:
                self._engine.define(self._tables(self._manifests), self._revision)
                self._defined = True

    def _tables(self, manifests: Sequence[Manifest]) -> dict[str, TableFiles]:
        files: dict[str, list[str]] = {name: [] for name in TABLES}
        columns: dict[str, list[tuple[str, ...]]] = {name: [] for name in TABLES}
        for manifest in manifests:
            files[manifest.table].append(f"{self._root}/{manifest.path}")
            columns[manifest.table].append(manifest.columns)
        return {
            name: TableFiles(name, spec.schema, tuple(files[name]), tuple(columns[name]))
            for name, spec in TABLES.items()
        }

    def fetch(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> pl.DataFrame:
        """One query over the fleet, on its engine (the manifests re-read first when due)."""
        self._check_open()
        self.refresh()
        self._define()
        return self._engine.fetch(sql, params)

    def publications(self) -> pl.DataFrame:
        """Per cluster: visible partitions, rows, Parquet bytes and the last publication time."""
        rows = [(m.cluster, m.rows, m.size_bytes, m.published_at) for m in self._manifests]
        frame = pl.DataFrame(
            rows,
            schema={"cluster": pl.String, "rows": pl.Int64, "bytes": pl.Int64, "published_at": pl.String},
            orient="row",
        )
        return (
            frame.with_columns(pl.col("published_at").str.to_datetime(time_zone="UTC", time_unit="us"))
            .group_by("cluster")
            .agg(
                partitions=pl.len(),
                rows=pl.col("rows").sum(),
                bytes=pl.col("bytes").sum(),
                last_published=pl.col("published_at").max(),
            )
            .sort("cluster")
        )

    def close(self) -> None:
        latest = [] if self._latest is None else [self._latest]
        for store in [*self._scoped.values(), *self._windowed.values(), *latest]:
            store.close()
        self._engine.close()
        if not self._closed:
            self._closed = True


def for_window(reader: Ledger, start: datetime, end: datetime) -> Ledger:
    """``reader`` limited to the partitions of the window ``[start, end)`` when it is a fleet store; else itself."""
    return reader.windowed(start, end) if isinstance(reader, FleetLedger) else reader


def open_fleet(uri: str, *, engine: str = "duckdb", master: str = "local[2]") -> FleetLedger:
    """The fleet at ``uri`` on ``engine``: ``duckdb`` (in process) or ``spark`` (on the cluster at ``master``)."""
    if engine == "duckdb":
        return FleetLedger(uri, DuckDBEngine())
    if engine == "spark":
        from kubetally.ledger.spark import SparkEngine  # noqa: PLC0415 (pyspark starts a JVM: only on request)

        return FleetLedger(uri, SparkEngine(master))
    raise InvalidParameter("engine", f"must be duckdb or spark, got {engine!r}")


__all__ = [
    "DEFAULT_REFRESH_SECONDS",
    "WINDOWED_TABLES",
    "FleetLedger",
    "for_window",
    "in_days",
    "last_days",
    "open_fleet",
    "read_manifests",
    "window_days",
]
