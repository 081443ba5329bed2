"""``kubetally export``: files for other tools; ``kubetally export focus`` writes a FOCUS 1.2 cost file.

The flags are translated to the parameter names of ``GET /focus`` and parsed by the query layer, so the CLI and
the HTTP API accept the same values, report the same errors and write the same rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from kubetally.cli.options import Config, Db, Pricing, now, open_ledger
from kubetally.errors import InvalidParameter
from kubetally.query.focus_export import FocusQuery, focus_frame
from kubetally.query.focus_write import format_of_path, write_export
from kubetally.settings import load_settings

app = typer.Typer(
    name="export",
    help="Export costs as files for other tools (FOCUS).",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("focus")
def focus_command(
    db: Db,
    window: Annotated[str, typer.Option("--window", help="e.g. 7d, yesterday, lastmonth, an RFC3339 pair.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write: FILE.csv or FILE.parquet.")],
    granularity: Annotated[str, typer.Option("--granularity", help="Charge period of each row: hour or day.")] = "day",
    aggregate: Annotated[
        str,
        typer.Option(
            "--aggregate",
            help="Dimensions to keep: cluster, node, namespace, controllerKind, controller, pod, container "
            "(default: all, one row per container).",
        ),
    ] = "",
    filter_: Annotated[str, typer.Option("--filter", help='Filter v2, e.g. namespace:"prod".')] = "",
    pricing: Pricing = None,
    config: Config = None,
) -> None:
    """Write the window's costs as a FOCUS 1.2 file: one row per charge period, cost component and container
    (or kept dimensions), plus idle, unmounted and cluster-management rows, adding up to the cluster's total.

    The billing currency is the price book's (--pricing or --config; USD by default).

    Examples:

      kubetally export focus --db costs.duckdb --window lastmonth --out costs.csv

      kubetally export focus --db costs.duckdb --window 7d --granularity hour --aggregate namespace --out ns.parquet
    """
    fmt = format_of_path(out)
    if not out.parent.is_dir():
        raise InvalidParameter("out", f"directory {out.parent} does not exist")
    params = {"window": window, "granularity": granularity, "aggregate": aggregate, "filter": filter_}
    query = FocusQuery.from_params({k: v for k, v in params.items() if v != ""}, now())
    currency = load_settings(config, db=db, pricing=pricing).pricebook().currency
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("reading the ledger", total=None)
        with open_ledger(db, read_only=True) as ledger:
            frame = focus_frame(ledger, query, currency)
        progress.update(task, description=f"writing {frame.height:,} rows to {out}")
        write_export(frame, out, fmt)
    total = frame.get_column("EffectiveCost").sum() if frame.height else 0.0
    console.print(
        f"wrote {frame.height:,} FOCUS rows ({fmt.value}) to {out}: EffectiveCost {total:,.6f} {currency}",
        highlight=False,
    )
