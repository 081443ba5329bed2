"""``kubetally simulate``: write a simulated cluster's metrics, ground truth and scenario to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from kubetally.cli.options import Hours, Scenario, Seed, Start, now, parse_instant
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.window import parse_duration
from kubetally.errors import InvalidInput
from kubetally.sources.simulator import (
    ground_truth,
    load_scenario,
    scenario_pricebook,
    simulate,
    simulated_bill,
    write_openmetrics,
)


def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for metrics.om, truth.parquet, bill.csv, scenario.yaml.")],
    scenario: Scenario = "demo",
    seed: Seed = None,
    start: Start = None,
    hours: Hours = None,
    scrape_interval: Annotated[
        str,
        typer.Option("--scrape-interval", help="Sampling interval of the exposition, e.g. 15s, 30s, 60s."),
    ] = "30s",
) -> None:
    """Simulate a cluster: its metrics, its exact ground truth and its cloud bill.

    Writes the OpenMetrics exposition, the ground truth, the cloud bill (FOCUS 1.2 CSV priced at cloud list
    prices, for `kubetally focus ingest` and `kubetally reconcile`) and the resolved scenario.

    Examples:

      kubetally simulate --scenario small --out /tmp/small

      kubetally simulate --scenario demo --seed 7 --start 2026-11-01T00:00:00Z --hours 48 --out /tmp/demo
    """
    console = Console(stderr=True)
    interval = _seconds(scrape_interval)
    loaded = load_scenario(scenario)
    sim = simulate(loaded, seed=seed, start=parse_instant(start, "--start") if start else None, hours=hours, now=now())
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create output folder {out}: {exc.strerror}") from exc
    with console.status("writing the OpenMetrics exposition"):
        write_openmetrics(sim, out / "metrics.om", scrape_interval_seconds=interval)
    with console.status("computing the ground truth"):
        truth = ground_truth(sim, scenario_pricebook(loaded), BillingPolicy())
        truth.allocations.write_parquet(out / "truth.parquet")
        truth.assets.write_parquet(out / "truth_assets.parquet")
    simulated_bill(sim).write_csv(out / "bill.csv")
    (out / "scenario.yaml").write_text(
        yaml.safe_dump(loaded.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )
    console.print(f"wrote {out}/metrics.om, truth.parquet, truth_assets.parquet, bill.csv, scenario.yaml")


def _seconds(text: str) -> int:
    seconds = int(parse_duration(text, parameter="--scrape-interval").total_seconds())
    if not 1 <= seconds <= 3600:
        raise InvalidInput(f"--scrape-interval: must be between 1s and 1h, got {text!r}")
    return seconds
