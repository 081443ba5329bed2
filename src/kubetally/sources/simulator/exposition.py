"""OpenMetrics exposition of a simulation, as the exporters of docs/metrics-contract would have exposed it.

Each series is sampled every ``scrape_interval_seconds`` on the UTC grid from the window start, while the object it
describes exists. Families are written one after the other and each series' samples in time order (what
``promtool tsdb create-blocks-from openmetrics`` requires); counters restart from zero whenever the process they
count restarts. Every series carries the ``cluster`` label, as a multi-cluster Prometheus adds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from kubetally.errors import InvalidParameter
from kubetally.sources.simulator.model import Simulation, Span

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Values = float | Callable[[IntArray], FloatArray]
"""A constant, or the values at sample offsets (seconds from the window start)."""


@dataclass(frozen=True)
class Series:
    labels: Mapping[str, str]
    spans: list[Span]
    values: Values


@dataclass(frozen=True)
class Family:
    """A metric family: ``name`` is the sample name (counters end in ``_total``)."""

    name: str
    kind: str
    help: str
    series: Callable[[Simulation], Iterator[Series]]


def sanitize(key: str) -> str:
    """A Kubernetes label or annotation key as kube-state-metrics writes it (``app.kubernetes.io/name`` ->
    ``app_kubernetes_io_name``)."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", key)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def sample_times(spans: Iterable[Span], interval: int) -> IntArray:
    """Offsets (seconds) of the scrape grid that fall inside ``spans``."""
    parts = [np.arange(-(-s // interval), -(-e // interval), dtype=np.int64) * interval for s, e in spans if s < e]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def counter(spans: list[Span], rate: Callable[[int], float]) -> Callable[[IntArray], FloatArray]:
    """Values of a counter that grows at ``rate(hour)`` per second while in ``spans`` and restarts at each span."""

    def values(times: IntArray) -> FloatArray:
        out = np.zeros(len(times))
        for s, e in spans:
            inside = (times >= s) & (times < e)
            if not inside.any():
                continue
            hours = np.arange(s // 3600, (e - 1) // 3600 + 1)
            rates = np.array([rate(int(h)) for h in hours])
            grown = rates * (np.minimum(e, (hours + 1) * 3600) - np.maximum(s, hours * 3600))
            before = np.concatenate(([0.0], np.cumsum(grown)[:-1]))
            t = times[inside]
            index = t // 3600 - hours[0]
            out[inside] = before[index] + rates[index] * (t - np.maximum(s, t // 3600 * 3600))
        return out

    return values


def hourly(matrix_row: FloatArray, scale: float = 1.0) -> Callable[[IntArray], FloatArray]:
    """Values of a gauge that holds ``matrix_row[hour] · scale`` through each hour bucket."""

    def values(times: IntArray) -> FloatArray:
        result: FloatArray = matrix_row[times // 3600] * scale
        return result

    return values


def write_openmetrics(sim: Simulation, path: Path, *, scrape_interval_seconds: int) -> None:
    """Write the exposition of ``sim`` to ``path`` (streamed, ``# EOF`` terminated)."""
    from kubetally.sources.simulator.catalog import FAMILIES

    if not 1 <= scrape_interval_seconds <= 3600:
        raise InvalidParameter("scrape_interval_seconds", f"must be between 1 and 3600, got {scrape_interval_seconds}")
    base = int(sim.start.timestamp())
    with path.open("w", encoding="utf-8") as out:
        for family in FAMILIES:
            _write_family(out, sim, family, base, scrape_interval_seconds)
        out.write("# EOF\n")


def _write_family(out: IO[str], sim: Simulation, family: Family, base: int, interval: int) -> None:
    wrote_header = False
    for series in family.series(sim):
        times = sample_times(series.spans, interval)
        if not len(times):
            continue
        if not wrote_header:
            header = family.name.removesuffix("_total") if family.kind == "counter" else family.name
            out.write(f"# TYPE {header} {family.kind}\n# HELP {header} {family.help}\n")
            wrote_header = True
        prefix = family.name + _labels(series.labels) + " "
        stamps = (times + base).tolist()
        if callable(series.values):
            values = [_number(v) for v in series.values(times).tolist()]
            out.write("".join(f"{prefix}{v} {t}\n" for v, t in zip(values, stamps, strict=True)))
        else:
            constant = _number(series.values)
            out.write("".join(f"{prefix}{constant} {t}\n" for t in stamps))
