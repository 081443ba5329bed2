"""``kubetally pipeline``: poll cloud bill and usage endpoints described by Krateo configuration into the ledger."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry, start_http_server
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from kubetally.cli.options import Db, open_ledger
from kubetally.errors import InvalidParameter
from kubetally.focus.exporter import BilledCostCollector
from kubetally.focus.krateo import load_config
from kubetally.focus.pipeline import Pipeline, PollResult
from kubetally.focus.targets import SecretStore, Target, resolve_targets


def pipeline_targets(
    config: list[Path], secrets_dir: Path | None, db: Path, console: Console
) -> tuple[tuple[Target, ...], SecretStore]:
    """The endpoints of the Krateo documents in ``config`` and their secrets; says on ``console`` what is ignored."""
    if secrets_dir is not None and not secrets_dir.is_dir():
        raise InvalidParameter("--secrets-dir", f"{secrets_dir} is not a directory")
    krateo = load_config(config)
    secrets = SecretStore.of(krateo, secrets_dir)
    targets = resolve_targets(krateo, secrets, os.environ)
    for ignored in krateo.ignored:
        console.print(f"ignored: {escape(ignored)} (the provider chain is not used)", highlight=False)
    console.print(
        "the DatabaseConfig credentials are not used: rows go to the ledger "
        f"{escape(str(db))}, an embedded DuckDB file",
        highlight=False,
    )
    return targets, secrets


SecretsDir = Annotated[
    Path | None,
    typer.Option("--secrets-dir", help="Secrets as files <dir>/<namespace>/<name>/<key> (mounted Secrets)."),
]


def pipeline_command(
    config: Annotated[
        list[Path],
        typer.Option("--config", help="A YAML file of Krateo documents (repeatable)."),
    ],
    db: Db,
    metrics_host: Annotated[str, typer.Option("--metrics-host", help="Address of the /metrics server.")] = "127.0.0.1",
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", min=0, max=65535, help="Port of the /metrics server (billed_cost).")
    ] = 9109,
    once: Annotated[
        bool, typer.Option("--once", help="Poll every endpoint once, print a report and exit (1 if any failed).")
    ] = False,
    secrets_dir: SecretsDir = None,
) -> None:
    """Poll FOCUS bills and usage metrics as Krateo's exporter and scraper do, into the ledger's cloud tables.

    Each ExporterScraperConfig is polled at its interval; cost rows go to cloud_costs and are exposed as the
    billed_cost gauge on http://HOST:PORT/metrics, usage rows go to cloud_usage. See docs/focus-pipeline.md.

    Examples:

      kubetally pipeline --config krateo.yaml --db costs.duckdb --once

      kubetally pipeline --config exporters.yaml --config secrets.yaml --db costs.duckdb --secrets-dir /var/run/secrets
    """
    console = Console(stderr=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    targets, secrets = pipeline_targets(config, secrets_dir, db, console)
    collector = BilledCostCollector()
    with open_ledger(db) as ledger:
        stop = threading.Event()
        pipeline = Pipeline(targets, ledger, secrets, collector, sleep=stop.wait)
        if once:
            results = pipeline.poll_all()
            Console().print(_report(results))
            raise typer.Exit(0 if all(r.ok for r in results) else 1)
        registry = CollectorRegistry()
        registry.register(collector)
        try:
            server, thread = start_http_server(metrics_port, addr=metrics_host, registry=registry)
        except OSError as exc:
            raise InvalidParameter(
                "--metrics-port", f"cannot listen on {metrics_host}:{metrics_port}: {exc.strerror or exc}"
            ) from exc
        console.print(f"billed_cost on http://{metrics_host}:{server.server_port}/metrics", highlight=False)
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
        try:
            pipeline.run(stop)
        except KeyboardInterrupt:
            stop.set()
        finally:
            server.shutdown()
            thread.join(timeout=5)


def _report(results: list[PollResult]) -> Group:
    """A table of the polls, then one line per failed poll saying why."""
    table = Table(title="pipeline poll")
    for column in ("config", "type", "status", "rows", "new", "updated", "attempts"):
        numeric = column in {"rows", "new", "updated", "attempts"}
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    for r in results:
        status = "ok" if r.ok else "[red]failed[/]"
        table.add_row(r.config, r.metric_type, status, str(r.rows), str(r.inserted), str(r.updated), str(r.attempts))
    failures = [Text(f"{r.config}: {r.error}") for r in results if not r.ok]
    return Group(table, *failures)
