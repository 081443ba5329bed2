"""A streaming pass over a FOCUS CSV before it is parsed: structure problems and repeated rows, with row numbers.

The CSV (gzip'ed or not) is decompressed and read record by record with Python's strict CSV reader, and refused
as soon as :data:`MAX_PROBLEMS` problems are found, so that a small gzip of a huge, repetitive file is refused
after reading a few rows instead of after expanding all of it. It finds:

* a column name that appears twice in the header (a table keeps one of them silently otherwise);
* a NUL byte in a field (no FOCUS value holds one; it marks a binary or damaged file);
* a row whose number of fields differs from the header's, a quote that is never closed, or text after a closing
  quote; when such a row runs over several lines, the message says which quote opened the value that does;
* a double quote inside a value that does not start with one (``ab"c``): RFC 4180 allows a quote only in a quoted
  value, doubled. Python's reader keeps such a quote as text, but Polars' reader, which reads the file next,
  takes it as the start of a quoted value and then refuses the file without saying where (``ab""c`` is refused
  too: both readers keep it as it is, but it is an escaped quote outside a quoted value);
* a quoted value over several lines holding as many commas as the whole rows it spans: a quote opening a value by
  mistake swallowed those rows up to the next quote, which happened to close it;
* a row repeating an earlier row exactly: a bill line appears once, so a repeated one is a duplicate whose cost
  would otherwise be counted twice (the full line-key check, :func:`kubetally.focus.lines.duplicate_lines`,
  follows on the typed rows).

Row 0 is the header; row 1 the first data row, as in every FOCUS file problem. A blank line is not a row. A quoted
value may hold line ends (both readers agree on it), so a row may span several lines: messages about such a row
give its lines as well.
"""

from __future__ import annotations

import codecs
import csv
import re
import zlib
from collections.abc import Iterable, Iterator

from kubetally.errors import FocusFileError

MAX_PROBLEMS = 10
"""Problems collected before the pass stops reading (the file is refused either way)."""

CHUNK_BYTES = 1 << 16
"""Compressed bytes fed to the decompressor at a time."""

UTF8_BOM = "\ufeff"

_FIELD = r'(?:"[^"]*(?:""[^"]*)*"|[^",\r\n]*)'
FIELD = re.compile(_FIELD)
"""One RFC 4180 field: unquoted text without quote, comma or line end, or a quoted value with doubled quotes."""

RECORD = re.compile(rf"{_FIELD}(?:,{_FIELD})*\r?\n?")
"""One RFC 4180 record (with its line end), matched whole: the fast check of a record holding a quote."""

VALUE = re.compile(r"[^,\r\n]*")
"""A value as it is written up to the next comma or line end (to show a bad one)."""


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


