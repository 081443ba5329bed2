"""The ``kubetally`` command: one typer app, errors mapped to one clear line and exit code 2."""

from __future__ import annotations

import sys

import click
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
    """Entry point: run the app; a KubetallyError becomes one line on stderr and exit code 2."""
    try:
        app(standalone_mode=False)
    except KubetallyError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        Console(stderr=True).print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # a click usage error, or a bug: never a traceback for the user
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
