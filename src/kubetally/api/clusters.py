"""``GET /clusters``: the Clusters overview (cost, idle %, efficiency, last data and publication, stale flag).

It shows every cluster's idle and freshness, so it needs an unscoped identity (403 otherwise). See docs/fleet.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kubetally.api.auth import require_unscoped
from kubetally.api.envelope import success
from kubetally.api.routes import clock_of, reader
from kubetally.api.schema import param
from kubetally.ledger import Ledger
from kubetally.ledger.fleet import FleetLedger
from kubetally.query.clusters import cluster_overview, overview_query

router = APIRouter(tags=["Fleet"])


@router.get("/clusters", dependencies=[Depends(require_unscoped)])
def clusters(request: Request, window: Annotated[str, Query(json_schema_extra=param("window"))] = "7d") -> JSONResponse:
    """Per cluster over ``window``: total, allocated and idle cost, idle %, efficiency, freshness."""
    now = clock_of(request)
    query = overview_query(window, now)
    ledger: Ledger = reader(request)
    published, latest = None, None
    if isinstance(ledger, FleetLedger):
        frame = ledger.publications()
        published = {row["cluster"]: row["last_published"] for row in frame.iter_rows(named=True)}
        latest = ledger.latest()
    return success(cluster_overview(reader(request, query.window), query, now, published=published, latest=latest))
