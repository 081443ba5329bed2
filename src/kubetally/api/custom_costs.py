"""OpenCost's custom cost endpoints: ``/customCost/total`` and ``/customCost/timeseries``.

They answer from the ledger's cloud bills the rows that are not Kubernetes nodes or disks
(:mod:`kubetally.query.custom_costs`); like ``/cloudCost`` they need an unscoped identity.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kubetally.api.cloud import require_account_wide
from kubetally.api.ignored import answer
from kubetally.api.routes import ACCUMULATE, WINDOW, check_window, clock_of, reader
from kubetally.api.schema import param
from kubetally.query.custom_costs import CUSTOM_COLUMNS, CustomCostQuery, custom_cost_timeseries, custom_cost_total

Text = str | None


def custom_params(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    aggregate: Annotated[
        Text,
        Query(
            json_schema_extra=param("custom-aggregate"),
            description=f"Comma list of {', '.join(CUSTOM_COLUMNS)}; case-insensitive. Empty: every row.",
        ),
    ] = None,
    accumulate: Annotated[Text, ACCUMULATE] = None,
    filter_: Annotated[
        Text,
        Query(
            json_schema_extra=param("custom-filter"),
            alias="filter",
            description='Filter language v2 over the properties, e.g. `domain:"AWS"`.',
        ),
    ] = None,
    cost_type: Annotated[
        Text,
        Query(
            json_schema_extra=param("cost-type"),
            alias="costType",
            description="`blended` (default: billed if positive, else list), `list`, `billed`.",
        ),
    ] = None,
    sort_by: Annotated[
        Text,
        Query(
            json_schema_extra=param("custom-sort"),
            alias="sortBy",
            description="`cost` (default), `aggregate` or `costType`.",
        ),
    ] = None,
    sort_direction: Annotated[
        Text, Query(json_schema_extra=param("order"), alias="sortDirection", description="`desc` (default) or `asc`.")
    ] = None,
) -> CustomCostQuery:
    """A custom cost request decoded from its raw query string (the declared parameters document it)."""
    query = CustomCostQuery.from_params(dict(request.query_params), clock_of(request))
    check_window(request, query.window)
    return query


CustomRequest = Annotated[CustomCostQuery, Depends(custom_params)]


def custom_cost_total_route(request: Request, query: CustomRequest) -> JSONResponse:
    """The custom costs over the window and their total, in OpenCost's ``CostResponse`` shape."""
    return answer(request, custom_cost_total(reader(request, query.window), query))


def custom_cost_timeseries_route(request: Request, query: CustomRequest) -> JSONResponse:
    """One ``CostResponse`` per set (a day by default), in OpenCost's ``CostTimeseriesResponse`` shape."""
    return answer(request, custom_cost_timeseries(reader(request, query.window), query))


router = APIRouter(tags=["OpenCost custom costs"], dependencies=[Depends(require_account_wide)])
"""The custom cost endpoints; the app includes it at ``/`` and at ``/model``."""

router.add_api_route("/customCost/total", custom_cost_total_route, methods=["GET"], name="custom_cost_total")
router.add_api_route(
    "/customCost/timeseries", custom_cost_timeseries_route, methods=["GET"], name="custom_cost_timeseries"
)
