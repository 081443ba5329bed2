"""Reconciliation: a cloud bill's cost of each node and disk replaces kubetally's estimate of it, down to the rows.

A bill row (``cloud_costs``) whose ``ResourceId`` has the :func:`~kubetally.domain.provider_ids.resource_key` of a
Node asset's provider ID (``ServiceCategory`` ``Compute`` or empty) or a Disk asset's (``Storage``) bills that
asset for the hours of its charge period. The difference between the bill and the estimate of those hours becomes
the asset's ``adjustment`` and is spread onto its allocation rows and idle (:mod:`kubetally.focus.spread`), so
that every dollar still adds up. Other categories are not reconciled; a matching-category row with no asset hour
in its charge period is reported as unmatched and not applied.

The reconciled range is the requested window widened to the whole charge periods of the bill rows that match an
asset (until no matching row reaches outside it). Within it, every bill adjustment is computed from scratch and
replaces the previous one (a row whose bill disappeared goes back to 0), so reconciling again is idempotent.
See docs/reconciliation.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

import polars as pl

from kubetally.domain.provider_ids import resource_key_expr
from kubetally.errors import InvalidParameter
from kubetally.focus.plausibility import DEFAULT_BOUND, acceptances, beyond, held
from kubetally.focus.spread import ASSET_HOUR, bill_by_asset_hour, combine, disk_parts, node_parts
from kubetally.ledger import AdjustmentWrite, Ledger
from kubetally.ledger.adjustments import ASSET_ADJUSTMENTS
from kubetally.ledger.frames import hour_range

Basis = Literal["effective", "billed"]
BASIS_COLUMNS: dict[str, str] = {"effective": "EffectiveCost", "billed": "BilledCost"}
"""The FOCUS cost column each basis reads: amortised ``EffectiveCost`` (the default) or invoiced ``BilledCost``."""

CATEGORY_TYPES: dict[str, str] = {"compute": "Node", "storage": "Disk"}
"""Lower-cased ``ServiceCategory`` → the asset type its rows bill (an empty category bills nodes)."""

HOUR = timedelta(hours=1)

ASSET_REPORT = pl.Schema(
    {
        "cluster": pl.String(),
        "type": pl.String(),
        "name": pl.String(),
        "provider_id": pl.String(),
        "hours": pl.Int64(),
        "estimate": pl.Float64(),
        "bill": pl.Float64(),
        "difference": pl.Float64(),
        "difference_pct": pl.Float64(),
    }
)
"""One row per billed node or disk: its billed hours, kubetally's estimate of them, the bill, and bill − estimate
(also as a percentage of the estimate; null when the estimate is 0)."""

UNMATCHED_REPORT = pl.Schema(
    {"resource_id": pl.String(), "category": pl.String(), "rows": pl.Int64(), "cost": pl.Float64()}
)
"""One row per unmatched ``ResourceId``: its bill rows and their cost."""


@dataclass(frozen=True)
class ReconciliationReport:
    """Estimate versus bill per node and disk, and the bill rows that matched nothing."""

    start: datetime
    end: datetime
    """The reconciled range (the requested window widened to whole charge periods)."""
    basis: str
    assets: pl.DataFrame
    """:data:`ASSET_REPORT` rows, by cluster, type and name."""
    unmatched: pl.DataFrame
    """:data:`UNMATCHED_REPORT` rows, largest cost first."""
    applied: AdjustmentWrite | None
    """What the ledger write changed; None when the adjustments were only computed."""
    held: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ASSET_REPORT))
    """:data:`ASSET_REPORT` rows beyond the plausibility bound and not accepted: not applied (see
    :mod:`kubetally.focus.plausibility`)."""

    @property
    def estimate(self) -> float:
        return float(self.assets.get_column("estimate").sum())

    @property
    def bill(self) -> float:
        return float(self.assets.get_column("bill").sum())

    @property
    def difference(self) -> float:
        return self.bill - self.estimate

    @property
    def unmatched_cost(self) -> float:
        return float(self.unmatched.get_column("cost").sum())


@dataclass(frozen=True)
class _Plan:
    """What a reconciliation changes, before the allocation rows are spread: per billed asset hour its delta
    (small: one row per asset and hour), the asset adjustments, the report frames, and the volume rows the disk
    deltas spread onto."""

    asset_adjustments: pl.DataFrame
    node_deltas: pl.DataFrame
    """``cluster, hour, node, delta``."""
    disk_deltas: pl.DataFrame
    """``cluster, hour, pv, delta``."""
    volume_rows: pl.DataFrame
    report: pl.DataFrame
    unmatched: pl.DataFrame


def _floor_hour(instant: datetime) -> datetime:
    return instant.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(instant: datetime) -> datetime:
    floor = _floor_hour(instant)
    return floor if floor == instant else floor + HOUR


def _bills(ledger: Ledger, start: datetime, end: datetime, cost_column: str) -> pl.DataFrame:
    """The bill rows of Compute, Storage or no category whose charge period overlaps ``[start, end)``, with the
    asset ``type`` they bill, their resource ``key`` and a ``bill_id``."""
    frame = ledger.fetch(
        'SELECT "ResourceId" AS resource_id, "ServiceCategory" AS category, "ChargePeriodStart" AS charge_start, '
        f'"ChargePeriodEnd" AS charge_end, coalesce("{cost_column}", 0) AS cost FROM cloud_costs '
        'WHERE "ResourceId" IS NOT NULL AND "ChargePeriodStart" < ? AND "ChargePeriodEnd" > ? '
        "AND (\"ServiceCategory\" IS NULL OR lower(\"ServiceCategory\") IN ('compute', 'storage'))",
        [end, start],
    )
    category = pl.col("category").str.to_lowercase()
    return (
        frame.with_columns(
            type=pl.when(category == "storage").then(pl.lit("Disk")).otherwise(pl.lit("Node")),
            key=resource_key_expr("resource_id"),
            cost=pl.col("cost").cast(pl.Float64),
        )
        .filter(pl.col("key").is_not_null())
        .sort("resource_id", "charge_start", "charge_end", "category", "cost", nulls_last=True)
        .with_row_index("bill_id")
    )


def _asset_keys(ledger: Ledger) -> pl.DataFrame:
    """Every Node and Disk provider ID of the ledger with its resource key."""
    frame = ledger.fetch(
        "SELECT DISTINCT type, provider_id FROM assets WHERE type IN ('Node', 'Disk') AND provider_id IS NOT NULL"
    )
    return frame.with_columns(key=resource_key_expr("provider_id")).filter(pl.col("key").is_not_null())


def reconciled_range(
    ledger: Ledger, start: datetime, end: datetime, cost_column: str, keys: pl.DataFrame
) -> tuple[datetime, datetime, pl.DataFrame]:
    """``[start, end)`` widened to the whole hours of the charge periods of every bill row that matches an asset
    key and overlaps it, repeatedly; with the bill rows of the final range."""
    known = keys.select("type", "key").unique()
    while True:
        bills = _bills(ledger, start, end, cost_column)
        matching = bills.join(known, on=["type", "key"], how="semi")
        if matching.is_empty():
            return start, end, bills
        first = min(start, _floor_hour(matching.get_column("charge_start").min()))  # type: ignore[arg-type]
        last = max(end, _ceil_hour(matching.get_column("charge_end").max()))  # type: ignore[arg-type]
        if (first, last) == (start, end):
            return start, end, bills
        start, end = first, last


def _asset_hours(ledger: Ledger, start: datetime, end: datetime, keys: pl.DataFrame) -> pl.DataFrame:
    """The Node and Disk asset hours of ``[start, end)`` whose provider ID is in ``keys``."""
    frame = ledger.fetch(
        "SELECT cluster, hour, type, name, provider_id, total_cost - adjustment AS estimate, minutes FROM assets "
        "WHERE hour >= ? AND hour < ? AND type IN ('Node', 'Disk') AND list_contains(?, provider_id)",
        [start, end, keys.get_column("provider_id").to_list()],
    )
    return frame.with_columns(
        key=resource_key_expr("provider_id"), minutes=pl.col("minutes").fill_null(0.0).cast(pl.Float64)
    )


def _node_rows(ledger: Ledger, start: datetime, end: datetime, nodes: pl.DataFrame) -> pl.DataFrame:
    """Workload and idle rows of the node hours in ``nodes`` (``cluster``, ``hour``, ``node``) within
    ``[start, end)``, charged cost per resource."""
    charged = ", ".join(f"{r}_cost + {r}_cost_adjustment AS {r}" for r in ("cpu", "ram", "gpu"))
    frame = ledger.fetch(
        f"SELECT cluster, hour, kind, node, namespace, pod_uid, container, {charged} FROM allocations "
        "WHERE hour >= ? AND hour < ? AND kind IN ('workload', 'idle') AND list_contains(?, node)",
        [start, end, nodes.get_column("node").unique().to_list()],
    )
    return frame.join(nodes.select("cluster", "hour", "node").unique(), on=["cluster", "hour", "node"], how="semi")


def _node_hours_with_rows(ledger: Ledger, start: datetime, end: datetime, nodes: pl.DataFrame) -> pl.DataFrame:
    """The node hours of ``nodes`` that have workload or idle rows to spread onto (``cluster, hour, node``)."""
    frame = ledger.fetch(
        "SELECT DISTINCT cluster, hour, node FROM allocations "
        "WHERE hour >= ? AND hour < ? AND kind IN ('workload', 'idle') AND list_contains(?, node)",
        [start, end, nodes.get_column("node").unique().to_list()],
    )
    return frame.join(nodes.select("cluster", "hour", "node").unique(), on=["cluster", "hour", "node"], how="semi")


def _volume_rows(ledger: Ledger, start: datetime, end: datetime, disks: pl.DataFrame) -> pl.DataFrame:
    """``allocation_pvs`` rows of the disk hours in ``disks`` (``cluster``, ``hour``, ``pv``) with the key of the
    allocation row each belongs to (NULL-safe join; an unmounted volume row belongs to the ``__unmounted__`` row of
    its cluster, hour and namespace)."""
    same = " AND ".join(f"a.{c} IS NOT DISTINCT FROM p.{c}" for c in ("cluster", "hour", "kind", "namespace"))
    same += (
        " AND (p.kind = 'unmounted' OR (a.pod_uid IS NOT DISTINCT FROM p.pod_uid "
        "AND a.container IS NOT DISTINCT FROM p.container))"
    )
    frame = ledger.fetch(
        "SELECT p.cluster, p.hour, p.kind, a.node, p.namespace, a.pod_uid, a.container, p.pv, p.pv_cost "
        f"FROM allocation_pvs p JOIN allocations a ON {same} "
        "WHERE p.hour >= ? AND p.hour < ? AND a.hour >= ? AND a.hour < ? AND a.kind <> 'idle' "
        "AND list_contains(?, p.pv)",
        [start, end, start, end, disks.get_column("pv").unique().to_list()],
    )
    return frame.join(disks.select("cluster", "hour", "pv").unique(), on=["cluster", "hour", "pv"], how="semi")


def _plan(ledger: Ledger, bills: pl.DataFrame, keys: pl.DataFrame, start: datetime, end: datetime) -> _Plan:
    """The asset-hour deltas of ``[start, end)`` from ``bills``, and the report frames."""
    matched_keys = keys.join(bills.select("type", "key").unique(), on=["type", "key"], how="semi")
    assets = _asset_hours(ledger, start, end, matched_keys)
    nodes = assets.filter(pl.col("type") == "Node").select("cluster", "hour", node="name")
    disks = assets.filter(pl.col("type") == "Disk").select("cluster", "hour", pv="name")
    node_hours = _node_hours_with_rows(ledger, start, end, nodes) if nodes.height else pl.DataFrame()
    volume_rows = _volume_rows(ledger, start, end, disks) if disks.height else pl.DataFrame()
    receiving = []
    if node_hours.height:
        receiving.append(node_hours.select("cluster", "hour", "node", type=pl.lit("Node")))
    if volume_rows.height:
        receiving.append(
            volume_rows.select("cluster", "hour", pl.col("pv").alias("node"), type=pl.lit("Disk")).unique()
        )
    if receiving:
        eligible = assets.join(
            pl.concat(receiving).rename({"node": "name"}), on=["cluster", "hour", "type", "name"], how="semi"
        )
    else:
        eligible = assets.clear()
    billed, unmatched_ids = bill_by_asset_hour(bills, eligible)
    hours = billed.join(eligible, on=list(ASSET_HOUR), how="inner").with_columns(
        delta=pl.col("bill") - pl.col("estimate")
    )
    asset_adjustments = hours.filter(pl.col("delta") != 0.0).select(
        *ASSET_HOUR, adjustment=pl.col("delta").cast(pl.Float64)
    )
    return _Plan(
        asset_adjustments=asset_adjustments.select(pl.col(c).cast(t) for c, t in ASSET_ADJUSTMENTS.items()),
        node_deltas=hours.filter(pl.col("type") == "Node").select("cluster", "hour", "delta", node="name"),
        disk_deltas=hours.filter(pl.col("type") == "Disk").select("cluster", "hour", "delta", pv="name"),
        volume_rows=volume_rows,
        report=_asset_report(hours),
        unmatched=_unmatched_report(bills.join(unmatched_ids, on="bill_id", how="semi")),
    )


def _in(frame: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    return frame.filter((pl.col("hour") >= start) & (pl.col("hour") < end)) if frame.height else frame


def allocation_adjustments(ledger: Ledger, plan: _Plan, start: datetime, end: datetime) -> pl.DataFrame:
    """The allocation rows' bill adjustments of ``[start, end)``: the plan's node and disk deltas of those hours
    spread onto the rows (only that range's allocation rows are read)."""
    parts = []
    node_deltas = _in(plan.node_deltas, start, end)
    if node_deltas.height:
        parts.append(node_parts(node_deltas, _node_rows(ledger, start, end, node_deltas)))
    disk_deltas = _in(plan.disk_deltas, start, end)
    if disk_deltas.height:
        parts.append(disk_parts(disk_deltas, _in(plan.volume_rows, start, end)))
    return combine(parts)


def _asset_report(hours: pl.DataFrame) -> pl.DataFrame:
    report = (
        hours.group_by("cluster", "type", "name")
        .agg(
            pl.col("provider_id").first(),
            pl.len().cast(pl.Int64).alias("hours"),
            pl.col("estimate").sum(),
            pl.col("bill").sum(),
        )
        .with_columns(difference=pl.col("bill") - pl.col("estimate"))
        .with_columns(
            difference_pct=pl.when(pl.col("estimate") != 0).then(pl.col("difference") / pl.col("estimate") * 100.0)
        )
    )
    return report.select(pl.col(c).cast(t) for c, t in ASSET_REPORT.items()).sort("cluster", "type", "name")


def _unmatched_report(bills: pl.DataFrame) -> pl.DataFrame:
    report = bills.group_by("resource_id", "category").agg(pl.len().cast(pl.Int64).alias("rows"), pl.col("cost").sum())
    return report.select(pl.col(c).cast(t) for c, t in UNMATCHED_REPORT.items()).sort(
        ["cost", "resource_id"], descending=[True, False]
    )


def _hold(plan: _Plan, held: pl.DataFrame) -> _Plan:
    """``plan`` without the adjustments of the ``held`` assets (their report rows stay)."""
    if held.is_empty():
        return plan
    nodes = held.filter(pl.col("type") == "Node").select("cluster", node="name")
    disks = held.filter(pl.col("type") == "Disk").select("cluster", pv="name")
    return replace(
        plan,
        asset_adjustments=plan.asset_adjustments.join(
            held.select("cluster", "type", "name"), on=["cluster", "type", "name"], how="anti"
        ),
        node_deltas=plan.node_deltas.join(nodes, on=["cluster", "node"], how="anti"),
        disk_deltas=plan.disk_deltas.join(disks, on=["cluster", "pv"], how="anti"),
    )


def reconcile(
    ledger: Ledger,
    start: datetime,
    end: datetime,
    *,
    basis: Basis = "effective",
    apply: bool = True,
    bound: float | None = DEFAULT_BOUND,
    accept: datetime | None = None,
) -> ReconciliationReport:
    """Reconcile the ledger's nodes and disks with its cloud bill rows over ``[start, end)`` (whole UTC hours).

    With ``apply`` (the default) the bill adjustments are written a UTC day at a time, each day in one
    transaction (:meth:`kubetally.ledger.Ledger.apply_bill_adjustments`), so that memory stays bounded by a day
    of allocation rows; otherwise only the per-asset report is computed (reading which node hours have allocation
    rows, and the billed volumes' rows, but not spreading onto the allocations). Every day
    is recomputed from scratch, so a reconciliation cut short is completed by running it again. Raises
    InvalidParameter for a bad range or basis, LedgerError when a write fails or the ledger changed while a day's
    adjustments were computed.

    An asset whose bill differs from its estimate by more than ``bound`` x the estimate (None: no bound) is held
    back, not applied, and listed in the report's ``held``, unless an acceptance recorded in the ledger covers it;
    ``accept`` (the time of acceptance; needs ``apply``) records acceptances of every such asset first.
    """
    if basis not in BASIS_COLUMNS:
        raise InvalidParameter("basis", f"{basis!r} is not one of {', '.join(BASIS_COLUMNS)}")
    first, stop, _ = hour_range(start, end)
    generation = ledger.generation
    keys = _asset_keys(ledger)
    first, stop, bills = reconciled_range(ledger, first, stop, BASIS_COLUMNS[basis], keys)
    plan = _plan(ledger, bills, keys, first, stop)
    if accept is not None and apply:
        ledger.record_bill_acceptances(acceptances(beyond(plan.report, bound), first, stop, basis, accept))
        generation = ledger.generation
    accepted = ledger.fetch('SELECT * FROM bill_acceptances WHERE start = ? AND "end" = ?', [first, stop])
    holding = held(plan.report, bound, accepted, start=first, end=stop, basis=basis)
    plan = _hold(plan, holding)
    applied = None
    if apply:
        writes = []
        for day_start, day_end in _days(first, stop):
            allocations = allocation_adjustments(ledger, plan, day_start, day_end)
            write = ledger.apply_bill_adjustments(
                allocations,
                _in(plan.asset_adjustments, day_start, day_end),
                start=day_start,
                end=day_end,
                expected_generation=generation,
            )
            generation = write.generation
            writes.append(write)
        applied = _total(writes, first, stop, generation)
    return ReconciliationReport(first, stop, basis, plan.report, plan.unmatched, applied, holding)


def _days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut at UTC midnights."""
    cuts = []
    day_start = start
    while day_start < end:
        midnight = day_start.replace(hour=0) + timedelta(days=1)
        cuts.append((day_start, min(midnight, end)))
        day_start = min(midnight, end)
    return cuts


def _total(writes: list[AdjustmentWrite], start: datetime, end: datetime, generation: int) -> AdjustmentWrite:
    """The day writes of one reconciliation as one."""
    clusters = sorted({cluster for write in writes for cluster in write.clusters})
    return AdjustmentWrite(
        generation=generation,
        start=start,
        end=end,
        allocations_changed=sum(w.allocations_changed for w in writes),
        assets_changed=sum(w.assets_changed for w in writes),
        clusters=tuple(clusters),
    )


def reconcile_written(
    ledger: Ledger, start: datetime, end: datetime, *, basis: Basis = "effective", bound: float | None = DEFAULT_BOUND
) -> ReconciliationReport | None:
    """Reconcile ``[start, end)`` again after a write replaced those hours (which resets their bill adjustments),
    when bill rows cover any of them; None (and nothing done) when none does."""
    overlapping = ledger.fetch(
        'SELECT count(*) AS n FROM cloud_costs WHERE "ChargePeriodStart" < ? AND "ChargePeriodEnd" > ?', [end, start]
    )
    if overlapping.item() == 0:
        return None
    return reconcile(ledger, _floor_hour(start), _ceil_hour(end), basis=basis, bound=bound)


def reconcile_bill(
    ledger: Ledger, bill: pl.DataFrame, *, basis: Basis = "effective", bound: float | None = DEFAULT_BOUND
) -> ReconciliationReport | None:
    """Reconcile the hours of the charge periods of bill rows just written (``cloud_costs`` columns); None when
    ``bill`` has no row."""
    if bill.is_empty():
        return None
    start: datetime = bill.get_column("ChargePeriodStart").min()  # type: ignore[assignment]
    end: datetime = bill.get_column("ChargePeriodEnd").max()  # type: ignore[assignment]
    return reconcile(ledger, _floor_hour(start), _ceil_hour(end), basis=basis, bound=bound)


__all__ = [
    "ASSET_REPORT",
    "BASIS_COLUMNS",
    "UNMATCHED_REPORT",
    "Basis",
    "ReconciliationReport",
    "allocation_adjustments",
    "reconcile",
    "reconcile_bill",
    "reconcile_written",
    "reconciled_range",
]
