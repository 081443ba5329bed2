"""The ``kubetally`` command: one typer app, errors mapped to one clear line and exit code 2."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from kubetally import __version__
from kubetally.cli import demo, ingest, report, simulate
from kubetally.errors import KubetallyError

app = typer.Typer(
    name="kubetally",
    help="Kubernetes cost allocation that adds up to the cent (OpenCost-compatible).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("simulate")(simulate.simulate_command)
app.command("ingest")(ingest.ingest_command)
app.command("allocation")(report.allocation_command)
app.command("assets")(report.assets_command)
app.command("demo")(demo.demo_command)


@app.command("version")
def version_command() -> None:
    """Print the kubetally version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point. Usage errors are reported by typer (exit 2); a KubetallyError becomes one line and exit 2."""
    try:
        app()
    except KubetallyError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        sys.exit(2)
