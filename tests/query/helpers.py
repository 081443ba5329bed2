"""Query helpers for the tests: run a query on the fixture ledger and read totals."""

from __future__ import annotations

from typing import Any

from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, run_allocation
from tests.query.fixture import NOW, WINDOW


def allocation(ledger: Ledger, **params: str) -> list[dict[str, dict[str, Any]]]:
    query = AllocationQuery.from_params({"window": WINDOW, **params}, NOW)
    return run_allocation(ledger, query)


def totals(ledger: Ledger, field: str = "totalCost", **params: str) -> dict[str, float]:
    """``field`` per name of the single set of the query."""
    (only,) = allocation(ledger, **params)
    return {name: item[field] for name, item in only.items()}
