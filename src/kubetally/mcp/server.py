"""The MCP server: kubetally's cost tools on the official SDK's FastMCP, for Streamable HTTP and stdio.

Each tool parses its arguments as the HTTP API does (the same ``from_params``, so the same errors), narrows the
query to the caller's scope, answers from the ledger in a worker thread and returns structured output plus the
whole answer as text tables (:mod:`kubetally.mcp.text`). A KubetallyError becomes a tool error (``isError``) with
its message and the values the argument accepts, and so does an argument the tool's schema refuses (without
Pydantic's wording or links); any other exception is logged and answered with a fixed message, never a trace.
``tools/list`` offers each caller only the tools its scope may use (:func:`kubetally.mcp.tools.may_use`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from mcp.types import Tool as McpTool
from pydantic import BaseModel, Field, ValidationError

from kubetally import __version__
from kubetally.domain.aggregation import SIMPLE_KEYS
from kubetally.domain.filter_ast import ALLOCATION_FIELDS, ASSET_FIELDS
from kubetally.domain.names import DEFAULT_LABEL_ALIASES
from kubetally.errors import InvalidParameter, KubetallyError
from kubetally.mcp import assets, tools
from kubetally.mcp.bounds import MAX_SETS, MAX_STRUCTURED_BYTES, MAX_TEXT_CHARS, ROW_CAP, cut_text
from kubetally.mcp.context import Backend, Caller
from kubetally.mcp.models import (
    AggregationValues,
    AllocationCosts,
    AssetCosts,
    CloudCosts,
    Efficiency,
    IdleCosts,
)
from kubetally.mcp.text import TEXTS
from kubetally.query.cloud import CLOUD_COLUMNS
from kubetally.query.efficiency import DEFAULT_HEADROOM
from kubetally.query.idle_summary import IdleBy

LOG = logging.getLogger("kubetally.mcp")

INTERNAL_MESSAGE = "internal error: the costs could not be computed; the server log has the details"

WINDOW_HELP = (
    "`today`, `yesterday`, `week`, `lastweek`, `month`, `lastmonth`, `<n>h|d|w` (e.g. `7d`: today and the 6 days "
    "before), `<dur> offset <dur>`, or `start,end` as RFC 3339 times (e.g. `2026-11-01T00:00:00Z,2026-11-08T00:00:00Z`)"
)
AGGREGATE_HELP = (
    f"comma list of {', '.join(key.name for key in SIMPLE_KEYS.values())}, "
    f"{', '.join(DEFAULT_LABEL_ALIASES)} (each reads its label), label:<key>, annotation:<key>, or all; "
    "controllerKind values are lower case as in OpenCost (deployment, statefulset, daemonset, job, replicaset, "
    "rollout), `controller` values are `kind:name` (`deployment:frontend`), `job` puts a CronJob's jobs under the "
    "CronJob's name, `cronjob` groups by owning CronJob; empty: one allocation per container"
)
"""The aggregates get_allocation_costs accepts, from the domain's aggregation table."""
FILTER_HELP = (
    f'filter language v2 over the fields {ALLOCATION_FIELDS.describe()}, e.g. `namespace:"checkout"`, '
    '`label[app]:"web"` (also `label:app:web`), `namespace!:"kube-system"`, `controllerKind:"deployment"` '
    "(controllerKind and controllerName ignore case), terms joined with `+` (and) or `|` (or); "
    "list_aggregation_values shows the values"
)
ASSET_FILTER_HELP = (
    f'Asset filter v2 over the fields {ASSET_FIELDS.describe()}, e.g. `cluster:"prod-eu"` or `name:"pv-data"`'
)
HINTS = {
    "window": WINDOW_HELP,
    "aggregate": AGGREGATE_HELP,
    "filter": FILTER_HELP,
    "step": "`1h`, `6h`, `1d`, `hour`, `day`, `week`, `month`, `quarter` (empty: one set for the whole window)",
    "accumulate": "`true` (one set), `false`, `hour`, `day`, `week`, `month`, `quarter`",
}
"""What each argument accepts, added to the message of a tool error about it."""

Window = Annotated[str, Field(description=f"The time window: {WINDOW_HELP}.")]
Filter = Annotated[str, Field(description=f"Only matching allocations: {FILTER_HELP}.")]

_Out = TypeVar("_Out", bound=BaseModel)

