"""A simulation as a ClusterHistory: object tables row by row, hourly tables vectorised with numpy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from kubetally.history import SCHEMAS, TIME, ClusterHistory
from kubetally.sources.simulator.model import Simulation, Span

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def to_history(sim: Simulation) -> ClusterHistory:
    """The ClusterHistory of a simulation (every table of kubetally.history, observed prices empty)."""
    return ClusterHistory.build(
        sim.start,
        sim.end,
        nodes=_nodes(sim),
        namespaces=_frame(
            "namespaces",
            [
                {
                    "cluster": n.cluster,
                    "namespace": n.name,
                    "labels": _map(n.labels),
                    "annotations": _map(n.annotations),
                }
                for n in sim.namespaces
            ],
        ),
        pods=_frame(
            "pods",
            [
                {
                    "cluster": p.cluster,
                    "namespace": p.namespace,
                    "pod": p.name,
                    "pod_uid": p.uid,
                    "node": p.node,
                    "controller_kind": p.controller_kind,
                    "controller": p.controller,
                    "cronjob": p.cronjob,
                    "labels": _map(p.labels),
                    "annotations": _map(p.annotations),
                }
                for p in sim.pods
            ],
        ),
        pod_intervals=_spans(sim, [((p.cluster, p.uid), p.running) for p in sim.pods], ("cluster", "pod_uid")),
        containers=_frame(
            "containers",
            [
                {
                    "cluster": p.cluster,
                    "pod_uid": p.uid,
                    "container": c.name,
                    "cpu_request_cores": c.cpu_request_cores,
                    "ram_request_bytes": c.ram_request_bytes,
                    "gpu_request": c.gpu_request,
                }
                for p, c in sim.containers()
            ],
        ),
        container_intervals=pl.concat(
            [
                _spans(
                    sim,
                    [((p.cluster, p.uid, c.name, state), getattr(c, state)) for p, c in sim.containers()],
                    ("cluster", "pod_uid", "container", "state"),
                )
                for state in ("running", "waiting")
            ]
        ),
        usage=_usage(sim),
        volumes=_frame(
            "volumes",
            [
                {
                    "cluster": v.cluster,
                    "pv": v.name,
                    "storage_class": v.storage_class,
                    "capacity_bytes": v.capacity_bytes,
                    "provider_id": v.provider_id,
                    "claim_namespace": v.claim_namespace,
                    "claim": v.claim,
                    "start": sim.at(v.span[0]),
                    "end": sim.at(v.span[1]),
                }
                for v in sim.volumes
                if v.span[0] < v.span[1]
            ],
        ),
        mounts=_frame(
            "mounts",
            [
                {"cluster": p.cluster, "pod_uid": p.uid, "namespace": p.namespace, "claim": claim}
                for p in sim.pods
                for claim in p.claims
            ],
        ),
        services=_frame(
            "services",
            [
                {
                    "cluster": s.cluster,
                    "namespace": s.namespace,
                    "service": s.name,
                    "service_type": s.service_type,
                    "ip": s.ip,
                    "private": s.private,
                    "start": sim.at(s.span[0]),
                    "end": sim.at(s.span[1]),
                }
                for s in sim.services
                if s.span[0] < s.span[1]
            ],
        ),
        service_pods=_frame(
            "service_pods",
            [
                {"cluster": s.cluster, "namespace": s.namespace, "service": s.name, "pod_uid": uid}
                for s in sim.services
                for uid in s.pod_uids
            ],
        ),
        egress=_egress(sim),
    )


def _frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMAS[name])


def _map(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in sorted(mapping.items())]


def _nodes(sim: Simulation) -> pl.DataFrame:
    return _frame(
        "nodes",
        [
            {
                "cluster": n.cluster,
                "node": n.name,
                "provider_id": n.provider_id,
                "instance_type": n.instance_type,
                "region": n.region,
                "zone": n.zone,
                "arch": n.arch,
                "labels": _map(n.labels),
                "cpu_cores": n.cpu_cores,
                "ram_bytes": n.ram_bytes,
                "gpu_count": n.gpu_count,
                "start": sim.at(s),
                "end": sim.at(e),
            }
            for n in sim.nodes
            for s, e in n.spans
        ],
    )


def _spans(
    sim: Simulation, items: Iterable[tuple[tuple[str, ...], list[Span]]], columns: tuple[str, ...]
) -> pl.DataFrame:
    rows = [(*key, s, e) for key, spans in items for s, e in spans if s < e]
    frame = pl.DataFrame(rows, schema={**dict.fromkeys(columns, pl.String), "s": pl.Int64, "e": pl.Int64}, orient="row")
    return _timestamps(sim, frame, {"s": "start", "e": "end"})


def _timestamps(sim: Simulation, frame: pl.DataFrame, columns: Mapping[str, str]) -> pl.DataFrame:
    base = pl.lit(sim.start, dtype=TIME)
    return frame.with_columns(
        (base + pl.duration(seconds=pl.col(old))).alias(new) for old, new in columns.items()
    ).drop(list(columns))


def _running_seconds(spans: list[tuple[int, int, int]], rows: int, hours: int) -> tuple[IntArray, IntArray, FloatArray]:
    """(row, hour, seconds) for every row and hour bucket its spans overlap, overlaps of a bucket summed."""
    if not spans:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    table = np.array(spans, dtype=np.int64)
    index, start, end = table[:, 0], table[:, 1], table[:, 2]
    first, last = start // 3600, (end - 1) // 3600
    counts = last - first + 1
    owner = np.repeat(np.arange(len(table)), counts)
    hour = first[owner] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    seconds = np.minimum(end[owner], (hour + 1) * 3600) - np.maximum(start[owner], hour * 3600)
    total = np.bincount(index[owner] * hours + hour, weights=seconds, minlength=rows * hours)
    cells = np.flatnonzero(total > 0)
    return (cells // hours).astype(np.int64), (cells % hours).astype(np.int64), total[cells].astype(np.float64)


def _hours(sim: Simulation, hour: IntArray) -> pl.Series:
    base = int(sim.start.timestamp()) * 1_000_000
    return pl.Series("hour", base + hour * 3_600_000_000, dtype=pl.Int64).cast(TIME)


def _usage(sim: Simulation) -> pl.DataFrame:
    containers = sim.containers()
    spans = [(c.index, s, e) for _, c in containers for s, e in c.running if s < e]
    row, hour, seconds = _running_seconds(spans, len(containers), sim.hours)
    keys = pl.DataFrame(
        {
            "cluster": [p.cluster for p, _ in containers],
            "pod_uid": [p.uid for p, _ in containers],
            "container": [c.name for _, c in containers],
        },
        schema={"cluster": pl.String, "pod_uid": pl.String, "container": pl.String},
    )
    cpu = sim.cpu_cores[row, hour]
    ram = sim.ram_bytes[row, hour]
    return keys[row].with_columns(
        _hours(sim, hour),
        pl.Series("cpu_core_seconds", cpu * seconds),
        pl.Series("cpu_cores_max", cpu),
        pl.Series("ram_bytes_avg", ram),
        pl.Series("ram_bytes_max", ram),
        pl.Series("gpu_usage_avg", sim.gpu_usage[row, hour]),
    )


def _egress(sim: Simulation) -> pl.DataFrame:
    spans = [(p.index, s, e) for p in sim.pods for s, e in p.running if s < e]
    row, hour, seconds = _running_seconds(spans, len(sim.pods), sim.hours)
    rates = sim.egress_bytes_per_second[row, hour, :]
    moved = rates * seconds[:, None]
    keep = moved.sum(axis=1) > 0
    row, hour, moved = row[keep], hour[keep], moved[keep]
    keys = pl.DataFrame(
        {"cluster": [p.cluster for p in sim.pods], "pod_uid": [p.uid for p in sim.pods]},
        schema={"cluster": pl.String, "pod_uid": pl.String},
    )
    frame: pl.DataFrame = keys[row].with_columns(
        _hours(sim, hour),
        pl.Series("zone_bytes", moved[:, 0]),
        pl.Series("region_bytes", moved[:, 1]),
        pl.Series("internet_bytes", moved[:, 2]),
        pl.Series("unclassified_bytes", np.zeros(len(row))),
        pl.Series("receive_bytes", moved[:, 3]),
    )
    return frame
