"""The HTTP app of ``kubetally serve``: OpenCost's API (at ``/`` and ``/model``), the MCP server (``/mcp``),
``/metrics``, ``/healthz``, ``/readyz`` and ``/version``.

With a Follower, the app runs its steps in a background thread (the only ledger writer) and reads through the
same Ledger object, whose reads each use their own DuckDB cursor. Without one, it opens the ledger read-only and
serves what is there. Errors become OpenCost's error envelope in one place (:mod:`kubetally.api.errors`).

Other routers (plain ``APIRouter``s raising kubetally.errors exceptions) reach the ledger with
``request.app.state.kubetally.reader()`` and the time with :func:`clock_of`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from kubetally import __version__
from kubetally.api import (
    autocomplete,
    backup,
    cloud,
    clusters,
    custom_costs,
    focus,
    legacy,
    reconciliation,
    session_routes,
)
from kubetally.api.auth import (
    CHALLENGE,
    Authenticator,
    identity_of,
    require_unscoped,
    throttled_error,
    unauthorized_error,
)
from kubetally.api.envelope import failure, success
from kubetally.api.errors import install_error_handlers
from kubetally.api.follow_loop import FollowLoop, PipelineLoop
from kubetally.api.hosts import HostCheck
from kubetally.api.metrics import LedgerCollector, Telemetry
from kubetally.api.refusals import RefusalMemo
from kubetally.api.routes import clock_of, router
from kubetally.api.schema import PLAIN_ERRORS, QUERY_ERRORS, errors, install_schema
from kubetally.domain.pricing import PriceBook
from kubetally.errors import InvalidParameter, LedgerError, TooManyRequests, Unauthorized
from kubetally.focus.pipeline import Pipeline
from kubetally.ingest.follow import Follower
from kubetally.ledger import Ledger
from kubetally.mcp import Backend, McpHttpApp
from kubetally.query.budget import DEFAULT_MAX_QUERY_ROWS
from kubetally.query.cache import QueryCache
from kubetally.query.exposition import last_ingest
from kubetally.ui import router as ui_router

Clock = Callable[[], datetime]

DEFAULT_MAX_WINDOW_DAYS = 400.0
"""The longest window a query may ask for, by default."""

DEFAULT_CACHE_MIB = 96.0
"""What the query cache may keep, by default (a 512 MiB pod)."""
DEFAULT_CACHE_ENTRY_MIB = 16.0
"""Answers counted as more are not cached, by default."""
_MIB = 1024 * 1024

__all__ = ["DEFAULT_CACHE_MIB", "DEFAULT_MAX_WINDOW_DAYS", "Clock", "clock_of", "create_app"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _State:
    """What the routes share: the open ledger (or why it is not), the follow loop and the metrics registry."""

    ledger_path: Path
    registry: CollectorRegistry
    telemetry: Telemetry
    clock: Clock
    max_window_days: float = DEFAULT_MAX_WINDOW_DAYS
    ledger: Ledger | None = None
    ledger_error: str | None = None
    loop: FollowLoop | None = None
    pipeline: PipelineLoop | None = None
    owns_ledger: bool = field(default=False)
    auth: Authenticator | None = None
    """Checks the credentials of every protected route; ``None`` when authentication is off."""
    cache: QueryCache = field(default_factory=lambda: QueryCache(max_entries=128))
    """Answers for windows of unchanged hours (see docs/query.md, Caching)."""
    currency: str = "USD"
    """The price book's currency (OpenCost ``currencyCode``): what the UI shows costs in."""
    fleet: Ledger | None = None
    """The fleet store served instead of the ledger file (``serve --fleet``)."""

    def reader(self) -> Ledger:
        if self.ledger is None:
            raise LedgerError(self.ledger_error or f"ledger {self.ledger_path} is not open")
        return self.ledger


MAX_QUERY_BYTES = 15 * 1024
"""The longest URL path plus query string answered; longer requests get 414 before any parsing."""


