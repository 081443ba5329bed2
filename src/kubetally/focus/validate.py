"""Typing and checking the rows of a FOCUS file, column by column, collecting every problem with its row number.

Rules (one per :class:`~kubetally.focus.columns.Kind`):

* Text: an empty string is NULL (FOCUS has no empty strings); Parquet values of other types become their text.
* Decimal: surrounding spaces are dropped, then the text must be a finite number (``1.5``, ``-2``, ``1e-3``);
  anything else (``1,5``, ``abc``, ``NaN``) is a problem. Parquet numbers are taken as they are.
* Date-time: ``YYYY-MM-DDTHH:mm:ssZ``, leniently also with fractional seconds, a space instead of ``T``, or
  ``+00:00`` instead of ``Z``; a value without a zone or with another offset is a problem (FOCUS date-times are
  UTC), as is an impossible date. Parquet timestamps are converted to UTC (a timestamp without a zone is UTC).
* Tags: a JSON object. String values are kept, ``null`` becomes a NULL value, numbers and booleans their JSON
  text (``3``, ``true``), and nested objects or arrays their compact JSON text; anything but an object is a problem.

Row checks: :data:`~kubetally.focus.columns.NOT_NULL` columns are filled, ``ChargeCategory`` is one of the allowed
values, and each period's start is before its end (``BillingCurrency`` is part of the line key, so lines folded
together share it). Unknown columns (``x_`` custom columns among them) are ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from kubetally.errors import FocusFileError
from kubetally.focus.columns import CHARGE_CATEGORIES, COLUMNS, FALLBACKS, NOT_NULL, Kind
from kubetally.history import STRING_MAP, TIME
from kubetally.ledger.schema import CLOUD_COSTS

ROW = "__focus_row"
"""The row-number column (1 = the first data row) used while checking."""

TAGS_TEXT = "__focus_tags"
"""The column holding the ``Tags`` text while it is parsed."""

DATETIME_PATTERN = r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(?:Z|\+00:00)$"
"""The accepted date-time text; group 1 is the date and group 2 the time of day."""

_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}$")


@dataclass(frozen=True)
class Check:
    """One row check: the rows where ``bad`` is true get the problem ``reason(value)`` for ``column``'s raw value."""

    column: str
    bad: pl.Expr
    reason: Callable[[object], str]


