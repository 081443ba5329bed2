"""Ingest: which hours → fetch → compute → write, chunk by chunk.

The order matters: a chunk is fetched whole before it is costed, and written in one ledger transaction only after
it was costed, so a failure at any step leaves the ledger's earlier hours as they were and writes no part of the
failing chunk. Re-ingesting the same hours replaces them with identical rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.engine import compute
from kubetally.errors import InvalidParameter
from kubetally.ledger import Ledger, RunInfo
from kubetally.sources import HistorySource

HOUR = timedelta(hours=1)
DEFAULT_CHUNK = timedelta(hours=24)

Progress = Callable[[int, int], None]
"""Called with (hours done, hours in all) after each chunk."""


@dataclass(frozen=True)
class IngestReport:
    """What an ingest wrote, for the CLI and the run records."""

    source: str
    start: datetime
    end: datetime
    clusters: tuple[str, ...]
    hours_written: int
    allocation_rows: int
    workload_rows: int
    containers: int
    asset_rows: int
    asset_cost: float
    seconds: float
    warnings: tuple[str, ...] = field(default=())


def hour_chunks(start: datetime, end: datetime, chunk: timedelta) -> list[tuple[datetime, datetime]]:
    """Consecutive ``[a, b)`` ranges of at most ``chunk`` covering ``[start, end)``."""
    if start >= end:
        raise InvalidParameter("end", f"end {end.isoformat()} must be after start {start.isoformat()}")
    chunks = []
    cursor = start
    while cursor < end:
        stop = min(cursor + chunk, end)
        chunks.append((cursor, stop))
        cursor = stop
    return chunks


def ingest(
    source: HistorySource,
    ledger: Ledger,
    *,
    prices: PriceBook,
    policy: BillingPolicy,
    start: datetime,
    end: datetime,
    chunk: timedelta = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> IngestReport:
    """Cost ``[start, end)`` (whole hours) from ``source`` and write it into ``ledger``."""
    began = time.perf_counter()
    chunks = hour_chunks(start, end, chunk)
    total_hours = int((end - start) / HOUR)
    done_hours = 0
    clusters: set[str] = set()
    containers: set[tuple[str, str, str]] = set()
    allocation_rows = workload_rows = asset_rows = 0
    asset_cost = 0.0
    warnings: dict[str, None] = {}
    for chunk_start, chunk_end in chunks:
        history = source.fetch(chunk_start, chunk_end)
        result = compute(history, prices, policy)
        chunk_clusters = history.clusters
        chunk_warnings = tuple(source.warnings)
        warnings.update(dict.fromkeys(chunk_warnings))
        ledger.write(
            result,
            clusters=chunk_clusters,
            start=chunk_start,
            end=chunk_end,
            run=RunInfo(source=source.name, warnings=chunk_warnings),
        )
        clusters.update(chunk_clusters)
        workloads = result.allocations.filter(kind="workload")
        containers.update(workloads.select("cluster", "pod_uid", "container").unique().iter_rows())
        allocation_rows += result.allocations.height
        workload_rows += workloads.height
        asset_rows += result.assets.height
        asset_cost += float(result.assets.get_column("total_cost").sum())
        done_hours += int((chunk_end - chunk_start) / HOUR)
        if progress is not None:
            progress(done_hours, total_hours)
    return IngestReport(
        source=source.name,
        start=start,
        end=end,
        clusters=tuple(sorted(clusters)),
        hours_written=total_hours,
        allocation_rows=allocation_rows,
        workload_rows=workload_rows,
        containers=len(containers),
        asset_rows=asset_rows,
        asset_cost=asset_cost,
        seconds=time.perf_counter() - began,
        warnings=tuple(warnings),
    )
