"""The price sheet: a CSV of whole-node hourly prices by instance type, region and capacity type.

Columns (header required, names case-insensitive, order free, extra columns ignored):

``instance_type``
    the node's ``node.kubernetes.io/instance-type`` (e.g. ``m5.large``); required.
``region``
    the node's ``topology.kubernetes.io/region``; empty means any region (an exact region row wins).
``capacity_type``
    ``on_demand`` or ``spot``.
``price_per_hour``
    the node's total price in the pricing currency per hour, a number >= 0.

Line numbers in errors count the header as line 1.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import polars as pl

from kubetally.errors import InvalidPricing

COLUMNS = ("instance_type", "region", "capacity_type", "price_per_hour")
ON_DEMAND = "on_demand"
SPOT = "spot"
CAPACITY_TYPES = (ON_DEMAND, SPOT)

SheetKey = tuple[str, str, str]
"""(instance type, region or "" for any region, capacity type)."""


@dataclass(frozen=True)
class PriceSheet:
    """Whole-node hourly prices keyed by (instance type, region, capacity type)."""

    prices: Mapping[SheetKey, float] = field(default_factory=lambda: MappingProxyType({}))

    def price_per_hour(self, instance_type: str | None, region: str | None, spot: bool) -> float | None:
        """The node's price ($/h): the row for its region, else the any-region row, else None."""
        if not instance_type:
            return None
        capacity = SPOT if spot else ON_DEMAND
        exact = self.prices.get((instance_type, region or "", capacity))
        if exact is not None:
            return exact
        return self.prices.get((instance_type, "", capacity))

    def __len__(self) -> int:
        return len(self.prices)


def parse_price_sheet(frame: pl.DataFrame, where: str) -> PriceSheet:
    """A PriceSheet from a frame of string columns as read from CSV; errors name ``where``, line and column."""
    columns = {name.strip().lower(): name for name in frame.columns}
    missing = [column for column in COLUMNS if column not in columns]
    if missing:
        raise InvalidPricing(f"{where}: missing column {missing[0]!r} (required columns: {', '.join(COLUMNS)})")
    text = pl.col("price_per_hour")
    sheet = (
        frame.select(pl.col(columns[column]).cast(pl.String).alias(column) for column in COLUMNS)
        .with_row_index("line", offset=2)
        .with_columns(
            pl.col("instance_type").str.strip_chars().fill_null(""),
            pl.col("region").str.strip_chars().fill_null(""),
            pl.col("capacity_type").str.strip_chars().str.to_lowercase().fill_null("").alias("capacity"),
            text.str.strip_chars().fill_null(""),
        )
        .with_columns(text.cast(pl.Float64, strict=False).alias("price"))
    )
    checks: tuple[tuple[pl.Expr, str, str], ...] = (
        (pl.col("instance_type") == "", "instance_type", "empty instance type"),
        (
            ~pl.col("capacity").is_in(CAPACITY_TYPES),
            "capacity_type",
            f"capacity type must be one of {', '.join(CAPACITY_TYPES)}",
        ),
        (text == "", "price_per_hour", "empty price"),
        (pl.col("price").is_null(), "price_per_hour", "price is not a number"),
        (~pl.col("price").is_finite() | (pl.col("price") < 0), "price_per_hour", "price must be a finite number >= 0"),
    )
    for condition, column, problem in checks:
        bad = sheet.filter(condition)
        if bad.height:
            line, value = bad.row(0, named=True)["line"], bad.row(0, named=True)[column]
            raise InvalidPricing(f"{where}: line {line}, column {column!r}: {problem} (got {value!r})")
    keys = ["instance_type", "region", "capacity"]
    duplicates = sheet.filter(pl.struct(keys).is_duplicated())
    if duplicates.height:
        first = duplicates.row(0, named=True)
        same = duplicates.filter(pl.all_horizontal(pl.col(key) == first[key] for key in keys))
        raise InvalidPricing(
            f"{where}: line {same['line'][1]}: duplicate row for instance_type={first['instance_type']!r}, "
            f"region={first['region']!r}, capacity_type={first['capacity']!r} (first on line {first['line']})"
        )
    prices = {(row[0], row[1], row[2]): row[3] for row in sheet.select(*keys, "price").iter_rows()}
    return PriceSheet(MappingProxyType(prices))


def load_price_sheet(path: Path) -> PriceSheet:
    """Read a price sheet CSV; InvalidPricing names the file, line and column of the first problem."""
    where = f"price sheet {path}"
    if path.is_dir():
        raise InvalidPricing(f"cannot read {where}: it is a directory")
    try:
        frame = pl.read_csv(path, infer_schema=False, comment_prefix="#")
    except OSError as exc:
        raise InvalidPricing(f"cannot read {where}: {exc.strerror or exc}") from exc
    except pl.exceptions.PolarsError as exc:
        raise InvalidPricing(f"cannot read {where}: {_csv_problem(path, exc)}") from exc
    return parse_price_sheet(frame, where)


def _csv_problem(path: Path, exc: Exception) -> str:
    """The first record whose field count differs from the header's, else the first line of the CSV error."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            for record in reader:
                if record and not record[0].lstrip().startswith("#") and len(record) != len(header):
                    return f"line {reader.line_num}: expected {len(header)} fields, found {len(record)}"
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return str(exc).strip().splitlines()[0]
