"""Turning the bytes of a FOCUS file into a raw Polars frame: CSV, gzip'ed CSV or Parquet, told apart by content.

The format comes from the bytes, never from a file name or a Content-Type: gzip data starts with ``1f 8b``
(decompressed once, then detected again), Parquet starts and ends with ``PAR1``, anything else is read as UTF-8
CSV with a header row (a leading byte-order mark is dropped). CSV columns are all read as strings and typed later
(:mod:`kubetally.focus.validate`); Parquet columns keep their stored types. Anything unreadable raises
:class:`~kubetally.errors.FocusFileError` with row 0 (the file as a whole).
"""

from __future__ import annotations

import gzip
import io
import re
import zlib

import polars as pl

from kubetally.errors import FocusFileError
from kubetally.focus.scan import scan_csv

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
UTF8_BOM = b"\xef\xbb\xbf"


def file_format(data: bytes) -> str:
    """``gzip``, ``parquet`` or ``csv``, from the leading (and for Parquet trailing) bytes of ``data``."""
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(PARQUET_MAGIC) and data.endswith(PARQUET_MAGIC) and len(data) >= 8:
        return "parquet"
    return "csv"


def decode(data: bytes, name: str) -> pl.DataFrame:
    """The rows of a FOCUS file: CSV columns as strings, Parquet columns as stored.

    A CSV (gzip'ed or not) is first read once by :func:`~kubetally.focus.scan.scan_csv`, which refuses a bad
    header, bad rows or repeated rows with their row numbers, without decompressing more than it reads.
    """
    scanned = False
    if file_format(data) == "gzip":
        head = gunzip_head(data, name)
        if file_format(head) == "csv" and head.removeprefix(UTF8_BOM).strip():
            scan_csv(data, name, gzipped=True)
            scanned = True
        data = gunzip(data, name)
        if file_format(data) == "gzip":
            raise FocusFileError(name, [(0, "gzip data holds more gzip data; compress the file once")])
    if file_format(data) == "parquet":
        return read_parquet(data, name)
    return read_csv(data, name, scanned=scanned)


def gunzip_head(data: bytes, name: str, size: int = 4096) -> bytes:
    """The first ``size`` decompressed bytes of gzip ``data`` (to tell what it holds before expanding it)."""
    try:
        return zlib.decompressobj(wbits=31).decompress(data[:65536], size)
    except zlib.error as exc:
        raise FocusFileError(name, [(0, f"the gzip data is truncated or damaged ({exc})")]) from exc


def gunzip(data: bytes, name: str) -> bytes:
    """The decompressed content of gzip ``data``; a truncated or damaged stream is refused."""
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise FocusFileError(name, [(0, f"the gzip data is truncated or damaged ({exc})")]) from exc


def read_parquet(data: bytes, name: str) -> pl.DataFrame:
    """The rows of a Parquet file."""
    try:
        return pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise FocusFileError(name, [(0, f"the file looks like Parquet but cannot be read ({exc})")]) from exc


def read_csv(data: bytes, name: str, *, scanned: bool = False) -> pl.DataFrame:
    """The rows of a UTF-8 CSV file with a header row, every column a string (``scanned``: the streaming pass
    already ran on the compressed file)."""
    data = data.removeprefix(UTF8_BOM)
    if not data.strip():
        raise FocusFileError(name, [(0, "the file is empty: expected CSV with a header row, or Parquet")])
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FocusFileError(
            name, [(0, f"the file is neither UTF-8 CSV nor Parquet nor gzip (byte {exc.start} is not UTF-8)")]
        ) from exc
    if not scanned:
        scan_csv(data, name, gzipped=False)
    try:
        return pl.read_csv(io.BytesIO(data), infer_schema=False, raise_if_empty=True)
    except pl.exceptions.PolarsError as exc:
        raise FocusFileError(name, [(0, f"the file is not valid CSV, it is malformed ({polars_reason(exc)})")]) from exc


def polars_reason(exc: Exception, limit: int = 500) -> str:
    """Polars' message on one line, with the position it gives (row offset, byte offset, column) and without its
    advice on reader options."""
    text = " ".join(str(exc).split()).replace("```", "")
    text = re.sub(r"You might want to try:.*?(?=Original error:|$)|Consider setting '\w+=\w+'\.", "", text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text or type(exc).__name__