def _quoted(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _text(column: str, dtype: pl.DataType) -> pl.Expr:
    value = pl.col(column) if dtype == pl.String() else pl.col(column).cast(pl.String)
    return pl.when(value.str.len_bytes() > 0).then(value)


def _decimal_reason(column: str) -> Callable[[object], str]:
    return lambda value: f"{column} {_quoted(value)} is not a number"


def _datetime_reason(column: str) -> Callable[[object], str]:
    def reason(value: object) -> str:
        text = str(value).strip()
        if _OFFSET.search(text) and not text.endswith("+00:00"):
            return f"{column} {_quoted(value)} is not UTC: FOCUS date-times end in Z, e.g. 2026-05-01T00:00:00Z"
        return f"{column} {_quoted(value)} is not a UTC date-time YYYY-MM-DDTHH:mm:ssZ"

    return reason


def _typed(column: str, kind: Kind, dtype: pl.DataType) -> tuple[pl.Expr, Check | None]:
    """The expression typing ``column`` (raw type ``dtype``) and the check of the values it cannot type; ``Tags``
    is already typed by :func:`_tags`."""
    raw = pl.col(column)
    if kind is Kind.TEXT:
        return _text(column, dtype).alias(column), None
    if kind is Kind.DECIMAL:
        if dtype.is_numeric():
            value = raw.cast(pl.Float64)
            return value.alias(column), Check(column, value.is_not_null() & ~value.is_finite(), _decimal_reason(column))
        text = _text(column, dtype).str.strip_chars()
        value = text.cast(pl.Float64, strict=False)
        bad = raw.is_not_null() & (text.str.len_bytes() > 0) & (value.is_null() | ~value.is_finite())
        return value.alias(column), Check(column, bad.fill_null(False), _decimal_reason(column))
    if kind is Kind.DATETIME:
        if isinstance(dtype, pl.Datetime):
            zoned = raw.dt.replace_time_zone("UTC") if dtype.time_zone is None else raw.dt.convert_time_zone("UTC")
            return zoned.cast(TIME).alias(column), None
        text = _text(column, dtype).str.strip_chars()
        parts = text.str.extract_groups(DATETIME_PATTERN)
        joined = pl.concat_str(parts.struct.field("1"), pl.lit("T"), parts.struct.field("2"))
        value = joined.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us", time_zone="UTC")
        bad = (text.str.len_bytes() > 0) & value.is_null()
        return value.alias(column), Check(column, bad.fill_null(False), _datetime_reason(column))
    return raw.alias(column), None


def _file_problem(column: str, kind: Kind, dtype: pl.DataType) -> str | None:
    """Why a Parquet column's stored type cannot hold a ``kind`` value, or None."""
    if kind is Kind.DECIMAL and not (dtype.is_numeric() or dtype == pl.String()):
        return f"column {column} is stored as {dtype}, not as a number"
    if kind is Kind.DATETIME and not (isinstance(dtype, pl.Datetime) or dtype == pl.String()):
        return f"column {column} is stored as {dtype}, not as a UTC timestamp"
    if kind is Kind.TAGS and dtype not in (pl.String(), STRING_MAP):
        return f"column {column} is stored as {dtype}, not as a JSON object string"
    return None


def _tag_value(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_tags(values: pl.Series) -> tuple[pl.DataFrame, list[str]]:
    """The distinct ``Tags`` texts mapped to key/value lists (``raw``, ``Tags``), and the texts that are not JSON
    objects."""
    texts: list[str] = []
    maps: list[list[dict[str, str | None]]] = []
    invalid: list[str] = []
    for text in values.drop_nulls().unique(maintain_order=True).to_list():
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            invalid.append(text)
            continue
        if not isinstance(parsed, dict):
            invalid.append(text)
            continue
        texts.append(text)
        maps.append([{"key": str(key), "value": _tag_value(value)} for key, value in parsed.items()])
    frame = pl.DataFrame({"raw": pl.Series(texts, dtype=pl.String), "Tags": pl.Series(maps, dtype=STRING_MAP)})
    return frame, invalid


def _tags(frame: pl.DataFrame, checks: list[Check]) -> pl.DataFrame:
    """``frame`` with ``Tags`` as a string map (its text kept in ``__tags_raw``), and the check of texts that are
    not JSON objects."""
    dtype = frame.schema["Tags"]
    if dtype == STRING_MAP:
        return frame
    frame = frame.with_columns(_text("Tags", dtype).alias(TAGS_TEXT)).drop("Tags")
    table, invalid = parse_tags(frame.get_column(TAGS_TEXT))
    if invalid:
        checks.append(
            Check(
                TAGS_TEXT,
                pl.col(TAGS_TEXT).is_in(invalid).fill_null(False),
                lambda value: f"Tags {_quoted(value)} is not a JSON object",
            )
        )
    return frame.join(table.rename({"raw": TAGS_TEXT}), on=TAGS_TEXT, how="left", maintain_order="left")


def _fixed_reason(reason: str) -> Callable[[object], str]:
    return lambda _value: reason


def _order_reason(prefix: str) -> Callable[[object], str]:
    return lambda value: f"{prefix}Start {value} is not before {prefix}End"


def _row_checks(present: set[str]) -> list[Check]:
    """Checks on typed values: filled columns, the allowed ChargeCategory values, periods in order."""
    checks = [
        Check(column, pl.col(column).is_null(), _fixed_reason(f"{column} is empty (FOCUS requires it)"))
        for column in NOT_NULL
        if column in present
    ]
    checks.append(
        Check(
            "ChargeCategory",
            pl.col("ChargeCategory").is_not_null() & ~pl.col("ChargeCategory").is_in(CHARGE_CATEGORIES),
            lambda value: f"ChargeCategory {_quoted(value)} is not one of {', '.join(CHARGE_CATEGORIES)}",
        )
    )
    for prefix in ("ChargePeriod", "BillingPeriod"):
        start, end = pl.col(f"{prefix}Start"), pl.col(f"{prefix}End")
        checks.append(
            Check(
                f"{prefix}Start",
                (start >= end).fill_null(False),
                _order_reason(prefix),
            )
        )
    return checks


def _problems(frame: pl.DataFrame, checks: list[Check]) -> list[tuple[int, str, str]]:
    """Every ``(row, column, reason)`` of the ``checks`` failing on ``frame``."""
    if not checks or frame.is_empty():
        return []
    flags = frame.select(ROW, *(check.bad.alias(f"__bad{i}") for i, check in enumerate(checks)))
    found: list[tuple[int, str, str]] = []
    for i, check in enumerate(checks):
        rows = flags.filter(pl.col(f"__bad{i}")).get_column(ROW)
        if rows.is_empty():
            continue
        values = frame.filter(pl.col(ROW).is_in(rows.implode())).select(ROW, check.column)
        found.extend((int(row), check.column, check.reason(value)) for row, value in values.iter_rows())
    return found


def _kept(raw: pl.DataFrame) -> pl.DataFrame:
    """The ledger columns of ``raw`` with their row numbers, and the :data:`FALLBACKS` filled in."""
    kept = raw.select(
        pl.col(column).cast(pl.String) if raw.schema[column] == pl.Null() else pl.col(column)
        for column in raw.columns
        if column in COLUMNS
    )
    kept = kept.with_columns(
        pl.col(source).alias(target)
        for target, source in FALLBACKS.items()
        if target not in raw.columns and source in raw.columns
    )
    return kept.with_row_index(ROW, offset=1)


def typed_rows(raw: pl.DataFrame, name: str) -> pl.DataFrame:
    """The rows of a decoded FOCUS file typed as ``cloud_costs`` (without ``source``); raises FocusFileError listing
    every problem, ordered by row."""
    frame = _kept(raw)
    file_problems = [
        problem
        for column, kind in COLUMNS.items()
        if column in frame.columns and (problem := _file_problem(column, kind, frame.schema[column])) is not None
    ]
    if file_problems:
        raise FocusFileError(name, [(0, problem) for problem in file_problems])
    present = set(frame.columns) - {ROW}
    checks: list[Check] = []
    if "Tags" in present:
        frame = _tags(frame, checks)
    expressions: list[pl.Expr] = []
    for column in (c for c in COLUMNS if c in present and c != "Tags"):
        expression, check = _typed(column, COLUMNS[column], frame.schema[column])
        expressions.append(expression)
        if check is not None:
            checks.append(check)
    parse_problems = _problems(frame, checks)
    typed = frame.with_columns(expressions)
    failed = {(row, column) for row, column, _ in parse_problems}
    row_problems = [p for p in _problems(typed, _row_checks(present)) if (p[0], p[1]) not in failed]
    order = {column: i for i, column in enumerate([*COLUMNS, TAGS_TEXT])}
    problems = sorted(parse_problems + row_problems, key=lambda problem: (problem[0], order[problem[1]]))
    if problems:
        raise FocusFileError(name, [(row, reason) for row, _, reason in problems])
    absent = [
        pl.lit(None, dtype=dtype).alias(c) for c, dtype in CLOUD_COSTS.items() if c in COLUMNS and c not in present
    ]
    return typed.with_columns(absent).select(c for c in CLOUD_COSTS if c in COLUMNS)
