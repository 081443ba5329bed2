"""``kubetally ingest``: cost a source's hours into the ledger, with a progress bar and a report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kubetally.cli.options import (
    Config,
    Db,
    Hours,
    PriceSheet,
    Pricing,
    Scenario,
    Seed,
    Start,
    now,
    open_ledger,
    parse_instant,
)
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.ingest import IngestReport, ingest
from kubetally.settings import Settings, load_settings
from kubetally.sources import StaticSource
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history


def ingest_command(
    db: Db,
    scenario: Scenario,
    seed: Seed = None,
    start: Start = None,
    hours: Hours = None,
    pricing: Pricing = None,
    price_sheet: PriceSheet = None,
    config: Config = None,
) -> None:
    """Cost a simulated cluster into the ledger (re-running the same hours changes nothing).

    Examples:

      kubetally ingest --db costs.duckdb --simulator demo

      kubetally ingest --db costs.duckdb --simulator my-scenario.yaml --seed 3 --pricing custom.json
    """
    settings = load_settings(config, db=db, pricing=pricing, price_sheet=price_sheet)
    report = ingest_simulator(
        settings,
        scenario,
        seed=seed,
        start=parse_instant(start, "--start") if start else None,
        hours=hours,
        now=now(),
    )
    print_report(report)


def ingest_simulator(
    settings: Settings,
    scenario: str,
    *,
    seed: int | None,
    start: datetime | None,
    hours: int | None,
    now: datetime,
    console: Console | None = None,
) -> IngestReport:
    """Simulate ``scenario`` and ingest all of its hours into ``settings.db``."""
    console = console or Console(stderr=True)
    loaded = load_scenario(scenario)
    with console.status(f"simulating {scenario}"):
        history = to_history(simulate(loaded, seed=seed, start=start, hours=hours, now=now))
    prices = pricebook_for(settings, scenario_pricebook(loaded))
    source = StaticSource(name=f"simulator:{loaded.name}", history=history)
    return run_ingest(source, settings.db, prices, settings.policy(), history.start, history.end, console)


def pricebook_for(settings: Settings, fallback: PriceBook) -> PriceBook:
    """The configured prices, or ``fallback`` (the scenario's own) when no pricing file was given."""
    if settings.pricing is None and settings.price_sheet is None:
        return fallback
    return settings.pricebook()


def run_ingest(
    source: StaticSource,
    db: Path,
    prices: PriceBook,
    policy: BillingPolicy,
    start: datetime,
    end: datetime,
    console: Console,
) -> IngestReport:
    columns = (
        TextColumn("[bold]ingest[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("hours"),
        TimeElapsedColumn(),
    )
    with open_ledger(db) as ledger, Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(source.name, total=int((end - start).total_seconds() // 3600))
        return ingest(
            source,
            ledger,
            prices=prices,
            policy=policy,
            start=start,
            end=end,
            progress=lambda done, _total: progress.update(task, completed=done),
        )


def print_report(report: IngestReport, console: Console | None = None) -> None:
    """The ingest report: what was written, and what was degraded."""
    console = console or Console()
    table = Table(title=f"ingested {report.source}", show_header=False, title_justify="left")
    table.add_row("window", f"{report.start.isoformat()} → {report.end.isoformat()}")
    table.add_row("clusters", ", ".join(report.clusters) or "none")
    table.add_row("hours written", str(report.hours_written))
    table.add_row("containers", f"{report.containers:,}")
    table.add_row("allocation rows", f"{report.allocation_rows:,}")
    table.add_row("asset rows", f"{report.asset_rows:,}")
    table.add_row("asset cost", f"{report.asset_cost:,.2f}")
    table.add_row("time", f"{report.seconds:.1f} s")
    table.add_row("degraded inputs", "; ".join(report.warnings) or "none")
    console.print(table)
