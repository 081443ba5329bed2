"""The cost engine: a pure, vectorised function from a ClusterHistory to cost rows (docs/cost-model.md)."""

from __future__ import annotations

from kubetally.engine.invariant import invariant_gap
from kubetally.engine.pipeline import compute

__all__ = ["compute", "invariant_gap"]
