"""Options shared by several commands, and the conversions every command needs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from kubetally.errors import InvalidParameter, LedgerError
from kubetally.ledger import Ledger
from kubetally.ledger.fleet import FleetLedger

Db = Annotated[Path, typer.Option("--db", help="The ledger file (DuckDB).", envvar="KUBETALLY_DB")]
Config = Annotated[Path | None, typer.Option("--config", help="A YAML settings file.", exists=False)]
Pricing = Annotated[
    Path | None, typer.Option("--pricing", help="An OpenCost custom-pricing JSON file (see docs/pricing.md).")
]
PriceSheet = Annotated[
    Path | None,
    typer.Option("--price-sheet", help="A CSV of instance_type, region, capacity_type, price_per_hour."),
]
Scenario = Annotated[
    str,
    typer.Option("--scenario", "--simulator", help="A built-in scenario (small, demo, large) or a YAML file."),
]
Seed = Annotated[int | None, typer.Option("--seed", help="Random seed; the same seed gives the same cluster.")]
Start = Annotated[
    str | None,
    typer.Option("--start", help="RFC3339 start (whole hour). Default: the scenario ends at the last full hour."),
]
Hours = Annotated[int | None, typer.Option("--hours", min=1, help="Length of the simulated window in hours.")]


def now() -> datetime:
    """The wall clock, read once at the edge and passed down."""
    return datetime.now(UTC)


def parse_instant(text: str, parameter: str) -> datetime:
    """An RFC3339 timestamp (``Z`` or an offset) as an aware UTC datetime."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidParameter(parameter, f"{text!r} is not an RFC3339 time such as 2026-11-01T00:00:00Z") from exc
    if value.tzinfo is None:
        raise InvalidParameter(parameter, f"{text!r} has no time zone; add Z for UTC")
    return value.astimezone(UTC)


def open_ledger(db: Path, *, read_only: bool = False) -> Ledger:
    """The ledger named by ``--db``; a LedgerError raised while opening it names the ``db`` parameter."""
    try:
        return Ledger.open(db, read_only=read_only)
    except LedgerError as exc:
        raise LedgerError(f"db: {exc.message}") from exc


OptionalDb = Annotated[
    Path | None, typer.Option("--db", help="The ledger file (DuckDB); or give --fleet.", envvar="KUBETALLY_DB")
]
Fleet = Annotated[
    str | None,
    typer.Option("--fleet", help="Answer from a published fleet (directory or s3:// URI) instead of --db."),
]


def open_reader(db: Path | None, fleet: str | None) -> Ledger:
    """The ledger named by ``--db``, or the fleet named by ``--fleet`` (read with DuckDB); exactly one."""
    if (db is None) == (fleet is None):
        raise InvalidParameter("db", "give exactly one of --db LEDGER and --fleet URI")
    if fleet is not None:
        try:
            return FleetLedger(fleet)
        except LedgerError as exc:
            raise LedgerError(f"fleet: {exc.message}") from exc
    assert db is not None
    return open_ledger(db, read_only=True)
