"""``GET /focus``: the window's costs as a FOCUS 1.2 file (CSV or Parquet), streamed.

Authenticated and scoped like ``/allocation``: a namespace-scoped identity gets only its own workload rows, a
cluster-scoped one every row of its clusters (see :func:`kubetally.query.focus_export.scope_focus`). The
parameters are parsed by the query layer from the raw query string, as the CLI's ``kubetally export focus``;
bad values are refused (400) before any byte is sent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from kubetally.api.auth import scope_of
from kubetally.api.routes import WINDOW, check_window, clock_of, reader
from kubetally.api.schema import param
from kubetally.query.focus_export import FocusQuery, focus_frame, scope_focus
from kubetally.query.focus_write import MEDIA_TYPES, export_chunks, parse_format

Text = str | None


def focus(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    format_: Annotated[
        Text,
        Query(json_schema_extra=param("focus-format"), alias="format", description="`csv` (default) or `parquet`."),
    ] = None,
    granularity: Annotated[
        Text,
        Query(
            json_schema_extra=param("granularity"), description="Charge period of each row: `hour` or `day` (default)."
        ),
    ] = None,
    aggregate: Annotated[
        Text,
        Query(
            json_schema_extra=param("focus-aggregate"),
            description="Comma list of the dimensions to keep: `cluster, node, namespace, controllerKind, "
            "controller, pod, container` (case-insensitive). Empty: all of them, one row per container.",
        ),
    ] = None,
    filter_: Annotated[
        Text,
        Query(
            json_schema_extra=param("filter"),
            alias="filter",
            description='Filter language v2, e.g. `namespace:"prod"`.',
        ),
    ] = None,
) -> StreamingResponse:
    """FOCUS 1.2 rows: one per charge period, cost component and Kubernetes object, plus idle, unmounted and
    cluster-management rows; unfiltered, they add up to the clusters' total cost (docs/focus-export.md)."""
    params = dict(request.query_params)
    fmt = parse_format(params.get("format"))
    query = FocusQuery.from_params(params, clock_of(request))
    check_window(request, query.window)
    query = scope_focus(query, scope_of(request))
    currency: str = request.app.state.kubetally.currency
    frame = focus_frame(reader(request, query.window), query, currency)
    name = f"focus-{query.window.start:%Y%m%dT%H%M%SZ}-{query.window.end:%Y%m%dT%H%M%SZ}.{fmt.value}"
    return StreamingResponse(
        export_chunks(frame, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


router = APIRouter(tags=["FOCUS"])
"""``/focus``; the app includes it at ``/`` and at ``/model``."""

router.add_api_route(
    "/focus",
    focus,
    methods=["GET"],
    name="focus",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
