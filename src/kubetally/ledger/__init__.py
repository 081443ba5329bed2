"""The ledger: a DuckDB file of hour-bucket allocation and asset rows (see :mod:`kubetally.ledger.schema`)."""

from kubetally.ledger.adjustments import AdjustmentWrite
from kubetally.ledger.cloud import CloudWrite
from kubetally.ledger.store import PROVISIONAL, Ledger, RunInfo, WriteReport

__all__ = ["PROVISIONAL", "AdjustmentWrite", "CloudWrite", "Ledger", "RunInfo", "WriteReport"]
