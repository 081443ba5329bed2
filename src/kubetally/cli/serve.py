"""``kubetally serve``: follow a Prometheus into the ledger and serve OpenCost's API, ``/metrics`` and health."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kubetally.api.auth import ApiAccess
from kubetally.api.hosts import is_loopback
from kubetally.cli.allocator import return_large_blocks
from kubetally.cli.options import Config, OptionalDb, PriceSheet, Pricing, now, open_ledger
from kubetally.cli.pipeline import SecretsDir, pipeline_targets
from kubetally.cli.publish import Engine, PublishLoop, SparkMaster
from kubetally.domain.pricing import PriceBook
from kubetally.domain.window import parse_duration
from kubetally.errors import InvalidParameter, LedgerError
from kubetally.focus.pipeline import Pipeline
from kubetally.ingest.follow import Follower
from kubetally.ledger import Ledger
from kubetally.ledger.fleet import open_fleet
from kubetally.ledger.opening import migrate_file
from kubetally.ledger.schema import SCHEMA_VERSION
from kubetally.settings import Settings, load_settings
from kubetally.sources import HistorySource
from kubetally.sources.prometheus import PrometheusSource

PrometheusUrl = Annotated[
    str | None,
    typer.Option("--prometheus-url", help="Prometheus-compatible query API to follow. Without it, only serve."),
]
Host = Annotated[
    str,
    typer.Option(
        "--host",
        help="Address to listen on. Authentication is on by default for any address but loopback (setting `auth`).",
    ),
]
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on (OpenCost's is 9003).")]
Backfill = Annotated[str, typer.Option("--backfill", help="How far back to fill missing hours: 7d, 36h, ...")]
Interval = Annotated[str, typer.Option("--interval", help="Time between follow steps: 60s, 5m, ...")]
McpPort = Annotated[
    int | None,
    typer.Option("--mcp-port", min=1, max=65535, help="Also answer /mcp on this port (OpenCost's MCP uses 8081)."),
]
PipelineConfig = Annotated[
    list[Path] | None,
    typer.Option(
        "--pipeline-config",
        help="Krateo ExporterScraperConfig YAML (repeatable): poll these cloud bill endpoints into the ledger too.",
    ),
]
MaxWindowDays = Annotated[
    float | None,
    typer.Option("--max-window-days", min=1, help="Refuse queries whose window is longer (400 by default)."),
]


FleetUri = Annotated[
    str | None, typer.Option("--fleet", help="Serve a published fleet (directory or s3:// URI) instead of --db.")
]
PublishTo = Annotated[
    str | None, typer.Option("--publish-to", help="Also publish the ledger's closed hours to this fleet location.")
]


def serve_command(
    db: OptionalDb = None,
    prometheus_url: PrometheusUrl = None,
    host: Host = "127.0.0.1",
    port: Port = 9003,
    backfill: Backfill = "7d",
    interval: Interval = "60s",
    pricing: Pricing = None,
    price_sheet: PriceSheet = None,
    config: Config = None,
    max_window_days: MaxWindowDays = None,
    mcp_port: McpPort = None,
    pipeline_config: PipelineConfig = None,
    secrets_dir: SecretsDir = None,
    fleet: FleetUri = None,
    engine: Engine = "duckdb",
    spark_master: SparkMaster = "local[2]",
    publish_to: PublishTo = None,
) -> None:
    """Serve the ledger: OpenCost's API, the web UI, MCP and /metrics, following a Prometheus hour by hour.

    OpenCost's API (/allocation, /assets, /cloudCost, also under /model), /focus, /metrics, /healthz, /readyz and
    /docs.

    With --prometheus-url, missing hours within --backfill are costed at start, each hour is costed as it
    closes, and the current hour is kept provisional (rewritten once it closes). With --pipeline-config, the
    cloud bill endpoints of those Krateo documents are polled into the same ledger (as `kubetally pipeline` does,
    with billed_cost on /metrics) and billed nodes and disks are reconciled. Without either, the ledger is served
    read-only as it is (a ledger of an older schema version is migrated in place first).

    Examples:

      kubetally serve --db costs.duckdb --prometheus-url http://prometheus:9090

      kubetally serve --db costs.duckdb --prometheus-url http://prometheus:9090 --backfill 2d --interval 30s

      kubetally serve --db costs.duckdb --host 0.0.0.0 --port 9003

      kubetally serve --fleet /mnt/fleet --engine spark --spark-master spark://spark:7077
    """
    backfill_span = parse_duration(backfill, "--backfill")
    interval_span = parse_duration(interval, "--interval")
    if interval_span <= timedelta(0):
        raise InvalidParameter("--interval", f"must be positive, got {interval!r}")
    if fleet is not None:
        _serve_fleet(fleet, engine, spark_master, host, port, interval_span, config, mcp_port)
        return
    if db is None:
        raise InvalidParameter("--db", "give the ledger file (--db), or a fleet to serve (--fleet)")
    settings = load_settings(
        config,
        db=db,
        pricing=pricing,
        price_sheet=price_sheet,
        prometheus_url=prometheus_url,
        max_window_days=max_window_days,
    )
    prices = settings.pricebook()
    limit = settings.max_window_days
    access = ApiAccess.from_settings(settings)
    targets = None
    if pipeline_config:
        targets = pipeline_targets(pipeline_config, secrets_dir, settings.db, Console(stderr=True))
    if settings.prometheus_url is None and targets is None:
        _migrate(settings.db)
        with open_ledger(settings.db, read_only=True) as reading:
            loop = _publish_loop(reading, publish_to, interval_span)
            try:
                run_server(
                    settings.db,
                    None,
                    prices,
                    host,
                    port,
                    interval_span,
                    access,
                    max_window_days=limit,
                    mcp_port=mcp_port,
                    limits=settings,
                )
            finally:
                if loop is not None:
                    loop.stop()
        return
    with open_ledger(settings.db) as ledger:
        loop = _publish_loop(ledger, publish_to, interval_span)
        follower = None
        if settings.prometheus_url is not None:
            source = PrometheusSource(settings.prometheus_config())
            follower = _follower(source, ledger, prices, settings, backfill_span)
        pipeline = None if targets is None else Pipeline(targets[0], ledger, targets[1])
        run_server(
            settings.db,
            follower,
            prices,
            host,
            port,
            interval_span,
            access,
            max_window_days=limit,
            mcp_port=mcp_port,
            pipeline=pipeline,
            limits=settings,
        )
        if loop is not None:
            loop.stop()


def _migrate(db: Path) -> None:
    """Bring an older ledger to this schema version before serving it read-only (it needs a writable start once)."""
    try:
        version = migrate_file(db)
    except LedgerError as exc:
        raise LedgerError(f"db: {exc.message}") from exc
    if version is not None:
        Console(stderr=True).print(f"migrated ledger {db} from schema version {version} to {SCHEMA_VERSION}")


def _publish_loop(ledger: Ledger, uri: str | None, interval: timedelta) -> PublishLoop | None:
    if uri is None:
        return None
    loop = PublishLoop(ledger, uri, interval.total_seconds(), now)
    loop.start()
    return loop


def _serve_fleet(
    uri: str,
    engine: str,
    master: str,
    host: str,
    port: int,
    interval: timedelta,
    config: Path | None,
    mcp_port: int | None,
) -> None:
    """Serve the fleet at ``uri`` read-only, on ``engine``."""
    settings = load_settings(config)
    store = open_fleet(uri, engine=engine, master=master)
    run_server(
        Path(uri),
        None,
        settings.pricebook(),
        host,
        port,
        interval,
        ApiAccess.from_settings(settings),
        max_window_days=settings.max_window_days,
        mcp_port=mcp_port,
        limits=settings,
        fleet=store,
    )


def _follower(
    source: HistorySource, ledger: Ledger, prices: PriceBook, settings: Settings, backfill: timedelta
) -> Follower:
    return Follower(source, ledger, prices, settings.policy(), backfill=backfill, clock=now)


def run_server(
    db: Path,
    follower: Follower | None,
    prices: PriceBook,
    host: str,
    port: int,
    interval: timedelta,
    access: ApiAccess | None = None,
    *,
    max_window_days: float = 400.0,
    mcp_port: int | None = None,
    pipeline: Pipeline | None = None,
    limits: Settings | None = None,
    fleet: Ledger | None = None,
) -> None:
    """Run the app under uvicorn until interrupted (with ``pipeline``, polling its endpoints in the background).

    With ``mcp_port``, the same process also listens there and answers only ``/mcp`` on it (for MCP clients set up
    for OpenCost's separate MCP port).

    ``access`` (default: ``auth: auto`` with no identities) decides authentication for ``host``; with auth on
    and no identity configured, InvalidInput is raised before anything listens. ``limits`` supplies the cache,
    query-size and allowed-host settings (their defaults when omitted).
    """
    rules = access if access is not None else ApiAccess()
    authenticator = rules.for_host(host)
    if authenticator is None and not is_loopback(host):
        _warn_open(host)
    settings = limits if limits is not None else Settings()
    return_large_blocks(os.environ)
    import uvicorn  # noqa: PLC0415

    from kubetally.api.app import create_app  # noqa: PLC0415

    app = create_app(
        db,
        follower=follower,
        prices=prices,
        interval_seconds=interval.total_seconds(),
        max_window_days=max_window_days,
        auth=authenticator,
        cors_origins=rules.cors_origins,
        mcp_only_port=mcp_port,
        pipeline=pipeline,
        bind_host=host,
        allowed_hosts=settings.allowed_hosts,
        cache_mib=settings.cache_mib,
        cache_entry_mib=settings.cache_entry_mib,
        max_query_rows=settings.max_query_rows,
        fleet=fleet,
    )
    if mcp_port is None:
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    if mcp_port == port:
        raise InvalidParameter("--mcp-port", f"must differ from --port ({port})")
    listeners = [_listen(host, port, "--port"), _listen(host, mcp_port, "--mcp-port")]
    uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=listeners)


def _warn_open(host: str) -> None:
    """Say loudly, before listening, that anyone who reaches ``host`` can read every cost."""
    Console(stderr=True).print(
        f"[bold red]WARNING: authentication is off (auth: off) and the API listens on {host}, not loopback: "
        "anyone who can reach this address reads every cost. Configure users or tokens and set auth: on.[/]",
        highlight=False,
    )


def _listen(host: str, port: int, flag: str) -> socket.socket:
    """A listening socket on ``host:port``; InvalidParameter naming ``flag`` when it cannot be bound."""
    try:
        return socket.create_server((host, port))
    except OSError as exc:
        raise InvalidParameter(flag, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
