"""Terminal and CSV rendering of OpenCost-shaped results (rendering only: the numbers come from the query layer)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

AllocationSets = Sequence[Mapping[str, Mapping[str, Any]]]

ALLOCATION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("CPU", "cpuCost"),
    ("GPU", "gpuCost"),
    ("RAM", "ramCost"),
    ("PV", "pvCost"),
    ("Network", "networkCost"),
    ("LB", "loadBalancerCost"),
    ("Shared", "sharedCost"),
    ("Total", "totalCost"),
)
"""(header, OpenCost field) of the cost columns shown by ``kubetally allocation``."""

ASSET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Type", "type"),
    ("Hours", "minutes"),
    ("Adjustment", "adjustment"),
    ("Total", "totalCost"),
)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _name_width(item_set: Mapping[str, Any]) -> int:
    """Room for the longest name (up to 48 characters), so narrow terminals shrink the numbers, not the names."""
    return min(48, max((len(name) for name in item_set), default=4))


def _window_title(item: Mapping[str, Any]) -> str:
    return f"{item.get('start', '')} → {item.get('end', '')}"


def allocation_tables(sets: AllocationSets) -> list[Table]:
    """One rich table per set, rows by descending total cost, with a totals line."""
    tables = []
    for allocation_set in sets:
        rows = sorted(allocation_set.values(), key=lambda item: -_number(item.get("totalCost")))
        title = _window_title(rows[0]) if rows else "empty set"
        table = Table(title=title, title_justify="left", show_footer=True)
        table.add_column("Name", footer="Total", no_wrap=True, min_width=_name_width(allocation_set))
        for header, field in ALLOCATION_COLUMNS:
            total = sum(_number(item.get(field)) for item in rows)
            table.add_column(header, justify="right", footer=f"{total:,.2f}")
        table.add_column("Efficiency", justify="right")
        for item in rows:
            efficiency = item.get("totalEfficiency")
            table.add_row(
                str(item.get("name", "")),
                *(f"{_number(item.get(field)):,.2f}" for _, field in ALLOCATION_COLUMNS),
                "—" if efficiency is None else f"{_number(efficiency):.0%}",
            )
        tables.append(table)
    return tables


def asset_tables(sets: AllocationSets) -> list[Table]:
    """One rich table per set, assets by descending total cost, with a totals line."""
    tables = []
    for asset_set in sets:
        items = sorted(asset_set.items(), key=lambda kv: -_number(kv[1].get("totalCost")))
        rows = [item for _, item in items]
        table = Table(title=_window_title(rows[0]) if rows else "empty set", title_justify="left", show_footer=True)
        table.add_column("Name", footer="Total", no_wrap=True, min_width=_name_width(asset_set))
        table.add_column("Type")
        table.add_column("Hours", justify="right")
        table.add_column("Adjustment", justify="right")
        total = sum(_number(item.get("totalCost")) for item in rows)
        table.add_column("Total", justify="right", footer=f"{total:,.2f}")
        for key, item in items:
            table.add_row(
                key,
                str(item.get("type", "")),
                f"{_number(item.get('minutes')) / 60:,.1f}",
                f"{_number(item.get('adjustment')):,.2f}",
                f"{_number(item.get('totalCost')):,.2f}",
            )
        tables.append(table)
    return tables


def to_csv(sets: AllocationSets, columns: Sequence[tuple[str, str]]) -> str:
    """Every row of every set as CSV: window start and end, name, then the given fields."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["start", "end", "name", *(field for _, field in columns)])
    for item_set in sets:
        for name, item in item_set.items():
            writer.writerow([item.get("start"), item.get("end"), name, *(item.get(field) for _, field in columns)])
    return buffer.getvalue()


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False)


def print_tables(console: Console, tables: Sequence[Table]) -> None:
    """Print each table at its natural width: on a narrow terminal lines wrap, but no number is ever cut."""
    for table in tables:
        natural = Measurement.get(console, console.options.update(width=10_000), table).maximum
        if natural <= console.width:
            console.print(table)
        else:
            Console(file=console.file, width=natural, force_terminal=console.is_terminal).print(table)