SIZE = (
    f"Any window fits: the text is at most {MAX_TEXT_CHARS:,} characters and the structured content at most "
    f"{MAX_STRUCTURED_BYTES // 1024} KiB."
)
"""The size every tool's answer stays under (docs/mcp.md, "Output size")."""


NON_ALLOCATION_HINTS = {name: hint for name, hint in HINTS.items() if name not in ("aggregate", "filter")}
"""The hints of tools whose aggregate and filter fields are not the allocation ones (their errors list them)."""


def _tool_error(exc: KubetallyError, hints: dict[str, str]) -> ToolError:
    message = exc.message
    if isinstance(exc, InvalidParameter) and exc.parameter in hints and "accepted:" not in message:
        message += f" (allowed: {hints[exc.parameter]})"
    return ToolError(message)


async def _run(compute: Callable[[], _Out], hints: dict[str, str] = HINTS) -> CallToolResult:
    """``compute()`` in a worker thread, as structured content and its summary text; errors name ``hints``."""
    try:
        result = await anyio.to_thread.run_sync(compute)
    except KubetallyError as exc:
        raise _tool_error(exc, hints) from None
    except Exception:
        LOG.exception("MCP tool failed")
        raise ToolError(INTERNAL_MESSAGE) from None
    summary = cut_text(TEXTS[type(result)](result))
    return CallToolResult(
        content=[TextContent(type="text", text=summary)], structuredContent=result.model_dump(mode="json")
    )


CallerOf = Callable[[Context[Any, Any, Any]], Caller]
"""The caller of a tool call, from its context (the HTTP request's identity, or the local user)."""

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

REQUEST_LOGGERS = ("mcp.server.lowlevel.server", "mcp.server.streamable_http")
"""The SDK's loggers that write an INFO line per request (over stdio, clients such as Cline show every line on
stderr as a server error; over HTTP, stateless, each request also "terminates" its session): kept at WARNING."""


def _argument_error(exc: ValidationError, tool: McpTool | None) -> str:
    """The arguments a tool's schema refused, each with what it accepts (from its description)."""
    properties = {} if tool is None else tool.inputSchema.get("properties", {})
    problems = []
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "arguments"
        found = "missing (required)" if error["type"] == "missing" else error["msg"]
        accepted = properties.get(str(error["loc"][0]), {}).get("description") if error["loc"] else None
        problems.append(f"{name}: {found}" + (f" (expected: {accepted.rstrip('.')})" if accepted else ""))
    return "; ".join(problems)


class _CostServer(FastMCP[Any]):
    """FastMCP listing each caller only the tools its scope may use, and naming refused arguments plainly."""

    def __init__(self, caller_of: CallerOf, **settings: Any) -> None:
        self._caller_of = caller_of
        super().__init__(**settings)

    async def list_tools(self) -> list[McpTool]:
        scope = self._caller_of(self.get_context()).scope
        return [tool for tool in await super().list_tools() if tools.may_use(tool.name, scope)]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Sequence[ContentBlock] | dict[str, Any]:
        try:
            return await super().call_tool(name, arguments)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ToolError):  # the tool's own error, without the SDK's "Error executing tool"
                raise ToolError(str(cause)) from None
            if isinstance(cause, ValidationError):
                listed = {tool.name: tool for tool in await super().list_tools()}
                raise ToolError(_argument_error(cause, listed.get(name))) from None
            raise


def build_server(backend: Backend, caller_of: CallerOf, *, log_level: LogLevel = "INFO") -> FastMCP[Any]:
    """A FastMCP server answering the cost tools from ``backend`` for the callers ``caller_of`` names.

    ``log_level`` is the level the SDK sets on the root logger when nothing configured logging before it."""
    server = _CostServer(
        caller_of,
        name="kubetally",
        instructions=(
            "Kubernetes costs from the kubetally ledger (OpenCost's model), in the price book's currency. Use "
            "list_aggregation_values to find namespaces, controllers and labels; get_allocation_costs for workload "
            "costs and a filter's share of all costs; get_asset_costs for nodes and persistent volumes (type=Disk); "
            "get_idle_costs for the unallocated share; get_efficiency for right-sizing. Every answer is a text "
            f"table of at most {MAX_TEXT_CHARS:,} characters whose totals count every row."
        ),
        stateless_http=True,
        json_response=True,
        log_level=log_level,
    )
    for name in REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    server._mcp_server.version = __version__
    read_only = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)
    _register(server, backend, caller_of, read_only)
    return server


