"""A streaming pass over a FOCUS CSV before it is parsed: structure problems and repeated rows, with row numbers.

The CSV (gzip'ed or not) is decompressed and read record by record with Python's strict CSV reader, and refused
as soon as :data:`MAX_PROBLEMS` problems are found, so that a small gzip of a huge, repetitive file is refused
after reading a few rows instead of after expanding all of it. It finds:

* a column name that appears twice in the header (a table keeps one of them silently otherwise);
* a NUL byte in a field (no FOCUS value holds one; it marks a binary or damaged file);
* a row whose number of fields differs from the header's, a quote that is never closed, or text after a closing
  quote;
* a row repeating an earlier row exactly: a bill line appears once, so a repeated one is a duplicate whose cost
  would otherwise be counted twice (the full line-key check, :func:`kubetally.focus.lines.duplicate_lines`,
  follows on the typed rows).

Row 0 is the header; row 1 the first data row, as in every FOCUS file problem. A blank line is not a row.
"""

from __future__ import annotations

import codecs
import csv
import zlib
from collections.abc import Iterator

from kubetally.errors import FocusFileError

MAX_PROBLEMS = 10
"""Problems collected before the pass stops reading (the file is refused either way)."""

CHUNK_BYTES = 1 << 16
"""Compressed bytes fed to the decompressor at a time."""

UTF8_BOM = "\ufeff"


def _chunks(data: bytes, gzipped: bool, name: str) -> Iterator[bytes]:
    """``data`` (decompressed on the fly when ``gzipped``, every gzip member in turn) in pieces."""
    if not gzipped:
        for offset in range(0, len(data), CHUNK_BYTES * 16):
            yield data[offset : offset + CHUNK_BYTES * 16]
        return
    rest = data
    while rest:
        stream = zlib.decompressobj(wbits=31)
        for offset in range(0, len(rest), CHUNK_BYTES):
            piece = stream.decompress(rest[offset : offset + CHUNK_BYTES])
            if piece:
                yield piece
            if stream.eof:
                break
        if not stream.eof:
            raise FocusFileError(name, [(0, "the gzip data is truncated or damaged (it ends inside a stream)")])
        rest = stream.unused_data


def _lines(data: bytes, gzipped: bool, name: str) -> Iterator[str]:
    """The text lines of the CSV, each with its newline; a byte that is not UTF-8 is refused."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    seen = 0
    try:
        for chunk in _chunks(data, gzipped, name):
            text = decoder.decode(chunk)
            seen += len(chunk)
            if pending == "" and seen == len(chunk):
                text = text.removeprefix(UTF8_BOM)
            pending += text
            *complete, pending = pending.split("\n")
            for line in complete:
                yield line + "\n"
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        at = seen - len(exc.object) + exc.start
        raise FocusFileError(
            name, [(0, f"the file is neither UTF-8 CSV nor Parquet nor gzip (byte {at} is not UTF-8)")]
        ) from exc
    except zlib.error as exc:
        raise FocusFileError(name, [(0, f"the gzip data is truncated or damaged ({exc})")]) from exc
    if pending:
        yield pending


def _header_problems(header: list[str]) -> list[tuple[int, str]]:
    first: dict[str, int] = {}
    problems = []
    for position, column in enumerate(header, start=1):
        if column in first:
            problems.append(
                (0, f"column {column!r} appears twice in the header (columns {first[column]} and {position})")
            )
        else:
            first[column] = position
    return problems


def _row_problems(row: int, fields: list[str], width: int, earlier: dict[int, int]) -> list[tuple[int, str]]:
    problems = []
    if len(fields) != width:
        more = "too many" if len(fields) > width else "too few"
        problems.append((row, f"{more} fields: {len(fields)}, the header has {width}"))
    nul = next((i for i, value in enumerate(fields) if "\x00" in value), None)
    if nul is not None:
        problems.append((row, f"field {nul + 1} holds a NUL byte"))
    digest = hash(tuple(fields))
    if digest in earlier:
        problems.append((row, f"repeats row {earlier[digest]} exactly (a duplicate bill line)"))
    else:
        earlier[digest] = row
    return problems


def scan_csv(data: bytes, name: str, *, gzipped: bool) -> None:
    """Read the CSV in ``data`` once, stopping early; raise FocusFileError with every problem found (see the
    module docstring), or return when there is none."""
    reader = csv.reader(_lines(data, gzipped, name), strict=True)
    problems: list[tuple[int, str]] = []
    earlier: dict[int, int] = {}
    width = 0
    row = -1
    try:
        for fields in reader:
            if not fields:
                continue
            row += 1
            if row == 0:
                width = len(fields)
                problems.extend(_header_problems(fields))
            else:
                problems.extend(_row_problems(row, fields, width, earlier))
            if len(problems) >= MAX_PROBLEMS:
                problems.append((0, f"reading stopped at row {row} after {len(problems)} problems"))
                break
    except csv.Error as exc:
        problems.append((row + 1, f"not valid CSV: {exc} (a quote of this row is unbalanced)"))
    if problems:
        raise FocusFileError(name, problems)
