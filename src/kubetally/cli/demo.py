"""``kubetally demo``: the embedded default, from nothing to a costed cluster in one command, then served."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kubetally.cli.ingest import ingest_simulation, print_report
from kubetally.cli.options import Seed, now, open_ledger
from kubetally.cli.reconcile import summary_line
from kubetally.cli.render import allocation_tables, print_tables
from kubetally.cli.serve import Host, Port, run_server
from kubetally.focus.read import read_focus
from kubetally.focus.reconcile import reconcile_bill
from kubetally.query import AllocationQuery, check_invariant, run_allocation
from kubetally.settings import load_settings
from kubetally.sources.simulator import Simulation, load_scenario, simulate, simulated_bill

DEFAULT_DB = Path("demo-data/kubetally-demo.duckdb")
SIMULATED_BILL = "simulated-bill.csv"
"""The ``source`` of the demo's cloud bill rows."""


def demo_command(
    db: Annotated[Path, typer.Option("--db", help="Where to keep the demo ledger.")] = DEFAULT_DB,
    seed: Seed = None,
    host: Host = "127.0.0.1",
    port: Port = 9003,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Exit after the report instead of serving.")] = False,
    bill: Annotated[
        bool,
        typer.Option(
            "--bill/--no-bill",
            help="Also ingest the clusters' simulated cloud bill (FOCUS) and reconcile nodes and disks with it.",
        ),
    ] = True,
) -> None:
    """Run the embedded default: the simulated `demo` clusters costed, billed, checked and served.

    Simulates the `demo` clusters (2 clusters, ~30 nodes, ~300 pods, 7 days), costs them into a local ledger,
    ingests the clusters' cloud bill (FOCUS 1.2, priced at AWS list prices) and reconciles nodes and disks with it,
    prints the cost by namespace with idle and efficiency, checks that every dollar adds up, then serves the
    ledger's OpenCost API and web UI at http://127.0.0.1:9003 until stopped (Ctrl-C).

    Examples:

      kubetally demo

      kubetally demo --db /tmp/demo.duckdb --no-serve
    """
    console = Console()
    settings = load_settings(None, db=db)
    db.parent.mkdir(parents=True, exist_ok=True)
    with console.status("simulating demo"):
        sim = simulate(load_scenario("demo"), seed=seed, start=None, hours=None, now=now())
    report = ingest_simulation(settings, sim, Console(stderr=True))
    print_report(report, console)
    if bill:
        _ingest_bill(db, sim, console)
    window = f"{report.start.isoformat().replace('+00:00', 'Z')},{report.end.isoformat().replace('+00:00', 'Z')}"
    query = AllocationQuery.from_params(
        {"window": window, "aggregate": "namespace", "includeIdle": "true", "accumulate": "true"}, now()
    )
    with open_ledger(db, read_only=True) as ledger:
        sets = run_allocation(ledger, query)
        invariant = check_invariant(ledger, query.window)
    console.print("\n[bold]Cost by namespace[/] (idle shown as __idle__)")
    print_tables(console, allocation_tables(sets))
    verdict = "[green]holds[/]" if invariant.holds else "[red]BROKEN[/]"
    console.print(
        f"\n[bold]Every dollar adds up[/]: assets {invariant.assets:,.6f} = allocations {invariant.allocations:,.6f}"
        f" + idle {invariant.idle:,.6f} + overhead {invariant.overhead:,.6f}"
        f"  (relative error {invariant.relative_error:.1e}) {verdict}"
    )
    console.print(f"\nLedger: {db}  ·  try: kubetally allocation --db {db} --window {window} --aggregate team")
    if no_serve:
        return
    url = f"http://{host}:{port}"
    console.print(
        f"\n[bold]Serving the demo ledger[/] at {url}  (Ctrl-C to stop)\n"
        f"  try: curl '{url}/allocation?window={window}&aggregate=namespace'  ·  API docs: {url}/docs"
    )
    run_server(db, None, settings.pricebook(), host, port, timedelta(minutes=1))


def _ingest_bill(db: Path, sim: Simulation, console: Console) -> None:
    """Write the simulation's cloud bill into the ledger through the FOCUS reader, and reconcile with it."""
    batch = read_focus(simulated_bill(sim).write_csv().encode(), SIMULATED_BILL)
    with open_ledger(db) as ledger:
        ledger.upsert_cloud_costs(batch.frame)
        reconciled = reconcile_bill(ledger, batch.frame, bound=None)  # the simulator's own bill
    console.print(f"\n[bold]Cloud bill[/] ({batch.rows} FOCUS rows, {SIMULATED_BILL})")
    if reconciled is not None:
        console.print(f"Reconciled {summary_line(reconciled)}", highlight=False)
