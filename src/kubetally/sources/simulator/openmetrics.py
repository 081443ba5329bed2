"""Writing the OpenMetrics exposition of a simulation (see ``exposition`` for the sampling rules)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from kubetally.errors import InvalidParameter
from kubetally.sources.simulator.catalog import FAMILIES
from kubetally.sources.simulator.exposition import Family, labels_text, number_text, sample_times
from kubetally.sources.simulator.model import Simulation
from kubetally.sources.simulator.pricing_families import PRICING_FAMILIES


def write_openmetrics(sim: Simulation, path: Path, *, scrape_interval_seconds: int) -> None:
    """Write the exposition of ``sim`` to ``path`` (streamed, ``# EOF`` terminated); OpenCost's pricing metrics
    follow when the scenario sets ``opencost_pricing_metrics``."""
    if not 1 <= scrape_interval_seconds <= 3600:
        raise InvalidParameter("scrape_interval_seconds", f"must be between 1 and 3600, got {scrape_interval_seconds}")
    base = int(sim.start.timestamp())
    with path.open("w", encoding="utf-8") as out:
        pricing = PRICING_FAMILIES if sim.scenario.opencost_pricing_metrics else ()
        for family in (*FAMILIES, *pricing):
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
        prefix = family.name + labels_text(series.labels) + " "
        stamps = (times + base).tolist()
        if callable(series.values):
            values = [number_text(v) for v in series.values(times).tolist()]
            out.write("".join(f"{prefix}{v} {t}\n" for v, t in zip(values, stamps, strict=True)))
        else:
            constant = number_text(series.values)
            out.write("".join(f"{prefix}{constant} {t}\n" for t in stamps))
