"""The fleet dataset: the published tables, their Hive layout, and the manifest that makes a partition visible.

A fleet is a directory (or bucket prefix) of Parquet files, one per ``(table, cluster, UTC day)``::

    <table>/cluster=<cluster>/date=<YYYY-MM-DD>/part-<sha256[:16]>.parquet
    <table>/cluster=<cluster>/date=<YYYY-MM-DD>/manifest.json

The data file is named by its content hash, and the manifest naming it is written last (under a temporary name,
then renamed over the previous one), so a reader that follows manifests sees each partition either as it was or
as it is after a publication, never half-written. A data file no manifest names is invisible (an interrupted
publication's leftover) and is removed by the next publication of its partition.

Files keep every column of their ledger table (``cluster`` included): the Hive directories let other engines
(Spark, Trino, Athena) discover and prune the dataset, while kubetally's fleet store reads exactly the files the
manifests name.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from kubetally.errors import LedgerError

FLEET_FORMAT = 1
"""The version of this layout and manifest; a newer one is refused by readers."""

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PublishedTable:
    """A ledger table as published: the column whose UTC day partitions it, and its cluster column."""

    name: str
    day_sql: str
    """SQL giving a row's partition day (``DATE``) in the ledger."""
    cluster_column: str | None
    """The table's cluster column; ``None`` for cloud tables, which go under the publisher's cluster name."""
    closed_sql: str | None
    """SQL that is true for rows of closed hours, given ``$cutoff`` (the start of the current hour)."""
    source: str = ""
    """The relation read (the table itself when empty)."""

    @property
    def relation(self) -> str:
        return self.source or self.name


def _utc_day(column: str) -> str:
    return f"CAST(timezone('UTC', {column}) AS DATE)"


_PODS = (
    "(SELECT p.*, f.first_hour FROM pods p JOIN (SELECT cluster AS c, pod_uid AS u, min(hour) AS first_hour "
    "FROM allocations GROUP BY ALL) f ON p.cluster = f.c AND p.pod_uid = f.u)"
)

PUBLISHED: tuple[PublishedTable, ...] = (
    PublishedTable("allocations", _utc_day("hour"), "cluster", "hour < $cutoff"),
    PublishedTable("allocations_daily", _utc_day("day"), "cluster", "last_hour < $cutoff"),
    PublishedTable("allocation_pvs", _utc_day("hour"), "cluster", "hour < $cutoff"),
    PublishedTable("allocation_lbs", _utc_day("hour"), "cluster", "hour < $cutoff"),
    PublishedTable("assets", _utc_day("hour"), "cluster", "hour < $cutoff"),
    PublishedTable("hour_coverage", _utc_day("hour"), "cluster", "hour < $cutoff"),
    PublishedTable("pods", _utc_day("first_hour"), "cluster", "first_hour < $cutoff", _PODS),
    PublishedTable("ingest_runs", _utc_day('"start"'), "cluster", None),
    PublishedTable("cloud_costs", _utc_day('"ChargePeriodStart"'), None, None),
    PublishedTable("cloud_usage", _utc_day('"timestamp"'), None, None),
    PublishedTable("cloud_sources", _utc_day("last_ingest"), None, None),
)
"""Every published table. Pods have no time column: each pod goes in the partition of its first allocation hour
(pods without allocation rows are not published).
``allocations_daily`` rows whose last hour is still open wait for the next publication."""

PUBLISHED_BY_NAME: dict[str, PublishedTable] = {table.name: table for table in PUBLISHED}


def partition_dir(table: str, cluster: str, day: str) -> str:
    """The partition's directory, relative to the fleet root."""
    return f"{table}/cluster={cluster}/date={day}"


@dataclass(frozen=True)
class Manifest:
    """What a partition holds: its file, rows, bytes and content hash, and the ledger it came from."""

    table: str
    cluster: str
    date: str
    file: str
    rows: int
    size_bytes: int
    sha256: str
    columns: tuple[str, ...]
    ledger_schema_version: int
    ledger_generation: int
    published_at: str
    fleet_format: int = FLEET_FORMAT

    @property
    def directory(self) -> str:
        return partition_dir(self.table, self.cluster, self.date)

    @property
    def path(self) -> str:
        """The data file, relative to the fleet root."""
        return f"{self.directory}/{self.file}"

    def to_json(self) -> bytes:
        body = asdict(self)
        body["columns"] = list(self.columns)
        return json.dumps(body, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes, where: str) -> Manifest:
        """Decode a manifest; LedgerError naming ``where`` when it is not one this version reads."""
        try:
            body: dict[str, Any] = json.loads(data)
            if int(body.get("fleet_format", 0)) > FLEET_FORMAT:
                raise LedgerError(f"fleet manifest {where} has format {body['fleet_format']}, newer than this reader")
            body["columns"] = tuple(body["columns"])
            return cls(**body)
        except (ValueError, TypeError, KeyError) as exc:
            raise LedgerError(f"fleet manifest {where} cannot be read: {exc}") from exc