class _Recorder:
    """The lines handed to the CSV reader, kept until the record they make up has been checked."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.pending: list[str] = []
        self.lines = self._keep(lines)

    def _keep(self, lines: Iterable[str]) -> Iterator[str]:
        keep = self.pending.append
        for line in lines:
            keep(line)
            yield line

    def take(self) -> str:
        """The text of the lines read since the last call."""
        text = self.pending[0] if len(self.pending) == 1 else "".join(self.pending)
        self.pending.clear()
        return text


def stray_quote(text: str, first_line: int) -> str | None:
    """Why the raw record ``text``, which starts on line ``first_line``, is not RFC 4180 CSV (a quote inside a
    value that is not quoted), or None when it is."""
    if '"' not in text or RECORD.fullmatch(text):
        return None
    at, number = 0, 1
    while (match := FIELD.match(text, at)) is not None:
        after = text[match.end() : match.end() + 1]
        if after != ",":
            break
        at, number = match.end() + 1, number + 1
    end = match.end() if match else at
    line = first_line + text.count("\n", 0, at)
    if text[end : end + 1] != '"':
        return None  # the CSV reader reports the rest (text after a closing quote, an unclosed quote)
    value = VALUE.match(text, at)
    shown = value.group() if value else ""
    return (
        f"field {number} (line {line}) holds a double quote inside a value that does not start with one"
        f" ({shown!r}): quote the whole value and double the quotes inside it"
    )


def _line_end_problems(row: int, fields: list[str], first_line: int, width: int) -> list[tuple[int, str]]:
    """The quoted values of a record that hold as many commas as the whole rows they span.

    A quote that opens a value by mistake (``,"vm-3,...``) runs over the line ends up to the next quote, and when
    that quote happens to close it, the rows between become one value: the record may even have the right number
    of fields. Every line it swallowed brings its ``width - 1`` commas, which a value written over several lines on
    purpose (a description, pretty-printed JSON) does not hold.
    """
    problems = []
    line = first_line
    for number, value in enumerate(fields, start=1):
        ends = value.count("\n")
        commas = value.count(",")
        if ends and commas >= ends * max(width - 1, 1):
            rows = "a whole row" if ends == 1 else f"{ends} whole rows"
            problems.append(
                (
                    row,
                    f"field {number} is a quoted value from line {line} to line {line + ends} holding {commas} commas,"
                    f" as many as {rows}: the quote opening it on line {line} is a stray one that swallowed the"
                    " lines up to the next quote",
                )
            )
        line += ends
    return problems


def _spanning(fields: list[str], first_line: int) -> str:
    """For a record over several lines, which quoted value holds the line ends; "" for a one-line record."""
    ends = sum(value.count("\n") for value in fields)
    if not ends:
        return ""
    number = next(n for n, value in enumerate(fields, start=1) if "\n" in value)
    return (
        f" (the row runs over lines {first_line}-{first_line + ends}: the quoted value of field {number},"
        f" opened on line {first_line}, holds line ends)"
    )


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
    if "\x00" in "".join(fields):
        nul = next(i for i, value in enumerate(fields) if "\x00" in value)
        problems.append((row, f"field {nul + 1} holds a NUL byte"))
    digest = hash(tuple(fields))
    if digest in earlier:
        problems.append((row, f"repeats row {earlier[digest]} exactly (a duplicate bill line)"))
    else:
        earlier[digest] = row
    return problems


class _Records:
    """The problems of each record in turn; the state (header width, rows seen) carried between records."""

    def __init__(self) -> None:
        self.row = -1
        self.width = 0
        self.earlier: dict[int, int] = {}

    def check(self, fields: list[str], text: str, first_line: int) -> list[tuple[int, str]]:
        """The problems of the record ``fields``, written as ``text`` from line ``first_line``."""
        self.row += 1
        reason = stray_quote(text, first_line)
        found = [(self.row, reason)] if reason is not None else []
        if self.row == 0:
            self.width = len(fields)
            return [(0, f"in the header, {why}") for _, why in found] + _header_problems(fields)
        found += _row_problems(self.row, fields, self.width, self.earlier)
        if "\n" in text.rstrip("\r\n"):
            found += _line_end_problems(self.row, fields, first_line, self.width)
            if len(fields) != self.width:
                spanning = _spanning(fields, first_line)
                found = [(at, why + spanning if why.startswith("too ") else why) for at, why in found]
        return found


def scan_csv(data: bytes, name: str, *, gzipped: bool) -> None:
    """Read the CSV in ``data`` once, stopping early; raise FocusFileError with every problem found (see the
    module docstring), or return when there is none."""
    lines = _Recorder(_lines(data, gzipped, name))
    reader = csv.reader(lines.lines, strict=True)
    records = _Records()
    problems: list[tuple[int, str]] = []
    try:
        for fields in reader:
            first_line = reader.line_num - len(lines.pending) + 1
            text = lines.take()
            if not fields:
                continue
            problems.extend(records.check(fields, text, first_line))
            if len(problems) >= MAX_PROBLEMS:
                problems.append((0, f"reading stopped at row {records.row} after {len(problems)} problems"))
                break
    except csv.Error as exc:
        first_line = reader.line_num - len(lines.pending) + 1
        problems.append(
            (records.row + 1, f"not valid CSV: {exc} (a quote of this row, from line {first_line}, is unbalanced)")
        )
    if problems:
        raise FocusFileError(name, problems)
