"""Publishing: a ledger's closed hours written to a fleet dataset as Parquet, one compacted file per partition.

Each ``(table, cluster, UTC day)`` becomes one Parquet file (zstd, rows sorted by the table's key so that row-group
statistics prune hour ranges) and one manifest (see :mod:`kubetally.ledger.fleet_layout`). A partition is encoded
in memory first; when its content hash equals the published manifest's, nothing is written (re-publishing an
unchanged ledger writes zero bytes). Otherwise the data file is written under a temporary name and renamed to its
content-addressed name, the manifest is written the same way and renamed over the previous one (the commit point),
and only then are the partition's older files removed. A publication killed at any point therefore leaves every
partition readable as it was or as it is now; the next publication completes it.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from kubetally.errors import LedgerError
from kubetally.ledger.fleet_layout import MANIFEST, PUBLISHED, Manifest, PublishedTable, partition_dir
from kubetally.ledger.schema import SCHEMA_VERSION, TABLES, quote_identifier
from kubetally.ledger.store import Ledger

Hook = Callable[[str], None]
"""Called with ``data:<partition>`` after a data file is in place and ``manifest:<partition>`` after its manifest
is: a seam for tests that kill a publication at a known point."""


@dataclass
class PublishReport:
    """What one publication did."""

    partitions_written: int = 0
    partitions_unchanged: int = 0
    rows_written: int = 0
    bytes_written: int = 0
    rows_by_table: dict[str, int] = field(default_factory=dict)


def fleet_filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and root path of a fleet URI: a local path, ``file://`` or ``s3://bucket/prefix``."""
    if "://" not in uri:
        uri = str(Path(uri).resolve())
    try:
        filesystem, root = pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise LedgerError(f"fleet location {uri!r} cannot be opened: {exc}") from exc
    return filesystem, root.rstrip("/")


def publish(
    ledger: Ledger, uri: str, *, now: datetime, cluster: str | None = None, hook: Hook | None = None
) -> PublishReport:
    """Publish every closed hour of ``ledger`` (hours before the start of ``now``'s hour) to the fleet at ``uri``.

    ``cluster`` names the partitions of the cloud tables, which have no cluster column (default: the ledger's
    only cluster).
    """
    filesystem, root = fleet_filesystem(uri)
    cutoff = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    report = PublishReport()
    generation = ledger.generation
    for table in PUBLISHED:
        label = cluster if table.cluster_column is not None else _cloud_cluster(ledger, cluster)
        for name, day in _partitions(ledger, table, label, cutoff):
            data = _partition_table(ledger, table, name, day, cutoff)
            target = _Target(filesystem, root, table.name, name, day)
            written = target.publish(data, generation, now, hook)
            report.rows_by_table[table.name] = report.rows_by_table.get(table.name, 0) + data.num_rows
            if written:
                report.partitions_written += 1
                report.rows_written += data.num_rows
                report.bytes_written += written
            else:
                report.partitions_unchanged += 1
    return report


def _cloud_cluster(ledger: Ledger, cluster: str | None) -> str:
    if cluster is not None:
        return cluster
    clusters = ledger.clusters()
    if len(clusters) == 1:
        return clusters[0]
    if not clusters:
        return "unknown"
    raise LedgerError(f"ledger {ledger.path} holds clusters {list(clusters)}: name the cloud bill's cluster")


def _where(table: PublishedTable) -> str:
    return f"WHERE {table.closed_sql}" if table.closed_sql else ""


def _params(table: PublishedTable, cutoff: datetime, **extra: object) -> dict[str, object]:
    return {**({"cutoff": cutoff} if table.closed_sql else {}), **extra}


def _partitions(ledger: Ledger, table: PublishedTable, label: str | None, cutoff: datetime) -> list[tuple[str, str]]:
    """The ``(cluster, YYYY-MM-DD)`` partitions of ``table`` holding closed rows."""
    cluster_sql = table.cluster_column if table.cluster_column is not None else "$label"
    extra = {} if table.cluster_column is not None else {"label": label}
    sql = (
        f"SELECT DISTINCT {cluster_sql} AS cluster, CAST({table.day_sql} AS VARCHAR) AS day "
        f"FROM {table.relation} {_where(table)} ORDER BY 1, 2"
    )
    frame = ledger.fetch(sql, _params(table, cutoff, **extra))
    return [(str(c), str(d)) for c, d in frame.iter_rows()]


