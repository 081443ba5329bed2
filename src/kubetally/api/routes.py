"""OpenCost's query endpoints: ``/allocation`` (and ``/compute``), their summaries and ``/assets``.

The parameters are declared so that the OpenAPI schema documents them, but every handler passes the raw query
string mapping to ``AllocationQuery.from_params`` / ``AssetQuery.from_params``, so the HTTP API, the CLI and MCP
parse alike and fail alike; unknown parameters are ignored, as OpenCost does, and named in the
envelope's ``warning`` (:mod:`kubetally.api.ignored`). The data comes from ``run_allocation``
/ ``run_assets`` unchanged: the summary endpoints only select and rename fields.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kubetally.api.auth import scope_of
from kubetally.api.ignored import answer
from kubetally.api.schema import param
from kubetally.domain.aggregation import SIMPLE_KEYS
from kubetally.domain.names import DEFAULT_LABEL_ALIASES
from kubetally.domain.window import Window, parse_accumulate
from kubetally.errors import InvalidWindow
from kubetally.ledger import Ledger
from kubetally.ledger.fleet import FleetLedger, for_window
from kubetally.query import AllocationQuery, AssetQuery
from kubetally.query.cache import QueryCache
from kubetally.query.scope import scope_allocation, scope_assets

Text = str | None

WINDOW = Query(
    json_schema_extra=param("window"),
    description="The window: `today`, `yesterday`, `week`, `lastweek`, `month`, `lastmonth`, `<n>m|h|d|w` (e.g. "
    "`7d`), `<dur> offset <dur>`, or a pair of RFC3339 times or Unix seconds (`start,end`). Required.",
    examples=["7d"],
)
STEP = Query(
    json_schema_extra=param("step"),
    description="Length of each set: `1h`, `6h`, `1d`, `hour`, `day`, `week`, `month`, `quarter`.",
)
ACCUMULATE = Query(
    json_schema_extra=param("accumulate"),
    description="`true`/`all`: one set for the whole window; `false` (default); or `hour`, `day`, `week`, `month`, "
    "`quarter`: one set per period.",
)
ACCUMULATE_BY = Query(
    json_schema_extra=param("accumulate"), alias="accumulateBy", description="Kubecost's name for `accumulate`."
)
FILTER = Query(description='Filter language v2, e.g. `namespace:"kube-system"` or `label[app]:"web"`.')
ASSET_STEP = Query(
    json_schema_extra=param("step"),
    description="Checked as for `/allocation`, and without effect: as OpenCost's `/assets`, the answer is one set "
    "over the window unless `accumulate` names a period.",
)
ASSET_ACCUMULATE = Query(
    json_schema_extra=param("accumulate"),
    description="`hour`, `day`, `week`, `weeknow`, `month`, `quarter`: a list of sets, one per period. Any other "
    "value (`true`, `false`, none): one set over the window, as OpenCost answers `/assets`.",
)
ASSET_FILTER = Query(
    json_schema_extra=param("asset-filter"), alias="filter", description="Filter language v2 over asset fields."
)

SUMMARY_FIELDS = (
    "name",
    "properties",
    "start",
    "end",
    "cpuCoreRequestAverage",
    "cpuCoreUsageAverage",
    "cpuCost",
    "cpuCostAdjustment",
    "cpuCostIdle",
    "gpuRequestAverage",
    "gpuUsageAverage",
    "gpuCost",
    "gpuCostAdjustment",
    "gpuCostIdle",
    "networkCost",
    "loadBalancerCost",
    "pvCost",
    "pvCostAdjustment",
    "ramByteRequestAverage",
    "ramByteUsageAverage",
    "ramCost",
    "ramCostAdjustment",
    "ramCostIdle",
    "sharedCost",
    "externalCost",
    "totalEfficiency",
    "totalCost",
)
"""The fields of an OpenCost summary allocation, taken from the full allocation as they are."""


def clock_of(request: Request) -> datetime:
    """The current time by the app's clock (``create_app(clock=...)``): what handlers must use as "now"."""
    now: datetime = request.app.state.kubetally.clock()
    return now


def reader(request: Request, window: Window | None = None) -> Ledger:
    """The served ledger; LedgerError (503) when it is not open.

    On a fleet, a cluster-scoped identity reads a store listing only its clusters' partitions, and a query bounded
    by ``window`` one listing only the window's days (pruned before the engine sees the dataset)."""
    ledger: Ledger = request.app.state.kubetally.reader()
    clusters = scope_of(request).clusters
    if isinstance(ledger, FleetLedger) and clusters is not None:
        ledger = ledger.scoped(frozenset(clusters))
    return ledger if window is None else for_window(ledger, window.start, window.end)


