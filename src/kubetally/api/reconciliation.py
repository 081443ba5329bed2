"""``GET /reconciliation``: kubetally's estimate of each billed node and disk against the cloud bill, as a dry run.

The answer is :func:`kubetally.focus.reconcile.reconcile` with ``apply=False``: it only reads the ledger (bill
rows, assets, and which node hours and volumes have allocation rows to receive a difference) and writes nothing,
so it works on a read-only ledger. Bills are account-wide,
so like ``/cloudCost`` every route needs an unscoped identity (403 for a scoped one). The window is widened to
whole hours, and the report's window is the reconciled range (also widened to the whole charge periods of the
matching bill rows). See docs/reconciliation.md and docs/api.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, get_args

import polars as pl
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kubetally.api.cloud import require_account_wide
from kubetally.api.envelope import success
from kubetally.api.routes import WINDOW, check_window, clock_of, reader
from kubetally.api.schema import param
from kubetally.domain.window import Window, ceil_to, floor_to
from kubetally.errors import InvalidParameter
from kubetally.focus.reconcile import Basis, ReconciliationReport, reconcile
from kubetally.query.params import window_param

Text = str | None

HOUR = timedelta(hours=1)
BASES: tuple[Basis, ...] = get_args(Basis)
"""The accepted ``basis`` values; the first is the default."""

ASSET_FIELDS: dict[str, str] = {
    "cluster": "cluster",
    "type": "type",
    "name": "name",
    "providerID": "provider_id",
    "hours": "hours",
    "estimate": "estimate",
    "bill": "bill",
    "difference": "difference",
    "differencePercent": "difference_pct",
}
"""JSON field of an ``assets`` entry → its column in :data:`kubetally.focus.reconcile.ASSET_REPORT`."""

UNMATCHED_FIELDS: dict[str, str] = {"resourceID": "resource_id", "category": "category", "rows": "rows", "cost": "cost"}
"""JSON field of an ``unmatched`` entry → its column in :data:`kubetally.focus.reconcile.UNMATCHED_REPORT`."""


@dataclass(frozen=True)
class ReconciliationQuery:
    """One ``/reconciliation`` request: the whole hours of its window and the bill's cost column."""

    window: Window
    basis: Basis

    @staticmethod
    def from_params(params: Mapping[str, str], now: datetime) -> ReconciliationQuery:
        """Decode ``window`` (required) and ``basis`` (``effective`` or ``billed``, case-insensitive); a bad value
        raises InvalidParameter naming it."""
        window = window_param(params, now)
        raw = (params.get("basis") or BASES[0]).strip().lower()
        basis = next((value for value in BASES if value == raw), None)
        if basis is None:
            raise InvalidParameter("basis", f"invalid value {raw!r}; expected {' or '.join(BASES)}")
        return ReconciliationQuery(Window(floor_to(window.start, HOUR), ceil_to(window.end, HOUR)), basis)


def _records(frame: pl.DataFrame, fields: Mapping[str, str]) -> list[dict[str, Any]]:
    return frame.select(pl.col(column).alias(field) for field, column in fields.items()).to_dicts()


def report_json(report: ReconciliationReport) -> dict[str, Any]:
    """The report in the API's shape: the reconciled window, the basis, one entry per billed node or disk, the
    unmatched bill resources and the totals."""
    return {
        "window": Window(report.start, report.end).to_json(),
        "basis": report.basis,
        "assets": _records(report.assets, ASSET_FIELDS),
        "unmatched": _records(report.unmatched, UNMATCHED_FIELDS),
        "totals": {
            "estimate": report.estimate,
            "bill": report.bill,
            "difference": report.difference,
            "unmatchedCost": report.unmatched_cost,
        },
    }


def reconciliation(
    request: Request,
    *,
    window: Annotated[str, WINDOW],
    basis: Annotated[
        Text,
        Query(
            json_schema_extra=param("basis"),
            description="The bill's cost column: `effective` (default, FOCUS `EffectiveCost`, amortised) or "
            "`billed` (`BilledCost`); case-insensitive.",
        ),
    ] = None,
) -> JSONResponse:
    """Estimate versus bill per billed node and disk over the window, and the compute and storage bill rows that
    match none; computed only, never applied."""
    query = ReconciliationQuery.from_params(dict(request.query_params), clock_of(request))
    check_window(request, query.window)
    report = reconcile(reader(request), query.window.start, query.window.end, basis=query.basis, apply=False)
    return success(report_json(report))


router = APIRouter(tags=["Reconciliation"], dependencies=[Depends(require_account_wide)])
"""``/reconciliation``; the app includes it at ``/`` and at ``/model``."""

router.add_api_route("/reconciliation", reconciliation, methods=["GET"], name="reconciliation")
