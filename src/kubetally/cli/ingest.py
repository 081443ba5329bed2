"""``kubetally ingest``: cost a source's hours into the ledger, with a progress bar and a report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kubetally.cli.options import (
    Config,
    Db,
    Hours,
    PriceSheet,
    Pricing,
    Seed,
    Start,
    now,
    open_ledger,
    parse_instant,
)
from kubetally.cli.reconcile import summary_line
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.errors import InvalidParameter
from kubetally.focus.reconcile import reconcile_written
from kubetally.ingest import IngestReport, ingest
from kubetally.settings import Settings, load_settings
from kubetally.sources import HistorySource, StaticSource
from kubetally.sources.prometheus import PrometheusSource
from kubetally.sources.simulator import Simulation, load_scenario, scenario_pricebook, simulate, to_history


def ingest_command(
    db: Db,
    scenario: Annotated[
        str | None,
        typer.Option("--simulator", "--scenario", help="A built-in scenario (small, demo, large) or a YAML file."),
    ] = None,
    prometheus_url: Annotated[
        str | None, typer.Option("--prometheus-url", help="Read the cluster from this Prometheus-compatible API.")
    ] = None,
    start: Start = None,
    end: Annotated[
        str | None, typer.Option("--end", help="RFC3339 end (whole hour, exclusive); Prometheus only.")
    ] = None,
    seed: Seed = None,
    hours: Hours = None,
    pricing: Pricing = None,
    price_sheet: PriceSheet = None,
    config: Config = None,
) -> None:
    """Cost a cluster's closed hours into the ledger (re-running the same hours changes nothing).

    The cluster comes from a simulated scenario (--simulator) or from Prometheus (--prometheus-url with --start and
    --end). Prometheus credentials, headers, TLS files and the cluster label come from --config or KUBETALLY_*
    variables (see docs/prometheus.md).

    Examples:

      kubetally ingest --db costs.duckdb --simulator demo

      kubetally ingest --db costs.duckdb --simulator my-scenario.yaml --seed 3 --pricing custom.json

      kubetally ingest --db costs.duckdb --prometheus-url http://prometheus:9090 \\
        --start 2026-11-01T00:00:00Z --end 2026-11-08T00:00:00Z
    """
    if (scenario is None) == (prometheus_url is None):
        raise InvalidParameter("--simulator", "give exactly one of --simulator or --prometheus-url")
    settings = load_settings(config, db=db, pricing=pricing, price_sheet=price_sheet, prometheus_url=prometheus_url)
    clock = now()
    if scenario is not None:
        report = ingest_simulator(
            settings,
            scenario,
            seed=seed,
            start=parse_instant(start, "--start") if start else None,
            hours=hours,
            now=clock,
        )
    else:
        report = ingest_prometheus(settings, _closed_range(start, end, clock))
    print_report(report)


def ingest_prometheus(
    settings: Settings, window: tuple[datetime, datetime], console: Console | None = None
) -> IngestReport:
    """Backfill ``window`` (closed hours) from the configured Prometheus into ``settings.db``."""
    source = PrometheusSource(settings.prometheus_config())
    prices = settings.pricebook()
    return run_ingest(source, settings.db, prices, settings.policy(), *window, console or Console(stderr=True))


def _closed_range(start: str | None, end: str | None, clock: datetime) -> tuple[datetime, datetime]:
    """``--start``/``--end`` as whole, closed UTC hours."""
    if start is None or end is None:
        raise InvalidParameter("--start", "--prometheus-url needs --start and --end (RFC3339, whole hours)")
    first, last = parse_instant(start, "--start"), parse_instant(end, "--end")
    for value, flag in ((first, "--start"), (last, "--end")):
        if value.minute or value.second or value.microsecond:
            raise InvalidParameter(flag, f"{value.isoformat()} is not on a whole hour")
    if last <= first:
        raise InvalidParameter("--end", f"{end} must be after --start {start}")
    if last > clock:
        raise InvalidParameter("--end", f"{end} is in the future: only closed hours are ingested")
    return first, last


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
        sim = simulate(loaded, seed=seed, start=start, hours=hours, now=now)
    return ingest_simulation(settings, sim, console)


def ingest_simulation(settings: Settings, sim: Simulation, console: Console) -> IngestReport:
    """Ingest all hours of a simulated cluster into ``settings.db``."""
    loaded = sim.scenario
    with console.status(f"costing {loaded.name}"):
        history = to_history(sim)
    prices = pricebook_for(settings, scenario_pricebook(loaded))
    source = StaticSource(name=f"simulator:{loaded.name}", history=history)
    return run_ingest(source, settings.db, prices, settings.policy(), history.start, history.end, console)


def pricebook_for(settings: Settings, fallback: PriceBook) -> PriceBook:
    """The configured prices, or ``fallback`` (the scenario's own) when no pricing file was given."""
    if settings.pricing is None and settings.price_sheet is None:
        return fallback
    return settings.pricebook()


def run_ingest(
    source: HistorySource,
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
    with open_ledger(db) as ledger:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(source.name, total=int((end - start).total_seconds() // 3600))
            report = ingest(
                source,
                ledger,
                prices=prices,
                policy=policy,
                start=start,
                end=end,
                progress=lambda done, _total: progress.update(task, completed=done),
            )
        reconciled = reconcile_written(ledger, start, end)
    if reconciled is not None:
        console.print(f"Reconciled with the cloud bill in the ledger: {summary_line(reconciled)}", highlight=False)
    return report


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