def _register(server: FastMCP[Any], backend: Backend, caller_of: CallerOf, read_only: ToolAnnotations) -> None:
    @server.tool(
        annotations=read_only,
        description="Cost of Kubernetes workloads (OpenCost allocations) over a window, aggregated and filtered, "
        "with idle and shared-cost options. Returns a text table (one row per allocation: cpu, ram, pv, network, "
        "shared and total cost in the price book's currency, and its % of all costs) and the same as structured "
        "content. Totals are exact; the allocated cost's share of ALL costs (the unfiltered total of the window, "
        "idle included) is given overall and per cluster, so a filter's share is read directly. Without `step` "
        f"one set covers the window; at most {MAX_SETS} sets (a finer step is coarsened, empty sets dropped) and "
        f"{ROW_CAP} rows (the largest; the rest counted). Idle appears as `__idle__` rows unless idle=hide/share. "
        + SIZE,
    )
    async def get_allocation_costs(
        ctx: Context[Any, Any, Any],
        *,
        window: Window,
        aggregate: Annotated[str, Field(description=f"Group by: {AGGREGATE_HELP}.")] = "",
        filter: Filter = "",
        step: Annotated[str, Field(description=f"Length of each set: {HINTS['step']}.")] = "",
        accumulate: Annotated[str, Field(description=f"Sets per period: {HINTS['accumulate']}.")] = "",
        idle: Annotated[
            Literal["separate", "hide", "share"],
            Field(description="Idle cost: `separate` rows (default), `hide`, or `share` onto allocations by cost."),
        ] = "separate",
        idle_by_node: Annotated[bool, Field(description="Compute (and share) idle per node.")] = False,
        split_idle: Annotated[bool, Field(description="One `__idle__` row per cluster (per node).")] = False,
        share_namespaces: Annotated[str, Field(description="Comma list of namespaces whose cost is shared.")] = "",
        share_labels: Annotated[str, Field(description="`key:value,...`: allocations with any are shared.")] = "",
        share_filter: Annotated[str, Field(description="A filter: matching allocations are shared.")] = "",
        share_split: Annotated[
            str, Field(description="`weighted` (by cost, default), `even`, or `metric:<cpu|ram|gpu|pv|network>`.")
        ] = "",
        share_cost: Annotated[
            float, Field(ge=0, description="Fixed overhead per month to share, in the price book's currency.")
        ] = 0.0,
        share_tenancy_costs: Annotated[bool, Field(description="Share the cluster-management cost.")] = False,
    ) -> Annotated[CallToolResult, AllocationCosts]:
        params = {
            "window": window,
            "aggregate": aggregate,
            "filter": filter,
            "step": step,
            "accumulate": accumulate,
            "idle": idle,
            "idleByNode": str(idle_by_node).lower(),
            "splitIdle": str(split_idle).lower(),
            "shareNamespaces": share_namespaces,
            "shareLabels": share_labels,
            "shareFilter": share_filter,
            "shareSplit": share_split,
            "shareCost": str(share_cost) if share_cost else "",
            "shareTenancyCosts": str(share_tenancy_costs).lower(),
        }
        scope = caller_of(ctx).scope
        return await _run(lambda: tools.allocation_costs(backend, scope, params))

    @server.tool(
        annotations=read_only,
        description="Cost of the cluster's assets (nodes, persistent volumes as `Disk`, load balancers, network, "
        "cluster management) over a window. Returns a text table, one row per asset: type, cluster, name, claim, "
        "namespace, GiB, hours and cost in the price book's currency, and the same as structured content. For "
        f"persistent volumes use type=Disk. At most {MAX_SETS} sets (a finer step is coarsened) and {ROW_CAP} rows "
        "(the largest; the total exact). Not available to namespace-scoped identities. " + SIZE,
    )
    async def get_asset_costs(
        ctx: Context[Any, Any, Any],
        window: Window,
        type: Annotated[
            str, Field(description=f"Only assets of this type: {', '.join(assets.ASSET_TYPES)} (empty: all).")
        ] = "",
        filter: Annotated[str, Field(description=f"{ASSET_FILTER_HELP}.")] = "",
        step: Annotated[str, Field(description=f"Length of each set: {HINTS['step']}.")] = "",
    ) -> Annotated[CallToolResult, AssetCosts]:
        params = {"window": window, "filter": filter, "step": step}
        scope = caller_of(ctx).scope
        return await _run(lambda: assets.asset_costs(backend, scope, params, type), NON_ALLOCATION_HINTS)

    @server.tool(
        annotations=read_only,
        description="Cloud bill costs (FOCUS rows ingested from the provider's bills) over a window, aggregated "
        f"by any of {', '.join(CLOUD_COLUMNS)}. The filter is applied (unknown fields are refused, never ignored). "
        f"Empty, with a note, until bills are ingested. At most {ROW_CAP} rows (the largest; the total exact). Not "
        "available to scoped identities. " + SIZE,
    )
    async def get_cloud_costs(
        ctx: Context[Any, Any, Any],
        window: Window,
        aggregate: Annotated[str, Field(description=f"Comma list of {', '.join(CLOUD_COLUMNS)}.")] = "",
        filter: Annotated[
            str, Field(description='Filter v2 over the aggregate fields and label[..], e.g. `service:"AmazonEC2"`.')
        ] = "",
    ) -> Annotated[CallToolResult, CloudCosts]:
        scope = caller_of(ctx).scope
        return await _run(lambda: tools.cloud_costs(backend, scope, window, aggregate, filter), NON_ALLOCATION_HINTS)

    @server.tool(
        annotations=read_only,
        description="Idle (unallocated) cost: capacity paid for but not requested or used by any workload. "
        "Returns idle cost and its percentage of the total overall, per resource (cpu, ram, gpu) and per cluster "
        "or node (at most "
        f"{ROW_CAP}), in the price book's currency, and the cluster-management fees left outside the total. Answers "
        "'what share of the cluster cost is not allocated?'. Not available to namespace-scoped identities; a "
        "cluster-scoped identity gets its own clusters. " + SIZE,
    )
    async def get_idle_costs(
        ctx: Context[Any, Any, Any],
        window: Window,
        by: Annotated[Literal["cluster", "node"], Field(description="Breakdown per cluster or per node.")] = "cluster",
    ) -> Annotated[CallToolResult, IdleCosts]:
        scope = caller_of(ctx).scope
        return await _run(lambda: tools.idle_costs(backend, scope, window, IdleBy(by)))

    @server.tool(
        annotations=read_only,
        description="Right-sizing per workload: CPU and RAM request vs usage averages, efficiency (usage/request), "
        "the recommended request (usage plus headroom) and the saving over the window and per 730-hour month if "
        "requests were set to it (negative: requests are below usage plus headroom), in the price book's currency. "
        f"Savings are the workloads' own costs, idle never included. Largest saving first, at most {ROW_CAP} "
        "workloads (the total saving counts all). " + SIZE,
    )
    async def get_efficiency(
        ctx: Context[Any, Any, Any],
        window: Window,
        aggregate: Annotated[
            str, Field(description=f"What a workload is (default `namespace,controller`): {AGGREGATE_HELP}.")
        ] = "namespace,controller",
        filter: Filter = "",
        headroom: Annotated[
            float, Field(ge=0, le=10, description="Fraction added to usage for the recommended request.")
        ] = DEFAULT_HEADROOM,
    ) -> Annotated[CallToolResult, Efficiency]:
        scope = caller_of(ctx).scope
        return await _run(lambda: tools.efficiency(backend, scope, window, aggregate, filter, headroom=headroom))

    @server.tool(
        annotations=read_only,
        description="The clusters, nodes, namespaces, controller kinds, controllers (`kind:name`) and label keys "
        "with their values that exist in a window: use them to build correct `aggregate` and `filter` arguments "
        '(e.g. aggregate `label:app`, filter `label[app]:"web"`). At most 200 values of each kind. ' + SIZE,
    )
    async def list_aggregation_values(
        ctx: Context[Any, Any, Any],
        window: Window,
        filter: Filter = "",
    ) -> Annotated[CallToolResult, AggregationValues]:
        scope = caller_of(ctx).scope
        return await _run(lambda: tools.aggregation_values(backend, scope, window, filter))


__all__ = ["INTERNAL_MESSAGE", "CallerOf", "build_server"]