def _partition_table(ledger: Ledger, table: PublishedTable, cluster: str, day: str, cutoff: datetime) -> pa.Table:
    """One partition's rows, every column of the ledger table, in a total order (so equal rows give equal bytes)."""
    schema = TABLES[table.name].schema
    columns = ", ".join(quote_identifier(c) for c in schema)
    order = ", ".join(quote_identifier(c) for c, t in schema.items() if not t.is_nested())
    conditions = [f"{table.day_sql} = CAST($day AS DATE)"]
    if table.closed_sql:
        conditions.append(table.closed_sql)
    if table.cluster_column is not None:
        conditions.append(f"{table.cluster_column} = $cluster")
    sql = f"SELECT {columns} FROM {table.relation} WHERE {' AND '.join(conditions)} ORDER BY {order}"
    extra: dict[str, object] = {"day": date.fromisoformat(day).isoformat()}
    if table.cluster_column is not None:
        extra["cluster"] = cluster
    result: pa.Table = ledger.fetch_arrow(sql, _params(table, cutoff, **extra))
    return result


@dataclass(frozen=True)
class _Target:
    """One partition of the fleet: where its files go and how they are replaced."""

    filesystem: pafs.FileSystem
    root: str
    table: str
    cluster: str
    day: str

    @property
    def directory(self) -> str:
        return f"{self.root}/{partition_dir(self.table, self.cluster, self.day)}"

    def publish(self, data: pa.Table, generation: int, now: datetime, hook: Hook | None) -> int:
        """Write the partition unless it is unchanged; the bytes written (0 when unchanged)."""
        buffer = io.BytesIO()
        pq.write_table(data, buffer, compression="zstd")
        body = buffer.getvalue()
        digest = hashlib.sha256(body).hexdigest()
        current = self._manifest()
        if current is not None and current.sha256 == digest:
            return 0
        manifest = Manifest(
            table=self.table,
            cluster=self.cluster,
            date=self.day,
            file=f"part-{digest[:16]}.parquet",
            rows=data.num_rows,
            size_bytes=len(body),
            sha256=digest,
            columns=tuple(data.column_names),
            ledger_schema_version=SCHEMA_VERSION,
            ledger_generation=generation,
            published_at=now.astimezone(UTC).isoformat(),
        )
        self.filesystem.create_dir(self.directory, recursive=True)
        self._put(manifest.file, body)
        _call(hook, f"data:{manifest.directory}")
        encoded = manifest.to_json()
        self._put(MANIFEST, encoded)
        _call(hook, f"manifest:{manifest.directory}")
        self._remove_others(manifest.file)
        return len(body) + len(encoded)

    def _manifest(self) -> Manifest | None:
        path = f"{self.directory}/{MANIFEST}"
        if self.filesystem.get_file_info(path).type == pafs.FileType.NotFound:
            return None
        with self.filesystem.open_input_stream(path) as stream:
            return Manifest.from_json(stream.read(), path)

    def _put(self, name: str, body: bytes) -> None:
        """Write ``name`` atomically: under a temporary name first, then renamed."""
        temporary = f"{self.directory}/.tmp-{uuid.uuid4().hex}"
        with self.filesystem.open_output_stream(temporary) as stream:
            stream.write(body)
        self.filesystem.move(temporary, f"{self.directory}/{name}")

    def _remove_others(self, keep: str) -> None:
        """Remove the partition's data files no manifest names (older versions, interrupted writes)."""
        for info in self.filesystem.get_file_info(pafs.FileSelector(self.directory)):
            if info.base_name not in (keep, MANIFEST):
                self.filesystem.delete_file(info.path)


def _call(hook: Hook | None, step: str) -> None:
    if hook is not None:
        hook(step)
