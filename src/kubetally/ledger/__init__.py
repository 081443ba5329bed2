"""The ledger: a DuckDB file of hour-bucket allocation and asset rows (see :mod:`kubetally.ledger.schema`)."""

from kubetally.ledger.store import Ledger, RunInfo, WriteReport

__all__ = ["Ledger", "RunInfo", "WriteReport"]