def cache(request: Request) -> QueryCache:
    """The app's query cache: answers for windows whose hours have not been rewritten since."""
    shared: QueryCache = request.app.state.kubetally.cache
    return shared


def check_window(request: Request, window: Window) -> None:
    """Refuse a window longer than the app's maximum (``create_app(max_window_days=...)``)."""
    limit: float = request.app.state.kubetally.max_window_days
    if window.duration > timedelta(days=limit):
        days = window.duration / timedelta(days=1)
        raise InvalidWindow(f"the window spans {days:g} days; at most {limit:g} days are allowed")


def allocation_params(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    aggregate: Annotated[
        Text,
        Query(
            json_schema_extra=param("allocation-aggregate"),
            description=f"Comma list of `{', '.join(key.name for key in SIMPLE_KEYS.values())}, "
            f"{', '.join(DEFAULT_LABEL_ALIASES)}, label:<name>, annotation:<name>` or `all`; case-insensitive. "
            "`controller` names are `kind:name` with OpenCost's lower-case kinds (`deployment:frontend`); `job` puts "
            "a CronJob's jobs under the CronJob's name, `cronjob` groups by owning CronJob. Empty: one allocation "
            "per container (`cluster/node/namespace/pod/container`).",
        ),
    ] = None,
    step: Annotated[Text, STEP] = None,
    accumulate: Annotated[Text, ACCUMULATE] = None,
    accumulate_by: Annotated[Text, ACCUMULATE_BY] = None,
    filter_: Annotated[
        Text, Query(json_schema_extra=param("filter"), alias="filter", description=FILTER.description)
    ] = None,
    include_idle: Annotated[
        Text,
        Query(
            json_schema_extra=param("boolean"),
            alias="includeIdle",
            description="OpenCost: `true` (default) adds `__idle__` allocations.",
        ),
    ] = None,
    idle: Annotated[
        Text,
        Query(
            json_schema_extra=param("idle"),
            description="Kubecost's name for `includeIdle` (`true`/`false`); also `hide`, `separate`, `share`.",
        ),
    ] = None,
    share_idle: Annotated[
        Text,
        Query(
            json_schema_extra=param("boolean"),
            alias="shareIdle",
            description="`true`: distribute idle onto the allocations by cost.",
        ),
    ] = None,
    idle_by_node: Annotated[
        Text,
        Query(
            json_schema_extra=param("boolean"),
            alias="idleByNode",
            description="`true`: compute (and share) idle per node, not per cluster.",
        ),
    ] = None,
    split_idle: Annotated[
        Text,
        Query(
            json_schema_extra=param("boolean"),
            alias="splitIdle",
            description="`true`: `<cluster>/__idle__` (`<cluster>/<node>/__idle__`) rows.",
        ),
    ] = None,
    share_namespaces: Annotated[
        Text,
        Query(
            json_schema_extra=param("names"),
            alias="shareNamespaces",
            description="Comma list of namespaces whose cost is shared.",
        ),
    ] = None,
    share_labels: Annotated[
        Text,
        Query(
            json_schema_extra=param("share-labels"),
            alias="shareLabels",
            description="`key:value,key2:value2`: allocations with any are shared.",
        ),
    ] = None,
    share_filter: Annotated[
        Text,
        Query(
            json_schema_extra=param("filter"),
            alias="shareFilter",
            description="A filter v2: matching allocations are shared.",
        ),
    ] = None,
    share_cost: Annotated[
        Text,
        Query(
            json_schema_extra=param("money"),
            alias="shareCost",
            description="Fixed overhead in $ per month (730 h) shared over the sets.",
        ),
    ] = None,
    share_split: Annotated[
        Text,
        Query(
            json_schema_extra=param("share-split"),
            alias="shareSplit",
            description="`weighted` (default, by cost), `even`, or `metric:<cpu|ram|gpu|pv|network>`.",
        ),
    ] = None,
    share_tenancy_costs: Annotated[
        Text,
        Query(
            json_schema_extra=param("boolean"),
            alias="shareTenancyCosts",
            description="`true`: share the cluster-management cost.",
        ),
    ] = None,
    include_aggregated_metadata: Annotated[
        Text,
        Query(
            json_schema_extra=param("boolean"),
            alias="includeAggregatedMetadata",
            description="Accepted (`true`/`false`).",
        ),
    ] = None,
) -> AllocationQuery:
    """An /allocation request decoded from its raw query string (the declared parameters document it)."""
    query = AllocationQuery.from_params(dict(request.query_params), clock_of(request))
    check_window(request, query.window)
    return scope_allocation(query, scope_of(request))


