"""Serialising a FOCUS export as CSV or Parquet, whole or as a stream of byte chunks.

CSV: a header, RFC 4180 quoting, NULL as an empty unquoted field (an empty string would be written ``""``, and the
export has none), numbers in their shortest round-trip form. Parquet: the same columns and types (date-times as
``YYYY-MM-DDTHH:mm:ssZ`` strings, as in the CSV, so both files hold the same values).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from kubetally.errors import InvalidParameter
from kubetally.query.focus_columns import FocusFormat

CSV_BATCH_ROWS = 20_000
"""Rows serialised per CSV chunk of a stream."""
STREAM_CHUNK_BYTES = 1 << 20
"""Bytes per chunk of a streamed Parquet file."""

MEDIA_TYPES: dict[FocusFormat, str] = {
    FocusFormat.CSV: "text/csv; charset=utf-8",
    FocusFormat.PARQUET: "application/vnd.apache.parquet",
}


def parse_format(raw: str | None, parameter: str = "format") -> FocusFormat:
    """``csv`` or ``parquet`` (case-insensitive); absent or empty → ``csv``."""
    cleaned = (raw or "").strip().lower()
    if not cleaned:
        return FocusFormat.CSV
    try:
        return FocusFormat(cleaned)
    except ValueError:
        raise InvalidParameter(parameter, f"invalid value {raw!r}; expected csv or parquet") from None


def format_of_path(path: Path) -> FocusFormat:
    """The format named by a file's suffix (``.csv`` or ``.parquet``)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in {f.value for f in FocusFormat}:
        raise InvalidParameter("out", f"{path} must end in .csv or .parquet (the file format), not {path.suffix!r}")
    return FocusFormat(suffix)


def _csv(frame: pl.DataFrame, *, header: bool) -> bytes:
    return frame.write_csv(include_header=header, null_value="").encode("utf-8")


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def export_chunks(frame: pl.DataFrame, fmt: FocusFormat) -> Iterator[bytes]:
    """The file's bytes in chunks: CSV batch by batch, Parquet in fixed-size slices of the finished file."""
    if fmt is FocusFormat.CSV:
        yield _csv(frame.head(0), header=True)
        for batch in frame.iter_slices(CSV_BATCH_ROWS):
            yield _csv(batch, header=False)
        return
    data = _parquet(frame)
    for offset in range(0, len(data), STREAM_CHUNK_BYTES):
        yield data[offset : offset + STREAM_CHUNK_BYTES]


def write_export(frame: pl.DataFrame, path: Path, fmt: FocusFormat | None = None) -> FocusFormat:
    """Write ``frame`` to ``path`` in ``fmt`` (from the suffix when None); returns the format written."""
    chosen = fmt or format_of_path(path)
    with path.open("wb") as out:
        for chunk in export_chunks(frame, chosen):
            out.write(chunk)
    return chosen
