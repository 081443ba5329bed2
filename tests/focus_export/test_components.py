"""The component table and its check: every ledger cost column is in one component, and a row whose components do
not add up to its total_cost is refused."""

from __future__ import annotations

import polars as pl
import pytest

from kubetally.costs import ALLOCATIONS
from kubetally.errors import LedgerError
from kubetally.query.focus_columns import COMPONENTS, COST_COLUMNS
from kubetally.query.focus_shape import check_components


def test_every_cost_column_of_the_ledger_is_in_exactly_one_component() -> None:
    charged = {
        name
        for name in ALLOCATIONS
        if name.endswith(("_cost", "_adjustment")) and name != "total_cost" and not name.startswith("network_")
    }
    charged.add("network_cost")
    assert charged == COST_COLUMNS
    columns = [column for component in COMPONENTS for column in component.costs]
    assert len(columns) == len(set(columns))


def _grouped(total: float) -> pl.DataFrame:
    costs = {f"cost_{c.name}": [1.0] for c in COMPONENTS}
    return pl.DataFrame({"kind": ["workload"], "cluster": ["c1"], **costs, "total_cost": [total]})


def test_components_that_do_not_add_up_are_refused() -> None:
    check_components(_grouped(float(len(COMPONENTS))))
    with pytest.raises(LedgerError, match="do not add up to their total_cost"):
        check_components(_grouped(len(COMPONENTS) + 0.01))
