"""The results the crash tests write: ``old`` first, then ``new`` or ``other`` over an overlapping range."""

from __future__ import annotations

from datetime import timedelta

from kubetally.costs import CostResult
from tests.ledger.builders import START, make_result

CLUSTERS = ("alpha", "beta")
OLD_START, OLD_END = START, START + timedelta(hours=24)
NEW_START, NEW_END = START + timedelta(hours=12), START + timedelta(hours=36)
PODS = 1500


def candidates() -> dict[str, CostResult]:
    """``old`` over hours 0-24, ``new`` and ``other`` (different values) over hours 12-36."""
    return {
        "old": make_result(CLUSTERS, OLD_START, 24, PODS, seed=1),
        "new": make_result(CLUSTERS, NEW_START, 24, PODS, seed=2),
        "other": make_result(CLUSTERS, NEW_START, 24, PODS, seed=3),
    }