class RequestSizeLimit:
    """ASGI middleware: a 414 in the error envelope for a path and query longer than :data:`MAX_QUERY_BYTES`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            if size > MAX_QUERY_BYTES:
                message = f"the URL is {size} bytes long; at most {MAX_QUERY_BYTES} are allowed"
                await failure(414, "uri_too_long", message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class McpOnlyPort:
    """ASGI middleware: on ``port`` (the MCP port of ``kubetally serve --mcp-port``), answer only ``/mcp``."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") or (None, None)
        if scope["type"] == "http" and server[1] == self.port and scope["path"] != "/mcp":
            message = f"port {self.port} serves only /mcp; the API is on the main port"
            await failure(404, "not_found", message)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    ledger_path: Path | str,
    *,
    follower: Follower | None = None,
    prices: PriceBook | None = None,
    interval_seconds: float = 60.0,
    clock: Clock = _utc_now,
    max_window_days: float = DEFAULT_MAX_WINDOW_DAYS,
    auth: Authenticator | None = None,
    cors_origins: Sequence[str] = (),
    mcp_only_port: int | None = None,
    pipeline: Pipeline | None = None,
    bind_host: str | None = None,
    allowed_hosts: Sequence[str] = (),
    cache_mib: float = DEFAULT_CACHE_MIB,
    cache_entry_mib: float = DEFAULT_CACHE_ENTRY_MIB,
    max_query_rows: int = DEFAULT_MAX_QUERY_ROWS,
    fleet: Ledger | None = None,
) -> FastAPI:
    """The serve app over the ledger at ``ledger_path``.

    ``follower`` (whose ledger must be that file) is stepped every ``interval_seconds`` in the background;
    ``prices`` supplies the egress prices of ``/metrics`` (the follower's when omitted); ``clock`` is "now" for
    relative windows and ingest ages; a query whose window is longer than ``max_window_days`` is refused (400).
    With ``auth``, every route but ``/healthz``, ``/readyz``, ``/version`` and the schema pages needs credentials
    (401 otherwise) and scoped identities see only their own costs; ``cors_origins`` may call the API from a
    browser; ``fleet`` (a :class:`kubetally.ledger.fleet.FleetLedger`) is served instead of the file. Requests that
    arrive on ``mcp_only_port`` may only reach ``/mcp`` (404 elsewhere). ``pipeline``
    (whose ledger must be that file, writable) polls its cloud bill endpoints in the background, and its
    ``billed_cost`` gauge is on ``/metrics``. With ``bind_host``, requests addressed (``Host``) to other names
    than it and ``allowed_hosts`` are refused (403), and so are ``/mcp`` requests from other origins. The query
    cache keeps at most ``cache_mib`` of answers, none above ``cache_entry_mib``; an allocation query asking
    for more than ``max_query_rows`` rows is refused (400).
    """
    path = Path(ledger_path)
    if interval_seconds <= 0:
        raise InvalidParameter("interval", f"must be positive, got {interval_seconds} s")
    if not max_window_days > 0:
        raise InvalidParameter("max_window_days", f"must be positive, got {max_window_days}")
    if follower is not None and follower.ledger.path.resolve() != path.resolve():
        raise InvalidParameter("follower", f"writes {follower.ledger.path}, not the served ledger {path}")
    if pipeline is not None and pipeline.ledger.path.resolve() != path.resolve():
        raise InvalidParameter("pipeline", f"writes {pipeline.ledger.path}, not the served ledger {path}")
    registry = CollectorRegistry()
    telemetry = Telemetry(registry)
    book = prices if prices is not None else (follower.prices if follower is not None else None)
    state = _State(path, registry, telemetry, clock, max_window_days, auth=auth, fleet=fleet)
    state.cache = QueryCache(
        128, max_bytes=int(cache_mib * _MIB), max_entry_bytes=int(cache_entry_mib * _MIB), max_query_rows=max_query_rows
    )
    if book is not None:
        state.currency = book.currency
    registry.register(LedgerCollector(state.reader, book, telemetry, clock))
    if pipeline is not None:
        registry.register(pipeline.collector)
    mcp = McpHttpApp(
        Backend(state.reader, clock, state.cache, max_window_days, currency=state.currency),
        None if auth is None else auth.authenticate,
        CHALLENGE,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _start(state, follower, interval_seconds, pipeline)
        try:
            async with mcp.running():
                yield
        finally:
            _stop(state)

    app = FastAPI(
        title="kubetally",
        version=__version__,
        description="Kubernetes cost allocation answered from the ledger: OpenCost's API, also under /model.",
        lifespan=lifespan,
    )
    app.state.kubetally = state
    install_error_handlers(app)
    install_schema(app)
    app.add_exception_handler(Unauthorized, unauthorized_error)
    app.add_exception_handler(TooManyRequests, throttled_error)
    app.add_middleware(RequestSizeLimit)
    app.add_middleware(RefusalMemo)  # inside the Host check and CORS: see kubetally.api.refusals
    if mcp_only_port is not None:
        app.add_middleware(McpOnlyPort, port=mcp_only_port)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET"],
            allow_headers=["Authorization"],
            allow_credentials=True,
        )
    if bind_host is not None:
        app.add_middleware(HostCheck, bind_host=bind_host, allowed_hosts=allowed_hosts, cors_origins=cors_origins)
    protected = [Depends(identity_of)]
    for prefix, module_router in (
        ("", router),
        ("/model", router),
        ("", autocomplete.router),
        ("/model", autocomplete.router),
        ("", autocomplete.cloud_router),
        ("/model", autocomplete.cloud_router),
        ("/model", legacy.router),
        ("", cloud.router),
        ("/model", cloud.router),
        ("", custom_costs.router),
        ("/model", custom_costs.router),
        ("", reconciliation.router),
        ("/model", reconciliation.router),
        ("", focus.router),
        ("", clusters.router),
        ("/model", focus.router),
        ("", backup.router),
    ):
        app.include_router(module_router, prefix=prefix, dependencies=protected, responses=QUERY_ERRORS)
    app.include_router(session_routes.router, responses=errors(401, 403, 404, 414, 429))
    app.include_router(ui_router)
    app.router.routes.append(Route("/mcp", mcp, include_in_schema=False))

    @app.get("/version", responses=PLAIN_ERRORS)
    def version() -> JSONResponse:
        return success({"version": __version__})

    @app.get(
        "/metrics",
        dependencies=[Depends(require_unscoped)],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}, **errors(401, 403, 414, 429, 503)},
    )
    def metrics() -> Response:
        state.reader()
        return Response(generate_latest(state.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", responses=PLAIN_ERRORS)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", responses={**PLAIN_ERRORS, 503: {"description": "Not ready: `reason` says why."}})
    def readyz() -> JSONResponse:
        return _readiness(state)

    return app


def _start(state: _State, follower: Follower | None, interval_seconds: float, pipeline: Pipeline | None) -> None:
    if pipeline is not None:
        state.ledger = pipeline.ledger
        state.pipeline = PipelineLoop(pipeline)
        state.pipeline.start()
    if follower is not None:
        state.ledger = follower.ledger
        state.loop = FollowLoop(follower, state.telemetry, interval_seconds)
        state.loop.start()
    if state.ledger is not None:
        return
    if state.fleet is not None:
        state.ledger = state.fleet
        state.owns_ledger = True
        return
    try:
        state.ledger = Ledger.open(state.ledger_path, read_only=True)
        state.owns_ledger = True
    except LedgerError as exc:
        state.ledger_error = exc.message


def _stop(state: _State) -> None:
    if state.loop is not None:
        state.loop.stop()
    if state.pipeline is not None:
        state.pipeline.stop()
    if state.owns_ledger and state.ledger is not None:
        state.ledger.close()
    state.ledger = None


def _readiness(state: _State) -> JSONResponse:
    """Ready when the ledger is open and, with a follow loop, once its first step has finished."""
    if state.ledger is None:
        message = state.ledger_error or f"ledger {state.ledger_path} is not open"
        return JSONResponse({"ready": False, "reason": message}, status_code=503)
    finished = last_ingest(state.ledger)
    age = None if finished is None else (state.clock() - finished).total_seconds()
    body: dict[str, object] = {"ready": True, "last_ingest_age_seconds": age}
    loop = state.loop
    if loop is not None:
        body["follow_steps"] = loop.steps
        body["last_error"] = loop.last_error
        if loop.steps == 0:
            body["ready"] = False
            body["reason"] = loop.last_error or "the first follow step has not finished"
            return JSONResponse(body, status_code=503)
    return JSONResponse(body)
