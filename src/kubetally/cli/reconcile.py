"""``kubetally reconcile``: apply the cloud bill to the ledger's nodes and disks, and show estimate versus bill."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kubetally.cli.options import Db, now, open_ledger
from kubetally.domain.window import parse_window
from kubetally.errors import InvalidParameter
from kubetally.focus.plausibility import DEFAULT_BOUND
from kubetally.focus.reconcile import ReconciliationReport, reconcile

UNMATCHED_SHOWN = 20
"""Unmatched bill resources listed (largest first); the rest are counted."""


class BasisOption(StrEnum):
    effective = "effective"
    billed = "billed"


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f} %"


def report_tables(report: ReconciliationReport) -> list[Table]:
    """The per-asset table (estimate vs bill) and the unmatched bill rows, as rich tables."""
    span = f"{report.start.isoformat()} – {report.end.isoformat()}".replace("+00:00", "Z")
    assets = Table(title=f"Estimate vs bill ({report.basis} cost), {span}")
    for header in ("Cluster", "Type", "Name", "Provider ID", "Hours"):
        assets.add_column(header)
    for header in ("Estimate", "Bill", "Difference", "Difference %"):
        assets.add_column(header, justify="right")
    for row in report.assets.iter_rows(named=True):
        assets.add_row(
            row["cluster"],
            row["type"],
            row["name"],
            row["provider_id"] or "",
            str(row["hours"]),
            _money(row["estimate"]),
            _money(row["bill"]),
            _money(row["difference"]),
            _percent(row["difference_pct"]),
        )
    total_pct = report.difference / report.estimate * 100.0 if report.estimate else None
    assets.add_section()
    assets.add_row(
        "Total",
        "",
        "",
        "",
        "",
        _money(report.estimate),
        _money(report.bill),
        _money(report.difference),
        _percent(total_pct),
    )
    unmatched = Table(title=f"Bill rows matching no node or disk ({report.unmatched.height} resources, not applied)")
    for header in ("Resource ID", "Category", "Rows"):
        unmatched.add_column(header)
    unmatched.add_column("Cost", justify="right")
    for row in report.unmatched.head(UNMATCHED_SHOWN).iter_rows(named=True):
        unmatched.add_row(row["resource_id"], row["category"] or "", str(row["rows"]), _money(row["cost"]))
    hidden = report.unmatched.height - UNMATCHED_SHOWN
    if hidden > 0:
        rest = float(report.unmatched.get_column("cost").tail(hidden).sum())
        unmatched.add_row(f"… {hidden} more", "", "", _money(rest))
    tables = [assets, unmatched]
    if not report.held.is_empty():
        held = Table(title=f"Held back: beyond the plausibility bound, not applied ({report.held.height} assets)")
        for header in ("Cluster", "Type", "Name"):
            held.add_column(header)
        for header in ("Estimate", "Bill", "Difference %"):
            held.add_column(header, justify="right")
        for row in report.held.iter_rows(named=True):
            held.add_row(
                row["cluster"],
                row["type"],
                row["name"],
                _money(row["estimate"]),
                _money(row["bill"]),
                _percent(row["difference_pct"]),
            )
        tables.append(held)
    return tables


def summary_line(report: ReconciliationReport) -> str:
    """One line: how many nodes and disks the bill reconciled, estimate vs bill, and what matched nothing."""
    span = f"{report.start.isoformat()} – {report.end.isoformat()}".replace("+00:00", "Z")
    if report.assets.is_empty():
        matched = "no node or disk of the ledger is in the bill"
    else:
        pct = f" ({report.difference / report.estimate * 100.0:+.1f} %)" if report.estimate else ""
        matched = (
            f"{report.assets.height} nodes and disks reconciled: estimate {_money(report.estimate)}, "
            f"bill {_money(report.bill)}, difference {_money(report.difference)}{pct}"
        )
    count = report.unmatched.height
    others = f"; {count} compute or storage resources of the bill ({_money(report.unmatched_cost)}) match none"
    held = report.held.height
    holding = (
        f"; {held} nodes and disks held back, beyond the plausibility bound and not applied "
        "(check the bill, then `kubetally reconcile --accept`)"
    )
    return f"{span}: {matched}{others if count else ''}{holding if held else ''}"


def reconcile_command(
    db: Db,
    window: Annotated[str, typer.Option("--window", help="e.g. 7d, lastweek, RFC3339 pair.")],
    basis: Annotated[
        BasisOption, typer.Option("--basis", help="Bill column: effective (amortised, default) or billed.")
    ] = BasisOption.effective,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the comparison without writing.")] = False,
    bound: Annotated[
        float,
        typer.Option(
            "--bound",
            min=0.0,
            help="Hold back an asset whose bill differs from its estimate by more than this fraction of it.",
        ),
    ] = DEFAULT_BOUND,
    accept: Annotated[
        bool, typer.Option("--accept", help="Accept and apply the reconciliations beyond the bound.")
    ] = False,
) -> None:
    """Reconcile nodes and disks with the cloud bill: the difference becomes an adjustment on each asset,
    spread onto its allocations and idle.

    Examples:

      kubetally reconcile --db costs.duckdb --window lastweek

      kubetally reconcile --db costs.duckdb --window 30d --basis billed --dry-run

    A node or disk whose bill differs from its estimate by more than --bound (default 0.5, i.e. ±50 %) is held
    back and listed, not applied, until it is accepted with --accept.
    """
    if accept and dry_run:
        raise InvalidParameter("--accept", "cannot be combined with --dry-run")
    at = now()
    span = parse_window(window, at)
    with open_ledger(db, read_only=dry_run) as ledger:
        report = reconcile(
            ledger,
            span.start,
            span.end,
            basis=basis.value,
            apply=not dry_run,
            bound=bound,
            accept=at if accept else None,
        )
    console = Console()
    for table in report_tables(report):
        console.print(table)
    if report.applied is None:
        console.print("dry run: nothing was written", highlight=False)
    else:
        applied = report.applied
        console.print(
            f"applied: {applied.assets_changed} asset hours and {applied.allocations_changed} allocation rows "
            f"changed (generation {applied.generation})",
            highlight=False,
        )
    if not report.held.is_empty():
        console.print(
            f"held back: {report.held.height} nodes and disks beyond ±{bound:.0%} of their estimate; "
            "check the bill, then run again with --accept",
            highlight=False,
        )
