"""The engine's timing constants: seconds per hour, and the Polars engine every ``collect`` uses.

Hour buckets themselves are cut by :func:`kubetally.domain.hours.explode_hours`, shared with the sources."""

from __future__ import annotations

from typing import Final

SECONDS_PER_HOUR = 3600.0

ENGINE: Final = "in-memory"
"""The Polars engine of every ``collect`` in the engine: it sums each group in row order, so the same history
always gives bit-identical costs (the streaming engine's sums depend on thread scheduling)."""
