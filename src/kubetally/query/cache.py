"""QueryCache: answers of allocation and asset queries kept between requests, valid while their window is unchanged.

Written hours only change when an ingest rewrites them, and every write stamps the ``(cluster, hour)`` buckets it
replaces in ``hour_coverage`` with a new, larger ``generation``. The *version* of a window is therefore
``(max(generation), count(*))`` of its coverage rows: any write into the window (a rewrite, a provisional hour
written again or made final, a new cluster, a first write of a not-yet-covered hour) changes it, and writes of
other hours do not. One tiny SQL query reads it before every lookup.

An entry is the answer to one normalised query together with the version it was computed at; a lookup whose
version differs recomputes and replaces it. Windows holding provisional (still-open) or uncovered hours are cached
too: their next write changes the version, so an entry never outlives the data it was computed from. An answer is
stored only when the version read after computing equals the one read before, so a write that lands during the
computation is never hidden behind an old version.

One known gap: the ``pods`` dimension (labels, annotations, controller) is replaced per pod by the latest write of
any of the pod's hours, and the ledger records no generation for it, so a write outside the window that changes a
pod's properties is not seen by an entry computed before it (until the window itself is written again or the
entry is evicted).

Cached answers are shared between callers: they must not be mutated (serialising them is fine).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

from kubetally.domain.window import Window
from kubetally.errors import InvalidParameter
from kubetally.query.allocation import AllocationSet, Reader, run_allocation
from kubetally.query.assets import run_assets
from kubetally.query.budget import answer_bytes, check_allocation_size
from kubetally.query.params import AllocationQuery, AssetKey, AssetQuery

AssetSet = dict[str, dict[str, Any]]

VERSION_SQL = (
    "SELECT max(generation) AS generation, count(*) AS buckets FROM hour_coverage WHERE hour >= ? AND hour < ?"
)
"""The version of a window: the newest write of any of its buckets, and how many buckets are covered."""

WindowVersion = tuple[int | None, int]
"""``(newest generation, covered buckets)`` of a window; ``(None, 0)`` when nothing in it was written."""

_T = TypeVar("_T")


def window_version(reader: Reader, window: Window) -> WindowVersion:
    """The current version of ``window``'s hour buckets in the ledger ``reader`` reads."""
    generation, buckets = reader.fetch(VERSION_SQL, [window.start, window.end]).row(0)
    return (None if generation is None else int(generation)), int(buckets)


def asset_cache_key(query: AssetQuery) -> AssetQuery:
    """``query`` with its aggregate keys spelled canonically (``Type`` and ``type`` read the same column)."""
    keys = tuple(
        AssetKey(
            key.column or (f"label:{key.label}" if key.label is not None else key.name.lower()), key.column, key.label
        )
        for key in query.aggregate
    )
    return replace(query, aggregate=keys)


@dataclass(frozen=True)
class CacheStats:
    """Counters of one cache since it was built (or cleared)."""

    hits: int
    misses: int
    entries: int
    max_entries: int
    bytes: int = 0
    """What the kept answers are counted as (see :func:`kubetally.query.budget.answer_bytes`)."""


@dataclass(frozen=True)
class _Entry:
    version: WindowVersion
    data: object
    size: int = 0


class QueryCache:
    """A thread-safe LRU cache of ``run_allocation`` / ``run_assets`` answers, at most ``max_entries`` of them.

    Use one cache per ledger: versions of different ledger files are not comparable. Concurrent misses for the
    same query and version compute once; the other callers wait for that answer.
    """

    def __init__(
        self,
        max_entries: int = 256,
        *,
        max_bytes: int | None = None,
        max_entry_bytes: int | None = None,
        max_query_rows: int | None = None,
    ) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise InvalidParameter("max_entries", f"invalid value {max_entries!r}; expected a whole number >= 1")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        """Answers kept are counted as at most this many bytes (least recently used dropped first)."""
        self._max_entry_bytes = max_entry_bytes
        """Answers counted as more are answered but not kept."""
        self._max_query_rows = max_query_rows
        """Allocation queries asking for more rows are refused (400) before any work."""
        self._bytes = 0
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._inflight: dict[tuple[Hashable, WindowVersion], threading.Lock] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def allocation(self, reader: Reader, query: AllocationQuery) -> list[AllocationSet]:
        """``run_allocation(reader, query)``, from the cache while the query's window is unchanged; InvalidParameter
        when the query asks for more rows than ``max_query_rows``.

        The size is estimated on a miss only, and a refusal is cached like an answer: neither a cached answer nor
        a repeated oversized query pays for the estimate again."""
        limit = self._max_query_rows

        def compute() -> list[AllocationSet] | InvalidParameter:
            if limit is not None:
                try:
                    check_allocation_size(reader, query, limit)
                except InvalidParameter as refused:
                    return refused
            return run_allocation(reader, query)

        answer = self._answer(reader, ("allocation", query), query.window, compute)
        if isinstance(answer, InvalidParameter):
            raise InvalidParameter(answer.parameter, answer.message.removeprefix(f"{answer.parameter}: "))
        return answer

    def assets(self, reader: Reader, query: AssetQuery) -> list[AssetSet]:
        """``run_assets(reader, query)``, from the cache while the query's window is unchanged."""
        key = ("assets", asset_cache_key(query))
        return self._answer(reader, key, query.window, lambda: run_assets(reader, query))

    @property
    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._entries), self._max_entries, self._bytes)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._hits = self._misses = 0

    def _answer(self, reader: Reader, key: Hashable, window: Window, compute: Callable[[], _T]) -> _T:
        version = window_version(reader, window)
        with self._lock:
            found = self._lookup(key, version)
            if found is not None:
                return cast(_T, found.data)
            flight = self._inflight.setdefault((key, version), threading.Lock())
        with flight:
            with self._lock:
                found = self._lookup(key, version)
                if found is not None:
                    return cast(_T, found.data)
                self._misses += 1
            try:
                data = compute()
                if window_version(reader, window) == version:
                    self._store(key, _Entry(version, data, answer_bytes(data)))
            finally:
                with self._lock:
                    self._inflight.pop((key, version), None)
        return data

    def _lookup(self, key: Hashable, version: WindowVersion) -> _Entry | None:
        """The entry of ``key`` at ``version`` (counted as a hit and made most recent); call with the lock held."""
        entry = self._entries.get(key)
        if entry is None or entry.version != version:
            return None
        self._entries.move_to_end(key)
        self._hits += 1
        return entry

    def _store(self, key: Hashable, entry: _Entry) -> None:
        if self._max_entry_bytes is not None and entry.size > self._max_entry_bytes:
            return
        with self._lock:
            current = self._entries.get(key)
            if current is not None and _newer(current.version, entry.version):
                return
            if current is not None:
                self._bytes -= current.size
            self._entries[key] = entry
            self._bytes += entry.size
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries or self._over_budget():
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size

    def _over_budget(self) -> bool:
        return self._max_bytes is not None and self._bytes > self._max_bytes and len(self._entries) > 0


def _newer(left: WindowVersion, right: WindowVersion) -> bool:
    """Whether ``left`` was read after ``right`` (generations only grow)."""
    return (left[0] or 0) > (right[0] or 0)


__all__ = ["VERSION_SQL", "CacheStats", "QueryCache", "WindowVersion", "asset_cache_key", "window_version"]
