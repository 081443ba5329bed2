"""OpenCost's autocomplete endpoints: ``/allocation/autocomplete``, ``/assets/autocomplete`` and
``/cloudCost/autocomplete`` (the OpenCost UI's report filters call them).

Each answers ``{"data": [value, ...]}`` in the envelope (:mod:`kubetally.query.autocomplete`). The values are the
names of the matching query aggregated by ``field``, answered by the same query layer (and cache) as
``/allocation``, ``/assets`` and ``/cloudCost``, scoped like them: a scoped identity is offered only its own values
(and no asset or cloud values when it may not read those).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Protocol, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kubetally.api.auth import scope_of
from kubetally.api.cloud import require_account_wide
from kubetally.api.ignored import answer
from kubetally.api.routes import ASSET_FILTER, WINDOW, cache, check_window, clock_of, reader
from kubetally.api.schema import param
from kubetally.domain.window import Window
from kubetally.errors import InvalidParameter
from kubetally.query import AllocationQuery, AssetQuery
from kubetally.query.autocomplete import ALLOCATION_FIELDS, ASSET_FIELDS, MAX_LIMIT, Autocomplete, values
from kubetally.query.cloud import cloud_cost_range
from kubetally.query.cloud_params import CloudCostQuery
from kubetally.query.scope import scope_allocation, scope_assets

Text = str | None


class _WindowedQuery(Protocol):
    @property
    def window(self) -> Window: ...


Q = TypeVar("Q", bound=_WindowedQuery)

FIELD = "The field whose values are listed, e.g. `namespace`, or `label:<name>`. Required."
SEARCH = Query(json_schema_extra=param("search"), description="Only values containing this text (case-insensitive).")
LIMIT = Query(
    json_schema_extra=param("limit"), description=f"At most this many values: 1 to {MAX_LIMIT}; 0 or absent: 100."
)


def _as_field(exc: InvalidParameter) -> InvalidParameter:
    """A refused aggregate, reported under ``field`` (the parameter the client sent)."""
    if exc.parameter != "aggregate":
        return exc
    return InvalidParameter("field", exc.message.removeprefix(f"{exc.parameter}: "))


def _whole(params: dict[str, str], aggregate: str) -> dict[str, str]:
    kept = {name: params[name] for name in ("window", "filter") if name in params}
    return kept | {"aggregate": aggregate, "accumulate": "true"}


def _parsed(
    request: Request, fields: Mapping[str, str] | None, build: Callable[[dict[str, str], datetime], Q]
) -> tuple[Autocomplete, Q]:
    """The autocomplete request and the whole-window query aggregated by its field (``build``: the query's
    ``from_params``); a refused aggregate is reported under ``field``, a window too long like the query's."""
    params = dict(request.query_params)
    wanted = Autocomplete.from_params(params, fields)
    try:
        query = build(_whole(params, wanted.aggregate), clock_of(request))
    except InvalidParameter as exc:
        raise _as_field(exc) from exc
    check_window(request, query.window)
    return wanted, query


def allocation_autocomplete(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    field: Annotated[str, Query(description=FIELD, json_schema_extra=param("allocation-field"))],
    search: Annotated[Text, SEARCH] = None,
    limit: Annotated[Text, LIMIT] = None,
    filter_: Annotated[
        Text,
        Query(json_schema_extra=param("filter"), alias="filter", description="Filter language v2 over allocations."),
    ] = None,
) -> JSONResponse:
    """The values of an allocation field in the window: cluster, node, namespace, controllerKind, controllerName,
    pod, container, service, providerID, the label aliases, or ``label:<name>``."""
    wanted, query = _parsed(
        request,
        ALLOCATION_FIELDS,
        lambda params, now: AllocationQuery.from_params(params | {"includeIdle": "false"}, now),
    )
    sets = cache(request).allocation(reader(request, query.window), scope_allocation(query, scope_of(request)))
    return answer(request, values(sets[0], wanted))


def assets_autocomplete(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    field: Annotated[str, Query(description=FIELD, json_schema_extra=param("asset-field"))],
    search: Annotated[Text, SEARCH] = None,
    limit: Annotated[Text, LIMIT] = None,
    filter_: Annotated[Text, ASSET_FILTER] = None,
) -> JSONResponse:
    """The values of an asset field in the window: cluster, name, type (assetType), category, service,
    providerID, provider, account, project, or ``label:<name>``."""
    wanted, query = _parsed(request, ASSET_FIELDS, AssetQuery.from_params)
    sets = cache(request).assets(reader(request, query.window), scope_assets(query, scope_of(request)))
    return answer(request, values(sets[0], wanted))


def cloud_cost_autocomplete(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    field: Annotated[str, Query(description=FIELD, json_schema_extra=param("cloud-field"))],
    search: Annotated[Text, SEARCH] = None,
    limit: Annotated[Text, LIMIT] = None,
    filter_: Annotated[
        Text,
        Query(
            json_schema_extra=param("cloud-filter"),
            alias="filter",
            description="Filter language v2 over the cloud fields.",
        ),
    ] = None,
) -> JSONResponse:
    """The values of a cloud cost field in the window: accountID, invoiceEntityID, provider, providerID,
    category, service, ... or ``label:<key>``."""
    wanted, query = _parsed(request, None, CloudCostQuery.from_params)
    data = cloud_cost_range(reader(request, query.window), query)
    return answer(request, values(data["sets"][0]["cloudCosts"] if data["sets"] else {}, wanted))


router = APIRouter(tags=["OpenCost autocomplete"])
"""The allocation and asset autocomplete; the app includes it at ``/`` and at ``/model``."""
router.add_api_route(
    "/allocation/autocomplete", allocation_autocomplete, methods=["GET"], name="allocation_autocomplete"
)
router.add_api_route("/assets/autocomplete", assets_autocomplete, methods=["GET"], name="assets_autocomplete")

cloud_router = APIRouter(tags=["OpenCost autocomplete"], dependencies=[Depends(require_account_wide)])
"""The cloud cost autocomplete: bills are account-wide, so it needs an unscoped identity (403 otherwise)."""
cloud_router.add_api_route(
    "/cloudCost/autocomplete", cloud_cost_autocomplete, methods=["GET"], name="cloud_cost_autocomplete"
)
