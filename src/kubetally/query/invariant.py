"""The cost invariant, checked over the ledger: Σ assets = Σ allocations + Σ idle + Σ overhead."""

from __future__ import annotations

from dataclasses import dataclass

from kubetally.domain.window import Window
from kubetally.query.allocation import Reader

TOLERANCE = 1e-9
"""The largest relative error the invariant allows (floating-point accumulation only)."""

_SQL = """
WITH a AS (
  SELECT
    coalesce(sum(total_cost) FILTER (WHERE kind <> 'idle'), 0) AS allocations,
    coalesce(sum(total_cost) FILTER (WHERE kind = 'idle'), 0) AS idle,
    coalesce(min(total_cost) FILTER (WHERE kind = 'idle'), 0) AS min_idle
  FROM allocations WHERE hour >= ? AND hour < ?
), s AS (
  SELECT
    coalesce(sum(total_cost), 0) AS assets,
    coalesce(sum(total_cost) FILTER (WHERE type = 'ClusterManagement'), 0) AS overhead
  FROM assets WHERE hour >= ? AND hour < ?
)
SELECT s.assets, a.allocations, a.idle, s.overhead, a.min_idle FROM a, s
"""


@dataclass(frozen=True)
class InvariantReport:
    """The four sums of the invariant over a window (dollars), and whether they add up."""

    holds: bool
    """Relative error below :data:`TOLERANCE` and no negative idle row."""
    assets: float
    allocations: float
    """Workload and ``__unmounted__`` rows."""
    idle: float
    overhead: float
    """ClusterManagement assets."""
    relative_error: float
    """``|assets − (allocations + idle + overhead)| / assets`` (absolute error when assets are 0)."""


def check_invariant(ledger: Reader, window: Window) -> InvariantReport:
    """Check "every dollar adds up" over the hour buckets of ``window``, with one SQL query."""
    frame = ledger.fetch(_SQL, [window.start, window.end, window.start, window.end])
    assets, allocations, idle, overhead, min_idle = (float(v) for v in frame.row(0))
    error = abs(assets - (allocations + idle + overhead))
    relative = error / abs(assets) if assets else error
    return InvariantReport(
        holds=relative < TOLERANCE and min_idle >= 0,
        assets=assets,
        allocations=allocations,
        idle=idle,
        overhead=overhead,
        relative_error=relative,
    )
