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

import numpy as np
import numpy.typing as npt

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


def labels_text(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def number_text(value: float) -> str:
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
