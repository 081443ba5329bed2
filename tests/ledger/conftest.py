from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from kubetally.costs import COST_SCHEMAS
from kubetally.ledger import Ledger


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.duckdb"


def stored(ledger: Ledger, table: str, where: str = "") -> pl.DataFrame:
    """Every row of ``table`` (optionally filtered), in a total order."""
    return ledger.fetch(f"SELECT * FROM {table} {where} ORDER BY ALL")


def snapshot(ledger: Ledger) -> dict[str, pl.DataFrame]:
    """The contents of every table a CostResult is written to."""
    return {table: stored(ledger, table) for table in COST_SCHEMAS}


def in_order(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` sorted the way ``ORDER BY ALL`` sorts the ledger's copy (every scalar column, in order)."""
    keys = [c for c, t in frame.schema.items() if not isinstance(t, pl.List)]
    return frame.sort(keys, nulls_last=True)
