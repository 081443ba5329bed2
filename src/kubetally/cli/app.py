"""The ``kubetally`` command: one typer app, errors mapped to one clear line and exit code 2."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from kubetally import __version__
from kubetally.cli import demo, ingest, mcp, password, pipeline, publish, report, serve, simulate
from kubetally.cli.cloud import cloud_costs_command
from kubetally.cli.export import app as export_app
from kubetally.cli.focus import app as focus_app
from kubetally.cli.ledger import app as ledger_app
from kubetally.cli.reconcile import reconcile_command
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
app.command("cloud-costs")(cloud_costs_command)
app.command("demo")(demo.demo_command)
app.command("serve")(serve.serve_command)
app.command("hash-password")(password.hash_password_command)
app.command("mcp")(mcp.mcp_command)
app.command("reconcile")(reconcile_command)
app.command("pipeline")(pipeline.pipeline_command)
app.command("publish")(publish.publish_command)
app.add_typer(focus_app, name="focus")
app.add_typer(export_app, name="export")
app.add_typer(ledger_app, name="ledger")


@app.command("version")
def version_command() -> None:
    """Print the kubetally version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point. A usage error or a KubetallyError becomes one ``error:`` line on stderr and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        message = exc.format_message()
        if not message.strip():
            sys.exit(2)  # a bare ``kubetally``: the help is already printed
        _fail(message)
    except typer.Abort:
        sys.exit(1)
    except KubetallyError as exc:
        _fail(exc.message)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str) -> NoReturn:
    """Print ``message`` as one ``error:`` line on stderr and exit with code 2."""
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(2)
