"""Holding back implausible reconciliations: a bill far from the estimate waits for a person to accept it.

A bill that moves a node or disk by more than ``bound`` times its estimate over the reconciled range (default
:data:`DEFAULT_BOUND`, ±50 %) is more likely a wrong or repeated file than a real price: its adjustment is held
back (not applied) and reported, until ``kubetally reconcile --accept`` records an acceptance in the ledger
(``bill_acceptances``). An acceptance holds for one asset, one reconciled range and basis, and the bill amount
accepted (to the cent): a changed bill, or another range, must be accepted again. An asset with a zero estimate
and a non-zero bill is beyond any bound.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from kubetally.ledger.schema import BILL_ACCEPTANCES

DEFAULT_BOUND = 0.5
"""The default bound on ``|bill - estimate| / estimate`` per asset above which reconciliation is held back."""

ASSET = ("cluster", "type", "name")
CENT = 0.005


def beyond(report: pl.DataFrame, bound: float | None) -> pl.DataFrame:
    """The asset report rows whose bill differs from the estimate by more than ``bound`` x the estimate (none
    when ``bound`` is None)."""
    if bound is None or report.is_empty():
        return report.clear()
    limit = pl.col("estimate").abs() * bound
    return report.filter(pl.col("difference").abs() > limit)


def held(
    report: pl.DataFrame, bound: float | None, accepted: pl.DataFrame, *, start: datetime, end: datetime, basis: str
) -> pl.DataFrame:
    """The rows of :func:`beyond` that no acceptance of ``accepted`` (``bill_acceptances`` rows) covers."""
    candidates = beyond(report, bound)
    if candidates.is_empty() or accepted.is_empty():
        return candidates
    valid = accepted.filter((pl.col("start") == start) & (pl.col("end") == end) & (pl.col("basis") == basis)).select(
        *ASSET, accepted_bill="bill"
    )
    matched = candidates.join(valid, on=list(ASSET), how="left").filter(
        (pl.col("accepted_bill") - pl.col("bill")).abs() <= CENT
    )
    return candidates.join(matched.select(ASSET), on=list(ASSET), how="anti")


def acceptances(rows: pl.DataFrame, start: datetime, end: datetime, basis: str, now: datetime) -> pl.DataFrame:
    """``bill_acceptances`` rows accepting the asset report ``rows`` for ``[start, end)`` and ``basis``."""
    frame = rows.select(*ASSET, "bill").with_columns(
        start=pl.lit(start), end=pl.lit(end), basis=pl.lit(basis), accepted_at=pl.lit(now)
    )
    return frame.select(pl.col(c).cast(t) for c, t in BILL_ACCEPTANCES.items())
