"""Sources turn the outside world into a ClusterHistory.

``simulator`` generates a realistic cluster; ``prometheus`` reads a real one. Nothing downstream knows which ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kubetally.history import ClusterHistory


class HistorySource(Protocol):
    """Anything that can describe the clusters over a range of whole hours."""

    @property
    def name(self) -> str:
        """A short description for ingest run records, e.g. ``simulator:demo`` or a Prometheus URL."""
        ...

    @property
    def warnings(self) -> Sequence[str]:
        """The inputs the last ``fetch`` found missing or degraded, once each (empty when all was there)."""
        ...

    def fetch(self, start: datetime, end: datetime) -> ClusterHistory:
        """The history of ``[start, end)`` (whole UTC hours)."""
        ...


@dataclass(frozen=True)
class StaticSource:
    """A source over a history already in memory (the simulator's)."""

    name: str
    history: ClusterHistory
    warnings: tuple[str, ...] = ()

    def fetch(self, start: datetime, end: datetime) -> ClusterHistory:
        return self.history.slice(start, end)
