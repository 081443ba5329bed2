"""``run_assets``: an AssetQuery answered as the ``data`` of OpenCost's ``/assets``.

One GROUP BY in DuckDB per query. Unaggregated, each asset (cluster, type, name, provider ID) is one entry
keyed ``provider/account/project/category/cluster/type/service/providerID/name`` (provider, account and project
are not in the ledger and stay empty, as OpenCost leaves unknown parts). Aggregated, entries are keyed by the
aggregate values; an entry whose members have several types has type ``Any`` and only the common fields.
``minutes`` is the asset's existence (unaggregated) or the span of its hour buckets (aggregated);
``cpuCores``, ``ramBytes``, ``gpuCount`` and ``bytes`` are averages over ``minutes``. ``totalCost`` is the
ledger's ``total_cost`` (it already includes ``adjustment``'s effect when a bill reconciles the asset).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from kubetally.domain.names import SEPARATOR, UNALLOCATED, asset_name
from kubetally.query.allocation import Reader
from kubetally.query.filtering import compile_asset_filter
from kubetally.query.params import AssetQuery
from kubetally.query.shape import clean, map_to_dict, ratio, window_json, with_span
from kubetally.query.sql import Sql, set_index_sql

_SUMS = (
    "existence_minutes",
    "cpu_core_hours",
    "ram_byte_hours",
    "gpu_hours",
    "cpu_cost",
    "ram_cost",
    "gpu_cost",
    "byte_hours",
    "adjustment",
    "total_cost",
)
_ANY = (
    "node_type",
    "preemptible",
    "discount",
    "storage_class",
    "claim",
    "claim_namespace",
    "ip",
    "private",
    "labels",
    "category",
    "service",
    "cluster",
    "name",
    "provider_id",
)
_UNAGGREGATED = ("cluster", "type", "name", "provider_id", "category", "service")


def asset_sql(query: AssetQuery) -> Sql:
    """The GROUP BY reading the assets of the window."""
    sql = Sql().add(f"SELECT {set_index_sql(query.sets, 's.hour')} AS set_idx")
    if query.aggregate:
        for i, key in enumerate(query.aggregate):
            if key.label is not None:
                sql.add(f", nullif(s.labels[?], '') AS k{i}", key.label)
            elif key.column is None:
                sql.add(f", CAST(NULL AS VARCHAR) AS k{i}")
            else:
                sql.add(f", nullif(CAST(s.{key.column} AS VARCHAR), '') AS k{i}")
    else:
        sql.add("".join(f", s.{c} AS u_{c}" for c in _UNAGGREGATED))
    sql.add(", min(s.hour) AS first_hour, max(s.hour) AS last_hour")
    sql.add(", any_value(s.type) AS type, count(DISTINCT s.type) AS types")
    sql.add(", sum(s.minutes) AS existence_minutes")
    sql.add("".join(f", sum(s.{c}) AS {c}" for c in _SUMS[1:]))
    sql.add("".join(f", any_value(s.{c}) AS {c}" for c in _ANY))
    sql.add(" FROM assets s WHERE s.hour >= ? AND s.hour < ?", query.window.start, query.window.end)
    if query.filter is not None:
        fragment, params = compile_asset_filter(query.filter)
        sql.add(f" AND coalesce({fragment}, false)", *params)
    return sql.add(" GROUP BY ALL")


def _names(frame: pl.DataFrame, query: AssetQuery) -> pl.DataFrame:
    if query.aggregate:
        parts = [pl.col(f"k{i}").fill_null(UNALLOCATED) for i in range(len(query.aggregate))]
        return frame.with_columns(key=pl.concat_str(parts, separator=SEPARATOR))
    keys = [
        asset_name(
            ("", "", "", r["u_category"], r["u_cluster"], r["u_type"], r["u_service"], r["u_provider_id"], r["u_name"])
        )
        for r in frame.iter_rows(named=True)
    ]
    return frame.with_columns(key=pl.Series("key", keys, dtype=pl.String))


def _asset(row: dict[str, Any], aggregated: bool) -> dict[str, Any]:
    window = window_json(row["start"], row["end"])
    kind = row["type"] if row["types"] == 1 else "Any"
    minutes = row["minutes"] if aggregated else row["existence_minutes"]
    item: dict[str, Any] = {
        "type": kind,
        "properties": {
            "category": row["category"],
            "provider": "",
            "account": "",
            "project": "",
            "service": row["service"],
            "cluster": row["cluster"],
            "name": row["name"],
            "providerID": row["provider_id"],
        },
        "labels": map_to_dict(row["labels"]),
        "window": window,
        "start": window["start"],
        "end": window["end"],
        "minutes": minutes,
        "adjustment": row["adjustment"],
        "totalCost": row["total_cost"],
    }
    if kind == "Node":
        item |= {
            "nodeType": row["node_type"],
            "cpuCores": row["cpuCores"],
            "ramBytes": row["ramBytes"],
            "cpuCoreHours": row["cpu_core_hours"],
            "ramByteHours": row["ram_byte_hours"],
            "GPUHours": row["gpu_hours"],
            "gpuCount": row["gpuCount"],
            "preemptible": 1.0 if row["preemptible"] else 0.0,
            "discount": row["discount"],
            "cpuCost": row["cpu_cost"],
            "ramCost": row["ram_cost"],
            "gpuCost": row["gpu_cost"],
        }
    elif kind == "Disk":
        item |= {
            "bytes": row["bytes"],
            "byteHours": row["byte_hours"],
            "storageClass": row["storage_class"],
            "volumeName": row["name"],
            "claimName": row["claim"],
            "claimNamespace": row["claim_namespace"],
        }
    elif kind == "LoadBalancer":
        item |= {"private": bool(row["private"]), "ip": row["ip"]}
    return {key: clean(value) for key, value in item.items()}


def run_assets(ledger: Reader, query: AssetQuery) -> list[dict[str, dict[str, Any]]]:
    """The ``data`` of OpenCost's ``/assets``: one set per step, each keyed by asset key, sorted by key."""
    sets: list[dict[str, dict[str, Any]]] = [{} for _ in query.sets]
    sql = asset_sql(query)
    frame = ledger.fetch(sql.text, sql.params)
    if frame.height == 0:
        return sets
    aggregated = bool(query.aggregate)
    frame = with_span(
        _names(frame, query).with_columns(pl.col("set_idx").cast(pl.Int64), *(pl.col(c).fill_null(0.0) for c in _SUMS)),
        query.sets,
    )
    hours = pl.col("minutes" if aggregated else "existence_minutes") / 60.0
    frame = frame.with_columns(
        cpuCores=ratio(pl.col("cpu_core_hours"), hours),
        ramBytes=ratio(pl.col("ram_byte_hours"), hours),
        gpuCount=ratio(pl.col("gpu_hours"), hours),
        bytes=ratio(pl.col("byte_hours"), hours),
    )
    for row in frame.sort("set_idx", "key").iter_rows(named=True):
        sets[row["set_idx"]][row["key"]] = _asset(row, aggregated)
    return sets
