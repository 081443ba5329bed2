"""Reading a FOCUS 1.0–1.3 bill (CSV, gzip'ed CSV or Parquet) from bytes, a local file or an http(s) URL.

A file is read whole or not at all: :func:`read_focus` decodes it (:mod:`kubetally.focus.decode`), detects its
FOCUS version from the header (:func:`~kubetally.focus.columns.detect_version`), checks the version's mandatory
columns, types and checks every row (:mod:`kubetally.focus.validate`) and raises one
:class:`~kubetally.errors.FocusFileError` listing every problem, or returns a :class:`FocusBatch`.

A bill line appears once in a file. Two rows that agree on every column but the amounts
(:data:`~kubetally.focus.columns.MEASURE_SUFFIXES`) are the same line twice, and the file is refused naming both
rows: summing them would count the line twice, keeping one would guess which is right. Rows that differ only in
columns the ledger does not keep (``x_`` columns, ``SkuPriceDetails``, ...) are different lines that the ledger
cannot tell apart; they are folded into one row of the line key (:data:`~kubetally.focus.columns.KEY`, every kept
column but the amounts), adding up their amounts (:data:`~kubetally.focus.columns.SUMMED`), so the ledger keeps the
file's totals. A later file with a line already in the ledger replaces that row (see
:meth:`kubetally.ledger.Ledger.upsert_cloud_costs`): a re-issued bill corrects the previous one.

A FOCUS 1.3 Contract Commitment dataset is refused by name: only the Cost and Usage dataset is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import polars as pl

from kubetally.errors import FocusFileError, InvalidParameter, SourceUnavailable
from kubetally.focus.columns import (
    CONTRACT_COMMITMENT_PREFIX,
    KEY,
    MEASURE_SUFFIXES,
    SOURCE_COLUMN,
    SUMMED,
    detect_version,
    missing_columns,
)
from kubetally.focus.decode import decode
from kubetally.focus.validate import typed_rows
from kubetally.ledger.schema import CLOUD_COSTS


@dataclass(frozen=True)
class FocusBatch:
    """The cost rows of one FOCUS file, ready for :meth:`kubetally.ledger.Ledger.upsert_cloud_costs`."""

    frame: pl.DataFrame
    """Exactly the ``cloud_costs`` columns, one row per key, ``source`` naming the file."""
    version: str
    """The detected FOCUS version, ``"1.0"`` to ``"1.3"``."""
    rows: int
    """Data rows in the file."""
    merged: int
    """File rows folded into another row with the same line key (``rows - merged`` rows in ``frame``): rows that
    differ only in columns the ledger does not keep."""


def fold(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per :data:`KEY`, in order of first appearance: :data:`SUMMED` columns added up (NULL when every
    folded value is NULL), the others taken from the first row."""
    if frame.is_empty() or not frame.select(pl.struct(KEY).is_duplicated().any()).item():
        return frame
    others = [c for c in frame.columns if c not in KEY and c not in SUMMED]
    summed = [pl.when(pl.col(c).count() > 0).then(pl.col(c).sum()).alias(c) for c in SUMMED]
    return frame.group_by(list(KEY), maintain_order=True).agg(*summed, pl.col(others).first()).select(frame.columns)


def refuse_other_datasets(columns: list[str], name: str) -> None:
    """Refuse a file of another FOCUS dataset than Cost and Usage, naming it."""
    if "ChargeCategory" not in columns and any(c.startswith(CONTRACT_COMMITMENT_PREFIX) for c in columns):
        raise FocusFileError(
            name,
            [(0, "the file is a FOCUS 1.3 Contract Commitment dataset; only the Cost and Usage dataset is loaded")],
        )


REPEATS_SHOWN = 20
"""Repeated rows listed when a file is refused for them."""


