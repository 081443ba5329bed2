"""Follow: keep the ledger up to date with a live source, one step at a time.

A step reads the clock once and then, in order: (1) costs every closed hour within ``backfill`` of now that the
ledger lacks or holds only provisionally, oldest first, and (2) costs the current, still-open hour and writes it
marked provisional. The order matters: the hour that has just closed was provisional in the previous step, so (1)
rewrites it as final before (2) moves the provisional mark to the new hour. Resuming after a restart is the same
step: the ledger's coverage says which hours are missing.

A provisional write is an ordinary ledger write whose run record (``ingest_runs.warnings``) holds the marker
:data:`PROVISIONAL`; an hour is final when the run that last wrote it does not. A source failure
(``SourceUnavailable``) leaves the hours of the failing fetch unwritten; the step reports it and the next step
retries them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.engine import compute
from kubetally.errors import InvalidParameter, SourceUnavailable
from kubetally.ingest.backfill import DEFAULT_CHUNK, HOUR, hour_chunks
from kubetally.ledger import PROVISIONAL, Ledger, RunInfo
from kubetally.sources import HistorySource

Clock = Callable[[], datetime]
HourRange = tuple[datetime, datetime]


def floor_hour(instant: datetime) -> datetime:
    """The start of the UTC hour holding ``instant``."""
    if instant.tzinfo is None:
        raise InvalidParameter("clock", f"{instant.isoformat()} has no time zone; the clock must return aware times")
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def final_coverage(ledger: Ledger) -> pl.DataFrame:
    """The ``(cluster, hour)`` buckets whose last write was final (not marked :data:`PROVISIONAL`)."""
    return (
        ledger.coverage().join(ledger.provisional_hours(), on=["cluster", "hour"], how="anti").select("cluster", "hour")
    )


def missing_hours(
    ledger: Ledger, cluster_names: Sequence[str] | None, start: datetime, end: datetime
) -> list[HourRange]:
    """The ``[a, b)`` runs of whole hours in ``[start, end)`` that some cluster lacks as final in the ledger.

    ``cluster_names`` None means the clusters the ledger already holds; with none at all, every hour is missing.
    A provisional hour counts as missing.
    """
    first, stop = floor_hour(start), floor_hour(end)
    if stop <= first:
        return []
    names = list(cluster_names) if cluster_names is not None else list(ledger.clusters())
    hours = pl.datetime_range(first, stop - HOUR, interval="1h", time_zone="UTC", eager=True).dt.cast_time_unit("us")
    if not names:
        lacking = hours
    else:
        final = final_coverage(ledger).filter(pl.col("cluster").is_in(names))
        counts = final.group_by("hour").agg(pl.col("cluster").n_unique().alias("clusters"))
        complete = counts.filter(pl.col("clusters") == len(set(names))).get_column("hour")
        lacking = hours.filter(~hours.is_in(complete.implode()))
    return _runs(lacking.to_list())


def _runs(hours: list[datetime]) -> list[HourRange]:
    """Consecutive hours merged into ``[a, b)`` ranges."""
    ranges: list[HourRange] = []
    for hour in hours:
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + HOUR)
        else:
            ranges.append((hour, hour + HOUR))
    return ranges


@dataclass(frozen=True)
class FollowReport:
    """What one step did. ``failures`` name the ranges a source failure left unwritten (retried next step)."""

    now: datetime
    hours_written: int
    """Closed hours written as final in this step."""
    provisional_hour: datetime | None
    """The open hour written provisionally, or None when that write failed."""
    failures: tuple[str, ...]
    latest_final_end: datetime | None
    """The end of the latest final hour in the ledger after the step (the ingest lag is ``now`` minus this)."""
    warnings: tuple[str, ...] = ()
    """The degraded inputs the source reported for this step's fetches, once each."""
    written_span: tuple[datetime, datetime] | None = None
    """From the first to the end of the last closed hour written in this step; None when none was."""


class Follower:
    """Costs a live source into the ledger as hours close; :meth:`step` is called on an interval."""

    def __init__(
        self,
        source: HistorySource,
        ledger: Ledger,
        prices: PriceBook,
        policy: BillingPolicy,
        *,
        backfill: timedelta,
        clock: Clock,
        chunk: timedelta = DEFAULT_CHUNK,
    ) -> None:
        if backfill < timedelta(0):
            raise InvalidParameter("backfill", f"must not be negative, got {backfill}")
        if chunk < HOUR:
            raise InvalidParameter("chunk", f"must be at least one hour, got {chunk}")
        self.source = source
        self.ledger = ledger
        self.prices = prices
        self.policy = policy
        self.backfill = backfill
        self.clock = clock
        self.chunk = chunk
        self._clusters: set[str] = set(ledger.clusters())

    def step(self) -> FollowReport:
        """Backfill and finalise the closed hours, then write the open hour provisionally."""
        now = self.clock()
        current = floor_hour(now)
        failures: list[str] = []
        warnings: dict[str, None] = {}
        written = 0
        spans: list[tuple[datetime, datetime]] = []
        names = sorted(self._clusters) if self._clusters else None
        for start, end in missing_hours(self.ledger, names, now - self.backfill, current):
            for chunk_start, chunk_end in hour_chunks(start, end, self.chunk):
                if self._write(chunk_start, chunk_end, failures, warnings, provisional=False):
                    written += int((chunk_end - chunk_start) / HOUR)
                    spans.append((chunk_start, chunk_end))
        provisional = current if self._write(current, current + HOUR, failures, warnings, provisional=True) else None
        span = (spans[0][0], spans[-1][1]) if spans else None
        return FollowReport(
            now, written, provisional, tuple(failures), self._latest_final_end(), tuple(warnings), written_span=span
        )

    def _write(
        self, start: datetime, end: datetime, failures: list[str], warnings: dict[str, None], *, provisional: bool
    ) -> bool:
        """Fetch, cost and write ``[start, end)``; False (and a failure noted) when the source failed."""
        try:
            history = self.source.fetch(start, end)
        except SourceUnavailable as exc:
            failures.append(f"{start.isoformat()}–{end.isoformat()}: {exc.message}")
            return False
        if not history.clusters:
            return False
        result = compute(history, self.prices, self.policy)
        degraded = tuple(self.source.warnings)
        warnings.update(dict.fromkeys(degraded))
        run = RunInfo(self.source.name, (*degraded, PROVISIONAL) if provisional else degraded)
        self.ledger.write(result, clusters=history.clusters, start=start, end=end, run=run)
        self._clusters.update(history.clusters)
        return True

    def _latest_final_end(self) -> datetime | None:
        final = final_coverage(self.ledger)
        if final.is_empty():
            return None
        latest: datetime = final.get_column("hour").max()  # type: ignore[assignment]
        return latest + HOUR
