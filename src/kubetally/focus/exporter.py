"""The ``billed_cost`` gauge: each row of the last good FOCUS file of every cost endpoint, as Krateo exposes it.

One sample per file row: value = ``BilledCost``, one label per column of the file except ``x_`` custom columns
(label name = column header, characters a Prometheus label name cannot hold replaced by ``_``), ``Tags`` flattened
to ``k: v;k2: v2``, NULL as the empty string. Rows with identical labels (from one file or several endpoints) are
one sample with their costs summed, since an exposition cannot repeat a series. A poll that succeeds replaces the
endpoint's rows, so rows that disappeared from the file disappear from the gauge; a failed poll keeps them.

Alongside, ``kubetally_pipeline_up{config}`` (1 when the last poll succeeded) and
``kubetally_pipeline_last_success_timestamp_seconds{config}`` describe the pipeline itself.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import polars as pl
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kubetally.errors import FocusFileError
from kubetally.focus.decode import decode

BILLED_COST = "billed_cost"
"""The gauge's name (Krateo's)."""

_INVALID_LABEL_CHARACTERS = re.compile(r"[^a-zA-Z0-9_]")

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Series:
    """One ``billed_cost`` sample."""

    labels: Labels
    value: float


def label_name(header: str) -> str:
    """The Prometheus label name of a column header."""
    name = _INVALID_LABEL_CHARACTERS.sub("_", header)
    return f"_{name}" if not name or name[0].isdigit() else name


def flatten_tags(text: str) -> str:
    """A FOCUS ``Tags`` JSON object as ``k: v;k2: v2`` in the object's order; text that is not an object is kept."""
    try:
        tags = json.loads(text)
    except ValueError:
        return text
    if not isinstance(tags, dict):
        return text
    return ";".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in tags.items())


def raw_frame(data: bytes, name: str) -> pl.DataFrame:
    """The file's own columns with every value as text (Parquet date-times as FOCUS ``YYYY-MM-DDTHH:mm:ssZ``)."""
    frame = decode(data, name)
    return frame.select(_as_text(column, dtype) for column, dtype in frame.schema.items())


def _as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        moment = pl.col(column).dt.replace_time_zone("UTC") if dtype.time_zone is None else pl.col(column)
        return moment.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(dtype, pl.Struct):
        return pl.col(column).struct.json_encode()
    return pl.col(column).cast(pl.String)


def billed_cost_series(data: bytes, name: str) -> tuple[Series, ...]:
    """The ``billed_cost`` samples of one FOCUS file (already accepted by the reader)."""
    frame = raw_frame(data, name)
    if "BilledCost" not in frame.columns:
        raise FocusFileError(name, [(0, "no BilledCost column")])
    columns = [c for c in frame.columns if not c.startswith("x_")]
    names = [label_name(c) for c in columns]
    labels = frame.select(pl.col(columns).fill_null(""))
    if "Tags" in columns:
        distinct = labels["Tags"].unique().to_list()
        labels = labels.with_columns(
            pl.col("Tags").replace_strict({t: flatten_tags(t) for t in distinct}, return_dtype=pl.String)
        )
    values = frame["BilledCost"].cast(pl.Float64, strict=False).fill_null(0.0)
    return merge(
        Series(tuple(zip(names, row, strict=True)), value)
        for row, value in zip(labels.iter_rows(), values, strict=True)
    )


def merge(series: Iterable[Series]) -> tuple[Series, ...]:
    """Samples with identical labels summed into one, in first-seen order."""
    totals: dict[Labels, float] = {}
    for one in series:
        totals[one.labels] = totals.get(one.labels, 0.0) + one.value
    return tuple(Series(labels, value) for labels, value in totals.items())


class BilledCostCollector(Collector):
    """A prometheus_client collector of the current rows of every cost endpoint, updated by the pipeline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[Series, ...]] = {}
        self._up: dict[str, bool] = {}
        self._last_success: dict[str, float] = {}

    def replace(self, config: str, rows: tuple[Series, ...]) -> None:
        """Make ``rows`` the samples of endpoint ``config`` (dropping the rows of its previous file)."""
        with self._lock:
            self._rows[config] = rows

    def record(self, config: str, *, ok: bool, at: float) -> None:
        """Record the outcome of a poll of ``config`` at Unix time ``at``."""
        with self._lock:
            self._up[config] = ok
            if ok:
                self._last_success[config] = at

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            rows = [one for series in self._rows.values() for one in series]
            up, last = dict(self._up), dict(self._last_success)
        billed = Metric(BILLED_COST, "BilledCost of each FOCUS row of the polled cloud bills.", "gauge")
        for one in merge(rows):
            billed.add_sample(BILLED_COST, dict(one.labels), one.value)
        yield billed
        status = GaugeMetricFamily(
            "kubetally_pipeline_up", "1 when the last poll of the endpoint succeeded, else 0.", labels=["config"]
        )
        for config, ok in sorted(up.items()):
            status.add_metric([config], 1.0 if ok else 0.0)
        yield status
        success = GaugeMetricFamily(
            "kubetally_pipeline_last_success_timestamp_seconds",
            "Unix time of the endpoint's last successful poll.",
            labels=["config"],
        )
        for config, at in sorted(last.items()):
            success.add_metric([config], at)
        yield success
