"""The query layer: AllocationQuery / AssetQuery answered from the ledger in OpenCost's shapes.

See docs/query.md for the semantics (idle, sharing, steps, filters) and the fixture the tests use.
"""

from kubetally.query.allocation import run_allocation
from kubetally.query.assets import run_assets
from kubetally.query.invariant import InvariantReport, check_invariant
from kubetally.query.params import MAX_SETS, AllocationQuery, AssetQuery, IdleMode, ShareSplit, SplitMethod

__all__ = [
    "MAX_SETS",
    "AllocationQuery",
    "AssetQuery",
    "IdleMode",
    "InvariantReport",
    "ShareSplit",
    "SplitMethod",
    "check_invariant",
    "run_allocation",
    "run_assets",
]