def refuse_repeated_lines(raw: pl.DataFrame, name: str) -> None:
    """Refuse a file in which two rows agree on every column but the amounts, naming the rows."""
    identity = [c for c in raw.columns if not c.endswith(MEASURE_SUFFIXES)]
    if raw.height < 2 or not identity:
        return
    rows = raw.select(identity).with_row_index("row", offset=1)
    first = pl.col("row").min().over(identity)
    repeated = rows.select("row", first.alias("first")).filter(pl.col("row") != pl.col("first"))
    if repeated.is_empty():
        return
    shown = repeated.head(REPEATS_SHOWN).iter_rows()
    problems = [
        (int(row), f"the same bill line as row {int(earlier)} (every column but the amounts is equal)")
        for row, earlier in shown
    ]
    if repeated.height > REPEATS_SHOWN:
        problems.append((0, f"{repeated.height} rows repeat an earlier line in all"))
    raise FocusFileError(name, problems)


def read_focus(data: bytes, name: str) -> FocusBatch:
    """The rows of a FOCUS file's bytes (CSV, gzip'ed CSV or Parquet, told apart by content), ``source`` = ``name``.

    Raises FocusFileError (naming ``name``) for a file that cannot be read, lacks mandatory columns or has bad rows.
    """
    raw = decode(data, name)
    refuse_other_datasets(raw.columns, name)
    version = detect_version(raw.columns)
    missing = missing_columns(raw.columns, version)
    if missing:
        found = ", ".join(raw.columns[:8]) + (", ..." if raw.width > 8 else "")
        raise FocusFileError(
            name, [(0, f"missing mandatory FOCUS {version} columns: {', '.join(missing)} (header: {found})")]
        )
    typed = typed_rows(raw, name)
    refuse_repeated_lines(raw, name)
    folded = fold(typed)
    frame = folded.with_columns(pl.lit(name, dtype=pl.String).alias(SOURCE_COLUMN)).select(CLOUD_COSTS.names())
    return FocusBatch(frame=frame, version=version, rows=raw.height, merged=raw.height - frame.height)


def is_url(source: str) -> bool:
    """Whether ``source`` is an http(s) URL rather than a local path."""
    return source.lower().startswith(("http://", "https://"))


def redacted(url: str) -> str:
    """``url`` with the password of its user-info (``https://user:secret@host/``) replaced by ``***``: the name a
    fetched file is reported and stored under."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return url
    return str(parsed.copy_with(username=parsed.username, password="***")) if parsed.password else url


def fetch(
    url: str, *, timeout: float = 30.0, headers: Mapping[str, str] | None = None, client: httpx.Client | None = None
) -> bytes:
    """The body of a GET of ``url``; raises SourceUnavailable naming the URL and the HTTP status or network error."""
    try:
        if client is None:
            with httpx.Client(timeout=timeout, follow_redirects=True) as own:
                response = own.get(url, headers=dict(headers or {}))
        else:
            response = client.get(url, headers=dict(headers or {}), timeout=timeout)
    except httpx.InvalidURL as exc:
        raise InvalidParameter("source", f"{redacted(url)!r} is not a valid URL: {exc}") from exc
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"FOCUS source {redacted(url)} cannot be reached: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise SourceUnavailable(
            f"FOCUS source {redacted(url)} answered HTTP {response.status_code} {response.reason_phrase}".rstrip()
        )
    return response.content


def read_focus_source(
    source: str,
    *,
    timeout: float = 30.0,
    headers: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> FocusBatch:
    """The rows of the FOCUS file at ``source``: an http(s) URL (fetched with ``headers``, e.g. Authorization, within
    ``timeout`` seconds; ``client`` overrides the HTTP client) or a local path. A URL's password, if any, is
    replaced by ``***`` in the batch's ``source`` and in messages.

    Raises SourceUnavailable when the URL cannot be fetched or the file cannot be read, FocusFileError for a bad file.
    """
    if is_url(source):
        return read_focus(fetch(source, timeout=timeout, headers=headers, client=client), redacted(source))
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SourceUnavailable(f"FOCUS source {source} cannot be read: no such file") from exc
    except IsADirectoryError as exc:
        raise SourceUnavailable(f"FOCUS source {source} cannot be read: it is a directory") from exc
    except OSError as exc:
        raise SourceUnavailable(f"FOCUS source {source} cannot be read: {exc.strerror or exc}") from exc
    return read_focus(data, source)


__all__ = ["FocusBatch", "fold", "read_focus", "read_focus_source", "redacted"]
