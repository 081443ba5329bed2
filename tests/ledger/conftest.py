from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.costs import COST_SCHEMAS
from kubetally.ledger import Ledger
from kubetally.ledger.rollup import rollup_select_sql
from kubetally.ledger.schema import ROLLUP


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


def assert_rollup_fresh(ledger: Ledger) -> None:
    """``allocations_daily`` equals a fresh aggregation of the hourly rows (sums up to their addition order)."""
    stored_rollup = ledger.fetch(f"SELECT * FROM {ROLLUP} ORDER BY ALL")
    fresh = ledger.fetch(f"SELECT * FROM ({rollup_select_sql('true')}) ORDER BY ALL")
    assert_frame_equal(stored_rollup, fresh, rel_tol=1e-12, abs_tol=1e-9)
