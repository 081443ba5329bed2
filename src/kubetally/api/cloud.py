"""OpenCost's cloud cost endpoints: ``/cloudCost``, ``/cloudCost/view/graph|totals|table`` and ``/cloudCost/status``.

Cloud bills are account-wide, not namespaced: every route needs an unscoped identity (403 for a scoped one). As
with ``/allocation``, the declared parameters document the API while each handler decodes the raw query string
with :meth:`CloudCostQuery.from_params`, so the API, the CLI and the UI parse alike and fail alike.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from kubetally.api.auth import Identity, identity_of
from kubetally.api.ignored import answer
from kubetally.api.routes import ACCUMULATE, ACCUMULATE_BY, WINDOW, check_window, clock_of, reader
from kubetally.api.schema import param
from kubetally.errors import Forbidden, InvalidParameter
from kubetally.query.cloud import cloud_cost_range
from kubetally.query.cloud_fields import CLOUD_PROPERTIES
from kubetally.query.cloud_params import CloudCostQuery
from kubetally.query.cloud_views import cloud_status, table_csv, view_graph, view_table, view_totals

Text = str | None

COST_METRIC = Query(
    json_schema_extra=param("cost-metric"),
    alias="costMetric",
    description="`ListCost`, `NetCost`, `AmortizedNetCost` (default), `InvoicedCost` or `AmortizedCost`; "
    "case-insensitive (see docs/cloud-costs.md for the FOCUS column behind each).",
)


def require_account_wide(identity: Annotated[Identity, Depends(identity_of)]) -> Identity:
    """The request's identity, which must be unscoped: cloud bills are account-wide, not namespaced."""
    if not identity.scope.unrestricted:
        raise Forbidden(
            f"cloud bills are account-wide, not namespaced; {identity.name!r} is scoped to {identity.scope.describe()}"
        )
    return identity


def cloud_params(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    aggregate: Annotated[
        Text,
        Query(
            json_schema_extra=param("cloud-aggregate"),
            description=f"Comma list of {', '.join(CLOUD_PROPERTIES)} or `label:<tag>`; case-insensitive. Empty: "
            "`invoiceEntityID,accountID,provider,providerID,category,service`.",
        ),
    ] = None,
    accumulate: Annotated[Text, ACCUMULATE] = None,
    accumulate_by: Annotated[Text, ACCUMULATE_BY] = None,
    filter_: Annotated[
        Text,
        Query(
            json_schema_extra=param("cloud-filter"),
            alias="filter",
            description='Filter language v2 over the cloud fields, e.g. `service:"Amazon S3"`.',
        ),
    ] = None,
    cost_metric: Annotated[Text, COST_METRIC] = None,
    sort_by: Annotated[
        Text,
        Query(
            json_schema_extra=param("cloud-sort"),
            alias="sortBy",
            description="view/table: `cost` (default), `name` or `kubernetesPercent`.",
        ),
    ] = None,
    sort_by_order: Annotated[
        Text,
        Query(
            json_schema_extra=param("order"), alias="sortByOrder", description="view/table: `desc` (default) or `asc`."
        ),
    ] = None,
    limit: Annotated[
        Text, Query(json_schema_extra=param("count"), description="view/table: rows to return (0 = all).")
    ] = None,
    offset: Annotated[Text, Query(json_schema_extra=param("count"), description="view/table: rows to skip.")] = None,
) -> CloudCostQuery:
    """A cloud cost request decoded from its raw query string (the declared parameters document it)."""
    query = CloudCostQuery.from_params(dict(request.query_params), clock_of(request))
    check_window(request, query.window)
    return query


CloudRequest = Annotated[CloudCostQuery, Depends(cloud_params)]


def cloud_cost(request: Request, query: CloudRequest) -> JSONResponse:
    """Cloud cost sets (one per day by default), each keyed by item name, in OpenCost's shape."""
    return answer(request, cloud_cost_range(reader(request, query.window), query))


def cloud_cost_graph(request: Request, query: CloudRequest) -> JSONResponse:
    """Per set, the largest items of the cost metric and ``Other``."""
    return answer(request, view_graph(reader(request, query.window), query))


def cloud_cost_totals(request: Request, query: CloudRequest) -> JSONResponse:
    """The cost metric's total over the window and its Kubernetes share."""
    return answer(request, view_totals(reader(request, query.window), query))


def cloud_cost_table(
    request: Request,
    query: CloudRequest,
    format_: Annotated[
        Text, Query(json_schema_extra=param("table-format"), alias="format", description="`json` (default) or `csv`.")
    ] = None,
) -> Response:
    """One row per item over the window: cost metric and Kubernetes share; ``format=csv`` for OpenCost's CSV."""
    chosen = (format_ or "").strip().lower()
    if chosen not in ("", "json", "csv"):
        raise InvalidParameter("format", f"invalid value {chosen[:40]!r}; expected json or csv")
    rows = view_table(reader(request, query.window), query)
    if chosen == "csv":
        return Response(table_csv(rows, query), media_type="text/csv")
    return answer(request, rows)


def cloud_cost_status(request: Request) -> JSONResponse:
    """Per bill source: rows, first and last charge period, last ingest."""
    return answer(request, cloud_status(reader(request)))


router = APIRouter(tags=["OpenCost cloud costs"], dependencies=[Depends(require_account_wide)])
"""The cloud cost endpoints; the app includes it at ``/`` and at ``/model``."""

router.add_api_route("/cloudCost", cloud_cost, methods=["GET"], name="cloud_cost")
router.add_api_route("/cloudCost/view/graph", cloud_cost_graph, methods=["GET"], name="cloud_cost_graph")
router.add_api_route("/cloudCost/view/totals", cloud_cost_totals, methods=["GET"], name="cloud_cost_totals")
router.add_api_route(
    "/cloudCost/view/table",
    cloud_cost_table,
    methods=["GET"],
    name="cloud_cost_table",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
router.add_api_route("/cloudCost/status", cloud_cost_status, methods=["GET"], name="cloud_cost_status")
