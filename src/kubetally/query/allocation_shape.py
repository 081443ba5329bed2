"""Rows summed per set and name, then written as OpenCost Allocation objects (opencost-compat §5).

Derived fields: ``window`` is the set; ``start``/``end`` are the first and last charged (running) instant of the
allocation within its set (of an aggregate: its members' earliest start and latest end) and ``minutes`` is
``end - start``, as OpenCost reports them; ``cpuCores = cpuCoreHours / (minutes / 60)`` (likewise RAM, GPU, PV);
request and usage averages are Σ average x running minutes / ``minutes`` (time-weighted, so an aggregate's average
is the sum of its members' over the time any of them ran, OpenCost's definition); efficiency is
usage / request (1 with usage but no request, 0 otherwise); ``totalCost`` is the sum of every resource cost and
adjustment plus ``sharedCost`` and ``externalCost``. ``*CostAdjustment`` is the over-commit adjustment plus the
reconciled bill's adjustment (:data:`kubetally.query.sql.SOURCE_VALUES`). Shared idle is included in
``cpuCost``/``ramCost``/``gpuCost`` and reported again in ``cpuCostIdle``/``ramCostIdle``/``gpuCostIdle``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from kubetally.domain.aggregation import AggregateKey, KeySource
from kubetally.domain.names import UNALLOCATED
from kubetally.query.details import Details
from kubetally.query.shape import clean, map_to_dict, ratio, window_json, with_running_span
from kubetally.query.sql import SUM_COLUMNS, TIME_WEIGHTED

if TYPE_CHECKING:
    from kubetally.query.params import AllocationQuery

_PROPERTY_COLUMNS = (
    "controller_kind",
    "controller",
    "services",
    "provider_id",
    "labels",
    "annotations",
    "namespace_labels",
    "namespace_annotations",
)


def _efficiency(usage: str, request: str, cost: pl.Expr) -> pl.Expr:
    return (
        pl.when(pl.col(request) > 0)
        .then(pl.col(usage) / pl.col(request))
        .when((pl.col(usage) > 0) & (cost > 0))
        .then(1.0)
        .otherwise(0.0)
    )


def _summed(frame: pl.DataFrame, parts: int, unaggregated: bool) -> pl.DataFrame:
    numeric = [
        *SUM_COLUMNS,
        *(name for name, _ in TIME_WEIGHTED),
        "cpu_cost_idle",
        "ram_cost_idle",
        "gpu_cost_idle",
        "shared_cost",
    ]
    extra = [pl.col(c).first() for c in _PROPERTY_COLUMNS] if unaggregated else []
    return frame.group_by("set_idx", "name", maintain_order=True).agg(
        *(pl.col(c).sum() for c in numeric),
        pl.col("cpu_core_usage_max").max(),
        pl.col("ram_byte_usage_max").max(),
        pl.col("running_start").min(),
        pl.col("running_end").max(),
        pl.col("kind").first(),
        pl.when(pl.col("cluster").n_unique() == 1).then(pl.col("cluster").first()).alias("cluster"),
        pl.when(pl.col("node").n_unique() == 1).then(pl.col("node").first()).alias("node"),
        *(pl.col(f"k{i}").drop_nulls().first() for i in range(parts)),
        *extra,
    )


def _derived(frame: pl.DataFrame) -> pl.DataFrame:
    hours = pl.col("minutes") / 60.0
    cpu = pl.col("cpu_cost") + pl.col("cpu_cost_idle")
    ram = pl.col("ram_cost") + pl.col("ram_cost_idle")
    gpu = pl.col("gpu_cost") + pl.col("gpu_cost_idle")
    frame = frame.with_columns(
        cpuCost=cpu,
        ramCost=ram,
        gpuCost=gpu,
        cpuCores=ratio(pl.col("cpu_core_hours"), hours),
        ramBytes=ratio(pl.col("ram_byte_hours"), hours),
        gpuCount=ratio(pl.col("gpu_hours"), hours),
        pvBytes=ratio(pl.col("pv_byte_hours"), hours),
        cpuCoreRequestAverage=ratio(pl.col("cpu_request_minutes"), pl.col("minutes")),
        cpuCoreUsageAverage=ratio(pl.col("cpu_usage_minutes"), pl.col("minutes")),
        ramByteRequestAverage=ratio(pl.col("ram_request_minutes"), pl.col("minutes")),
        ramByteUsageAverage=ratio(pl.col("ram_usage_minutes"), pl.col("minutes")),
        gpuRequestAverage=ratio(pl.col("gpu_request_minutes"), pl.col("minutes")),
        gpuUsageAverage=ratio(pl.col("gpu_usage_minutes"), pl.col("minutes")),
        cpuEfficiency=_efficiency("cpu_usage_minutes", "cpu_request_minutes", cpu),
        ramEfficiency=_efficiency("ram_usage_minutes", "ram_request_minutes", ram),
        gpuEfficiency=_efficiency("gpu_usage_minutes", "gpu_request_minutes", gpu),
        totalCost=pl.sum_horizontal(
            cpu,
            pl.col("cpu_cost_adjustment"),
            ram,
            pl.col("ram_cost_adjustment"),
            gpu,
            pl.col("gpu_cost_adjustment"),
            pl.col("pv_cost"),
            pl.col("pv_cost_adjustment"),
            pl.col("network_cost"),
            pl.col("load_balancer_cost"),
            pl.col("shared_cost"),
        ),
    )
    cpu_charged = pl.col("cpuCost") + pl.col("cpu_cost_adjustment")
    ram_charged = pl.col("ramCost") + pl.col("ram_cost_adjustment")
    return frame.with_columns(
        totalEfficiency=pl.when(cpu_charged + ram_charged != 0)
        .then(
            (pl.col("cpuEfficiency") * cpu_charged + pl.col("ramEfficiency") * ram_charged)
            / (cpu_charged + ram_charged)
        )
        .otherwise(0.0)
    )


def key_properties(keys: tuple[AggregateKey, ...], values: list[str | None]) -> dict[str, Any]:
    """OpenCost ``properties`` of an aggregate: the property each key fills, with its value."""
    properties: dict[str, Any] = {}
    for key, value in zip(keys, values, strict=True):
        if value is None or key.source is KeySource.ALL or value == UNALLOCATED:
            continue
        if key.source is KeySource.MAP:
            properties.setdefault(key.property_name, {})[key.label or key.name] = value
        elif key.source is KeySource.FIRST_OF_LIST:
            properties[key.property_name] = [value]
        else:
            properties[key.property_name] = value
    return properties


def _properties(row: dict[str, Any], keys: tuple[AggregateKey, ...], unaggregated: bool) -> dict[str, Any]:
    if row["kind"] == "idle":
        return {k: v for k, v in (("cluster", row["cluster"]), ("node", row["node"])) if v}
    values = [row[f"k{i}"] for i in range(len(keys))]
    properties = key_properties(keys, values)
    if unaggregated and row["kind"] == "workload":
        properties.update(
            controller=row["controller"],
            controllerKind=row["controller_kind"],
            services=list(row["services"] or []),
            providerID=row["provider_id"],
            labels=map_to_dict(row["labels"]),
            annotations=map_to_dict(row["annotations"]),
            namespaceLabels=map_to_dict(row["namespace_labels"]),
            namespaceAnnotations=map_to_dict(row["namespace_annotations"]),
        )
    return properties


def _allocation(
    row: dict[str, Any], keys: tuple[AggregateKey, ...], unaggregated: bool, pvs: Details, lbs: Details
) -> dict[str, Any]:
    window = window_json(row["set_start"], row["set_end"])
    running = window_json(row["start"], row["end"])
    raw = (
        {"cpuCoreUsageMax": row["cpu_core_usage_max"], "ramByteUsageMax": row["ram_byte_usage_max"]}
        if unaggregated and row["kind"] == "workload"
        else None
    )
    item: dict[str, Any] = {
        "name": row["name"],
        "properties": _properties(row, keys, unaggregated),
        "window": window,
        "start": running["start"],
        "end": running["end"],
        "minutes": row["minutes"],
        "cpuCores": row["cpuCores"],
        "cpuCoreRequestAverage": row["cpuCoreRequestAverage"],
        "cpuCoreUsageAverage": row["cpuCoreUsageAverage"],
        "cpuCoreHours": row["cpu_core_hours"],
        "cpuCost": row["cpuCost"],
        "cpuCostAdjustment": row["cpu_cost_adjustment"],
        "cpuCostIdle": row["cpu_cost_idle"],
        "cpuEfficiency": row["cpuEfficiency"],
        "gpuCount": row["gpuCount"],
        "gpuRequestAverage": row["gpuRequestAverage"],
        "gpuUsageAverage": row["gpuUsageAverage"],
        "gpuHours": row["gpu_hours"],
        "gpuCost": row["gpuCost"],
        "gpuCostAdjustment": row["gpu_cost_adjustment"],
        "gpuCostIdle": row["gpu_cost_idle"],
        "gpuEfficiency": row["gpuEfficiency"],
        "networkTransferBytes": row["network_transfer_bytes"],
        "networkReceiveBytes": row["network_receive_bytes"],
        "networkCost": row["network_cost"],
        "networkCrossZoneCost": row["network_cross_zone_cost"],
        "networkCrossRegionCost": row["network_cross_region_cost"],
        "networkInternetCost": row["network_internet_cost"],
        "networkCostAdjustment": 0.0,
        "loadBalancerCost": row["load_balancer_cost"],
        "loadBalancerCostAdjustment": 0.0,
        "lbAllocations": lbs.get((row["set_idx"], row["name"])),
        "pvBytes": row["pvBytes"],
        "pvByteHours": row["pv_byte_hours"],
        "pvCost": row["pv_cost"],
        "pvs": pvs.get((row["set_idx"], row["name"])),
        "pvCostAdjustment": row["pv_cost_adjustment"],
        "ramBytes": row["ramBytes"],
        "ramByteRequestAverage": row["ramByteRequestAverage"],
        "ramByteUsageAverage": row["ramByteUsageAverage"],
        "ramByteHours": row["ram_byte_hours"],
        "ramCost": row["ramCost"],
        "ramCostAdjustment": row["ram_cost_adjustment"],
        "ramCostIdle": row["ram_cost_idle"],
        "ramEfficiency": row["ramEfficiency"],
        "externalCost": 0.0,
        "sharedCost": row["shared_cost"],
        "totalCost": row["totalCost"],
        "totalEfficiency": row["totalEfficiency"],
        "rawAllocationOnly": raw,
    }
    return {key: clean(value) for key, value in item.items()}


def allocation_sets(
    frame: pl.DataFrame,
    query: AllocationQuery,
    keys: tuple[AggregateKey, ...],
    *,
    unaggregated: bool,
    pvs: Details,
    lbs: Details,
) -> list[dict[str, dict[str, Any]]]:
    """One dict per set of ``query`` (empty when nothing ran in it), keyed by name, sorted by name."""
    sets: list[dict[str, dict[str, Any]]] = [{} for _ in query.sets]
    if frame.height == 0:
        return sets
    summed = _derived(with_running_span(_summed(frame, len(keys), unaggregated), query.sets))
    for row in summed.sort("set_idx", "name").iter_rows(named=True):
        sets[row["set_idx"]][row["name"]] = _allocation(row, keys, unaggregated, pvs, lbs)
    return sets
