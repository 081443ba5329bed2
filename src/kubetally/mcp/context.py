"""What the MCP tools answer from: the ledger, the clock, the query cache and the caller's scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from kubetally.domain.window import Window
from kubetally.errors import InvalidWindow
from kubetally.ledger.fleet import FleetLedger
from kubetally.query.allocation import Reader
from kubetally.query.cache import QueryCache
from kubetally.query.scope import UNRESTRICTED, Scope

DEFAULT_MAX_WINDOW_DAYS = 400.0


class Caller(Protocol):
    """Who calls a tool: a name and the scope it may see (``kubetally.api.auth.Identity`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def scope(self) -> Scope: ...


@dataclass(frozen=True)
class LocalCaller:
    """The caller of a local (stdio) server: unrestricted."""

    name: str = "local"
    scope: Scope = UNRESTRICTED


@dataclass(frozen=True)
class Backend:
    """The ledger (``reader()`` raises LedgerError when it is not open), "now", the cache, the window limit and the
    currency."""

    reader: Callable[[], Reader]
    clock: Callable[[], datetime]
    cache: QueryCache
    max_window_days: float = DEFAULT_MAX_WINDOW_DAYS
    currency: str = "USD"
    """The price book's ``currencyCode``: every amount a tool returns is in it."""

    def reader_for(self, window: Window) -> Reader:
        """The reader of a query bounded by ``window``: on a fleet, the store listing only the window's days
        (docs/fleet.md, "Partition pruning"); a ledger file itself."""
        reader = self.reader()
        return reader.windowed(window.start, window.end) if isinstance(reader, FleetLedger) else reader

    def check_window(self, window: Window) -> None:
        """InvalidWindow when ``window`` is longer than :attr:`max_window_days`."""
        if window.duration > timedelta(days=self.max_window_days):
            days = window.duration / timedelta(days=1)
            raise InvalidWindow(f"the window spans {days:g} days; at most {self.max_window_days:g} days are allowed")


__all__ = ["DEFAULT_MAX_WINDOW_DAYS", "Backend", "Caller", "LocalCaller"]