def asset_params(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    aggregate: Annotated[
        Text,
        Query(
            json_schema_extra=param("asset-aggregate"),
            description="Comma list of `type, cluster, category, service, name, providerID, nodeType, storageClass, "
            "region, zone, label:<name>`. Empty: one entry per asset.",
        ),
    ] = None,
    step: Annotated[Text, ASSET_STEP] = None,
    accumulate: Annotated[Text, ASSET_ACCUMULATE] = None,
    accumulate_by: Annotated[Text, ACCUMULATE_BY] = None,
    filter_: Annotated[Text, ASSET_FILTER] = None,
) -> AssetQuery:
    """An /assets request decoded from its raw query string; one set over the window unless it asks for periods."""
    query = AssetQuery.from_params(dict(request.query_params), clock_of(request))
    if not asks_for_periods(request):
        query = replace(query, sets=(query.window,))
    check_window(request, query.window)
    return scope_assets(query, scope_of(request))


def asks_for_periods(request: Request) -> bool:
    """Whether an /assets request names a period in ``accumulate`` (or ``accumulateBy``): ``hour``, ``day``, ...

    Such a request is answered with a list of sets, one per period (Kubecost's daily series is ``accumulate=day``).
    Any other is answered with one set over the window, the set itself, as OpenCost answers ``/assets``: OpenCost
    ignores ``step`` and ``accumulate`` there, and its UI reads one set for both its "Entire window" and its "Daily"
    choice (``accumulate=false&step=1d``). The values were checked by ``AssetQuery.from_params``.
    """
    name = "accumulateBy" if request.query_params.get("accumulateBy") else "accumulate"
    return parse_accumulate(request.query_params.get(name), name).step is not None


AllocationRequest = Annotated[AllocationQuery, Depends(allocation_params)]
AssetRequest = Annotated[AssetQuery, Depends(asset_params)]


def allocation(request: Request, query: AllocationRequest) -> JSONResponse:
    """Allocation sets (one per step), each keyed by allocation name, in OpenCost's shape."""
    return answer(request, cache(request).allocation(reader(request, query.window), query))


def allocation_summary(request: Request, query: AllocationRequest) -> JSONResponse:
    """OpenCost's summary range: ``{"step", "sets": [{"allocations", "window"}], "window"}``."""
    sets = cache(request).allocation(reader(request, query.window), query)
    return answer(request, summary_range(query, sets))


def assets(request: Request, query: AssetRequest) -> JSONResponse:
    """One asset set over the window, keyed by asset key, as OpenCost answers ``/assets``; a list of sets, one per
    period, when ``accumulate`` names a period (:func:`asks_for_periods`)."""
    sets = cache(request).assets(reader(request, query.window), query)
    return answer(request, sets if asks_for_periods(request) else sets[0])


def summary_range(query: AllocationQuery, sets: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The summary shape of ``sets``: the summary fields of each allocation, with each set's window.

    ``step`` is the length of the first set in nanoseconds (Go's encoding of a duration, as OpenCost sends it).
    """
    first = query.sets[0]
    return {
        "step": (first.end - first.start) // timedelta(microseconds=1) * 1000,
        "sets": [
            {
                "allocations": {
                    name: {field: row[field] for field in SUMMARY_FIELDS if field in row} for name, row in data.items()
                },
                "window": set_window.to_json(),
            }
            for set_window, data in zip(query.sets, sets, strict=True)
        ],
        "window": query.window.to_json(),
    }


router = APIRouter(tags=["OpenCost"])
"""The OpenCost endpoints; the app includes it twice, at ``/`` and at ``/model`` (Kubecost's prefix)."""

router.add_api_route("/allocation", allocation, methods=["GET"], name="allocation")
router.add_api_route("/allocation/compute", allocation, methods=["GET"], name="allocation_compute")
router.add_api_route("/allocation/summary", allocation_summary, methods=["GET"], name="allocation_summary")
router.add_api_route(
    "/allocation/compute/summary", allocation_summary, methods=["GET"], name="allocation_compute_summary"
)
router.add_api_route("/assets", assets, methods=["GET"], name="assets")
