"""``kubetally allocation`` and ``kubetally assets``: query the ledger.

Flags are translated to the OpenCost parameter names and parsed by the query layer, so the CLI, the HTTP API and
the MCP server accept exactly the same values and report exactly the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from kubetally.cli.options import Fleet, OptionalDb, now, open_reader
from kubetally.cli.render import (
    ALLOCATION_COLUMNS,
    ASSET_COLUMNS,
    AllocationSets,
    allocation_tables,
    asset_tables,
    print_tables,
    to_csv,
    to_json,
)
from kubetally.ledger.fleet import for_window
from kubetally.query import AllocationQuery, AssetQuery, run_allocation, run_assets


class Output(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class IdleMode(StrEnum):
    hide = "hide"
    separate = "separate"
    share = "share"


Window = Annotated[str, typer.Option("--window", help="e.g. 7d, today, lastweek, 24h offset 1d, RFC3339 pair.")]
Aggregate = Annotated[str, typer.Option("--aggregate", help="e.g. namespace, label:team, cluster,namespace.")]
OutputOption = Annotated[Output, typer.Option("--output", "-o", help="table, json (OpenCost's data) or csv.")]


def allocation_command(
    window: Window,
    aggregate: Aggregate = "",
    filter_: Annotated[str, typer.Option("--filter", help='Filter v2, e.g. namespace:"prod" or label:app:web.')] = "",
    idle: Annotated[
        IdleMode, typer.Option("--idle", help="Idle cost: hide, separate rows, or share.")
    ] = IdleMode.separate,
    idle_by_node: Annotated[bool, typer.Option("--idle-by-node", help="Compute idle per node.")] = False,
    split_idle: Annotated[bool, typer.Option("--split-idle", help="One idle row per cluster (or node).")] = False,
    share_namespaces: Annotated[str, typer.Option("--share-namespaces", help="e.g. kube-system,monitoring")] = "",
    share_labels: Annotated[str, typer.Option("--share-labels", help="e.g. team:platform")] = "",
    share_filter: Annotated[str, typer.Option("--share-filter", help="Share what matches this filter.")] = "",
    share_split: Annotated[
        str, typer.Option("--share-split", help="How shared costs are split: even, weighted, or metric:cpu|ram|gpu.")
    ] = "weighted",
    share_tenancy_costs: Annotated[
        bool, typer.Option("--share-tenancy-costs", help="Share cluster management cost too.")
    ] = False,
    step: Annotated[str, typer.Option("--step", help="One set per step, e.g. 1h, 1d.")] = "",
    accumulate: Annotated[bool, typer.Option("--accumulate", help="One set for the whole window.")] = False,
    output: OutputOption = Output.table,
    db: OptionalDb = None,
    fleet: Fleet = None,
) -> None:
    """Cost allocations over a window, aggregated and filtered as OpenCost's /allocation.

    Examples:

      kubetally allocation --db costs.duckdb --window 7d --aggregate namespace

      kubetally allocation --db costs.duckdb --window yesterday --aggregate label:team --idle share

      kubetally allocation --db costs.duckdb --window 3d --step 1d --filter 'namespace!:"kube-system"' -o json
    """
    params = {
        "window": window,
        "aggregate": aggregate,
        "filter": filter_,
        "includeIdle": "false" if idle is IdleMode.hide else "true",
        "shareIdle": "true" if idle is IdleMode.share else "false",
        "idleByNode": str(idle_by_node).lower(),
        "splitIdle": str(split_idle).lower(),
        "shareNamespaces": share_namespaces,
        "shareLabels": share_labels,
        "shareFilter": share_filter,
        "shareSplit": share_split,
        "shareTenancyCosts": str(share_tenancy_costs).lower(),
        "step": step,
        "accumulate": str(accumulate).lower(),
    }
    query = AllocationQuery.from_params({k: v for k, v in params.items() if v != ""}, now())
    with open_reader(db, fleet) as ledger:
        data = run_allocation(for_window(ledger, query.window.start, query.window.end), query)
        provisional = ledger.provisional_hours(query.window.start, query.window.end)
    _emit(data, output, ALLOCATION_COLUMNS, allocation_tables)
    _note_provisional(provisional)


def assets_command(
    window: Window,
    aggregate: Aggregate = "",
    filter_: Annotated[str, typer.Option("--filter", help='e.g. type:"Node"')] = "",
    step: Annotated[str, typer.Option("--step", help="One set per step, e.g. 1d.")] = "",
    accumulate: Annotated[bool, typer.Option("--accumulate", help="One set for the whole window.")] = False,
    output: OutputOption = Output.table,
    db: OptionalDb = None,
    fleet: Fleet = None,
) -> None:
    """Asset costs (nodes, disks, load balancers, network, cluster management) as OpenCost's /assets.

    Examples:

      kubetally assets --db costs.duckdb --window 7d --accumulate

      kubetally assets --db costs.duckdb --window 7d --aggregate type -o csv
    """
    params = {
        "window": window,
        "aggregate": aggregate,
        "filter": filter_,
        "step": step,
        "accumulate": str(accumulate).lower(),
    }
    query = AssetQuery.from_params({k: v for k, v in params.items() if v != ""}, now())
    with open_reader(db, fleet) as ledger:
        data = run_assets(for_window(ledger, query.window.start, query.window.end), query)
        provisional = ledger.provisional_hours(query.window.start, query.window.end)
    _emit(data, output, ASSET_COLUMNS, asset_tables)
    _note_provisional(provisional)


def _emit(
    data: AllocationSets,
    output: Output,
    columns: Sequence[tuple[str, str]],
    tables: Callable[[AllocationSets], list[Table]],
) -> None:
    """Print ``data`` as OpenCost JSON, CSV or rich tables."""
    if output is Output.json:
        typer.echo(to_json(data))
    elif output is Output.csv:
        typer.echo(to_csv(data, columns), nl=False)
    else:
        print_tables(Console(), tables(data))


def _note_provisional(provisional: pl.DataFrame) -> None:
    """Say on stderr (so JSON and CSV stay clean) when the window holds hours that are still open."""
    if provisional.is_empty():
        return
    hours = sorted({hour.isoformat().replace("+00:00", "Z") for hour in provisional.get_column("hour")})
    Console(stderr=True).print(
        f"[yellow]note:[/] provisional (still open) hour{'s' if len(hours) > 1 else ''} {', '.join(hours)}: "
        "costs so far, final once the hour closes",
        highlight=False,
    )
