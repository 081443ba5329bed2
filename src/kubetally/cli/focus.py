"""``kubetally focus``: FOCUS cloud bills. ``kubetally focus ingest`` upserts bill files into the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console, JustifyMethod
from rich.table import Table

from kubetally.cli.options import Db, open_ledger
from kubetally.cli.reconcile import summary_line
from kubetally.cli.render import print_tables
from kubetally.errors import InvalidParameter
from kubetally.focus.read import FocusBatch, read_focus_source, redacted
from kubetally.focus.reconcile import reconcile_bill
from kubetally.ledger import CloudWrite

app = typer.Typer(
    name="focus",
    help="FOCUS cloud bills: ingest FOCUS 1.0–1.3 files (CSV, gzip'ed CSV, Parquet) into the ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _headers(bearer_token: str | None, header: list[str] | None) -> dict[str, str]:
    """HTTP headers from ``--header 'Name: value'`` options and ``--bearer-token``."""
    headers: dict[str, str] = {}
    for item in header or []:
        name, separator, value = item.partition(":")
        if not separator or not name.strip():
            raise InvalidParameter("--header", f"{item!r} is not of the form 'Name: value'")
        headers[name.strip()] = value.strip()
    if bearer_token:
        headers["Authorization"] = f"Bearer {bearer_token}"
    return headers


def _money(frame: pl.DataFrame, column: str) -> str:
    """The sum of a cost column, to the micro-unit."""
    return f"{float(frame.get_column(column).sum()):,.6f}"


REPORT_COLUMNS: tuple[tuple[str, JustifyMethod], ...] = (
    ("file", "left"),
    ("FOCUS", "left"),
    ("rows", "right"),
    ("merged", "right"),
    ("inserted", "right"),
    ("updated", "right"),
    ("BilledCost", "right"),
    ("EffectiveCost", "right"),
    ("currency", "left"),
)
"""(header, alignment) of the ingest report's columns."""


def _report(loaded: list[tuple[str, FocusBatch, CloudWrite]]) -> Table:
    """One line per ingested file: its version, rows, folded rows, ledger rows inserted and updated, cost totals."""
    table = Table(title="FOCUS bills ingested", title_justify="left")
    for column, justify in REPORT_COLUMNS:
        table.add_column(column, justify=justify, no_wrap=True)
    for source, batch, write in loaded:
        frame = batch.frame
        currencies = sorted(c for c in frame.get_column("BillingCurrency").unique().to_list() if c is not None)
        table.add_row(
            redacted(source),
            batch.version,
            str(batch.rows),
            str(batch.merged),
            str(write.inserted),
            str(write.updated),
            _money(frame, "BilledCost"),
            _money(frame, "EffectiveCost"),
            ", ".join(currencies),
        )
    return table


def ingest_command(
    sources: Annotated[
        list[str], typer.Argument(metavar="FILE|URL...", help="FOCUS files (local paths or http(s) URLs).")
    ],
    db: Db,
    bearer_token: Annotated[
        str | None,
        typer.Option(
            "--bearer-token",
            help="Send 'Authorization: Bearer TOKEN' to URL sources.",
            envvar="KUBETALLY_FOCUS_BEARER_TOKEN",
        ),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="An extra HTTP header 'Name: value' for URL sources.")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="HTTP timeout in seconds.")] = 30.0,
    reconcile: Annotated[
        bool,
        typer.Option(
            "--reconcile/--no-reconcile",
            help="Reconcile the billed nodes and disks of the files' charge periods (see kubetally reconcile).",
        ),
    ] = True,
) -> None:
    """Upsert FOCUS 1.0–1.3 bill files into the ledger's cloud costs.

    Every file is read and checked before anything is written: one bad file (bad numbers or dates, missing
    mandatory columns, not CSV/Parquet) stops the command with the file's row numbers and reasons, and the ledger
    is left unchanged. A line repeated within a file is refused with its row numbers; a line whose
    key (every column but the amounts) is already in the ledger replaces it, so re-ingesting a file changes nothing.
    Then the nodes and disks the bills name are reconciled over the files' charge periods (their estimate is
    replaced by the bill, the difference spread onto their allocations and idle), unless --no-reconcile.

    Examples:

      kubetally focus ingest --db costs.duckdb bill-2026-05.csv bill-2026-06.parquet

      kubetally focus ingest --db costs.duckdb https://billing.example.com/focus.csv.gz --bearer-token "$TOKEN"
    """
    headers = _headers(bearer_token, header)
    batches = [read_focus_source(source, timeout=timeout, headers=headers or None) for source in sources]
    with open_ledger(Path(db)) as ledger:
        loaded = [
            (source, batch, ledger.upsert_cloud_costs(batch.frame))
            for source, batch in zip(sources, batches, strict=True)
        ]
        console = Console()
        print_tables(console, [_report(loaded)])
        if reconcile:
            report = reconcile_bill(ledger, pl.concat([batch.frame for batch in batches]))
            if report is not None:
                console.print(f"Reconciled {summary_line(report)}", highlight=False)


app.command("ingest")(ingest_command)
