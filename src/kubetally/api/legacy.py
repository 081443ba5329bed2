"""Kubecost's legacy endpoints, mounted under ``/model``: ``/costDataModel`` and ``/aggregatedCostModel``.

The parameters are declared for the OpenAPI schema; the handlers pass the raw query string mapping to
:class:`~kubetally.query.legacy.CostDataQuery` / :class:`~kubetally.query.legacy.AggregatedCostQuery`, and return
what :mod:`kubetally.query.legacy` computes, unchanged, in OpenCost's envelope.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from kubetally.api.auth import scope_of
from kubetally.api.envelope import success
from kubetally.api.routes import check_window, clock_of, reader
from kubetally.api.schema import param
from kubetally.domain.window import Window
from kubetally.errors import InvalidWindow
from kubetally.query.legacy import AggregatedCostQuery, CostDataQuery, run_aggregated_cost, run_cost_data
from kubetally.query.scope import scope_allocation

SHARED_PARAMETERS = {
    "share_namespaces": "sharedNamespaces",
    "share_labels": "sharedLabelNames",
    "share_filter": "sharedLabelNames",
    "share_cost_per_month": "sharedNamespaces",
    "share_tenancy_costs": "sharedNamespaces",
}
"""The aggregatedCostModel parameter a refused sharing option is reported under."""

router = APIRouter(tags=["legacy"])

Text = str | None

OFFSET = Query(
    json_schema_extra=param("duration"),
    description="Shift the window back by this duration (`7d`, `12h`, `30m`, `90s`).",
)


def _check_window(request: Request, window: Window, parameter: str) -> None:
    """The app's maximum window, reported under the endpoint's own window parameter."""
    try:
        check_window(request, window)
    except InvalidWindow as exc:
        raise InvalidWindow(exc.message.removeprefix(f"{exc.parameter}: "), parameter) from exc


@router.get("/costDataModel", summary="Kubecost's per-container cost model data")
def cost_data_model(
    request: Request,
    *,
    time_window: Annotated[
        str,
        Query(
            json_schema_extra=param("legacy-window"),
            alias="timeWindow",
            description="The window: `<n>d|h|m` (e.g. `7d`), a keyword (`today`, `week`, ...) or `start,end`.",
            examples=["7d"],
        ),
    ],
    offset: Annotated[Text, OFFSET] = None,
    namespace: Annotated[
        Text, Query(json_schema_extra=param("names"), description="Only these namespaces (comma list).")
    ] = None,
    filter_fields: Annotated[
        Text,
        Query(
            json_schema_extra=param("filter-fields"),
            alias="filterFields",
            description="Blacklist: comma list of fields removed from every entry (e.g. `cpuused,ramreq`).",
        ),
    ] = None,
) -> JSONResponse:
    """``"namespace,pod,container,node,cluster"`` → the container's node prices, controllers, labels, hourly
    request/usage/allocation series and PVCs."""
    query = CostDataQuery.from_params(dict(request.query_params), clock_of(request))
    _check_window(request, query.window, "timeWindow")
    scope = scope_of(request)
    if not scope.unrestricted:
        query = replace(query, scope=scope)
    return success(run_cost_data(reader(request, query.window), query))


@router.get("/aggregatedCostModel", summary="Kubecost's aggregated cost model")
def aggregated_cost_model(
    request: Request,
    *,
    window: Annotated[
        str,
        Query(
            json_schema_extra=param("legacy-window"),
            description="The window: `<n>d|h|m|s`, a keyword or `start,end`.",
            examples=["1d"],
        ),
    ],
    aggregation: Annotated[
        str,
        Query(
            json_schema_extra=param("legacy-aggregation"),
            description="`cluster`, `namespace`, `controller`, `deployment`, `statefulset`, `daemonset`, `job`, "
            "`service`, `pod`, `container`, `node`, `label` or `annotation` (with `aggregationSubfield`).",
            examples=["namespace"],
        ),
    ],
    offset: Annotated[Text, OFFSET] = None,
    aggregation_subfield: Annotated[
        Text,
        Query(
            json_schema_extra=param("legacy-subfield"),
            alias="aggregationSubfield",
            description="The label or annotation name(s), e.g. `app`.",
        ),
    ] = None,
    allocate_idle: Annotated[
        Text,
        Query(
            json_schema_extra=param("boolean"),
            alias="allocateIdle",
            description="`true`: spread idle cost over the tenants by cost.",
        ),
    ] = None,
    shared_namespaces: Annotated[
        Text,
        Query(
            json_schema_extra=param("names"),
            alias="sharedNamespaces",
            description="Comma list of namespaces shared among the others.",
        ),
    ] = None,
    shared_label_names: Annotated[
        Text,
        Query(
            json_schema_extra=param("legacy-label-names"),
            alias="sharedLabelNames",
            description="Comma list of label names (pairs with values).",
        ),
    ] = None,
    shared_label_values: Annotated[
        Text,
        Query(
            json_schema_extra=param("legacy-label-values"),
            alias="sharedLabelValues",
            description="Comma list of label values, as many as names.",
        ),
    ] = None,
    shared_split: Annotated[
        Text,
        Query(
            json_schema_extra=param("legacy-split"),
            alias="sharedSplit",
            description="`even` (default) or `weighted` (by cost).",
        ),
    ] = None,
    disable_cache: Annotated[
        Text,
        Query(
            json_schema_extra=param("boolean"),
            alias="disableCache",
            description="Accepted (`true`/`false`); answers never go stale.",
        ),
    ] = None,
) -> JSONResponse:
    """Aggregate value → ``{aggregation, subfields, environment, cluster, cpuCost, gpuCost, ramCost, pvCost,
    networkCost, loadBalancerCost, sharedCost, totalCost, cpuEfficiency, ramEfficiency, efficiency}``."""
    query = AggregatedCostQuery.from_params(dict(request.query_params), clock_of(request))
    _check_window(request, query.allocation.window, "window")
    scoped = scope_allocation(query.allocation, scope_of(request), SHARED_PARAMETERS)
    return success(run_aggregated_cost(reader(request, scoped.window), replace(query, allocation=scoped)))
