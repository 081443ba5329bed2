"""The descriptive tables of a ClusterHistory (nodes, namespaces, pods, containers, volumes, services) from the
results of the ``WINDOW`` queries and the presence intervals."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

import polars as pl

from kubetally.domain.names import CRONJOB_JOB_NAME, JOB

NONE = "<none>"
NODE_ATTRIBUTES = {
    "instance_type": ("node_kubernetes_io_instance_type", "beta_kubernetes_io_instance_type"),
    "region": ("topology_kubernetes_io_region", "failure_domain_beta_kubernetes_io_region"),
    "zone": ("topology_kubernetes_io_zone", "failure_domain_beta_kubernetes_io_zone"),
    "arch": ("kubernetes_io_arch", "beta_kubernetes_io_arch"),
}
"""ClusterHistory node columns and the sanitised kube_node_labels keys they are read from, in order."""

Results = Mapping[str, pl.DataFrame]


def map_get(key: str) -> pl.Expr:
    """The value of ``key`` in the ``map`` column, or null."""
    found = pl.col("map").list.eval(pl.element().filter(pl.element().struct.field("key") == key).struct.field("value"))
    return found.list.first()


def blank(column: str) -> pl.Expr:
    """Empty strings and ``<none>`` as null."""
    return pl.when(pl.col(column).is_in(["", NONE])).then(None).otherwise(pl.col(column)).alias(column)


def node_table(r: Results, intervals: pl.DataFrame) -> pl.DataFrame:
    """``nodes``: one row per presence interval of kube_node_info with labels and capacity."""
    info = r["node_info"].unique(["cluster", "node"], keep="last").select("cluster", "node", blank("provider_id"))
    labels = r["node_labels"].unique(["cluster", "node"], keep="last")
    labels = labels.select(
        "cluster",
        "node",
        pl.col("map").alias("labels"),
        *[pl.coalesce([map_get(key) for key in keys]).alias(name) for name, keys in NODE_ATTRIBUTES.items()],
    )
    capacity = (
        r["node_capacity"]
        .group_by("cluster", "node")
        .agg(
            *[
                pl.col("value").filter(pl.col("resource") == resource).max().fill_null(0.0).alias(name)
                for resource, name in (("cpu", "cpu_cores"), ("memory", "ram_bytes"), ("nvidia_com_gpu", "gpu_count"))
            ]
        )
    )
    keys = ["cluster", "node"]
    frame = intervals.join(info, on=keys, how="left").join(labels, on=keys, how="left")
    frame = frame.join(capacity, on=keys, how="left")
    return frame.with_columns(
        pl.col("labels").fill_null(pl.lit([], dtype=labels.schema["labels"])),
        pl.col("cpu_cores", "ram_bytes", "gpu_count").fill_null(0.0),
    )


def namespace_table(r: Results) -> pl.DataFrame:
    keys = ["cluster", "namespace"]
    labels = r["namespace_labels"].unique(keys, keep="last").select(*keys, pl.col("map").alias("labels"))
    notes = r["namespace_annotations"].unique(keys, keep="last").select(*keys, pl.col("map").alias("annotations"))
    frame = labels.join(notes, on=keys, how="full", coalesce=True)
    empty = pl.lit([], dtype=labels.schema["labels"])
    return frame.with_columns(pl.col("labels").fill_null(empty), pl.col("annotations").fill_null(empty))


def _owners(r: Results) -> pl.DataFrame:
    """(cluster, namespace, owner_kind, owner_name) of a ReplicaSet or Job -> its own owner (top_kind, top_name)."""
    parts = [
        r[query].select(
            "cluster",
            "namespace",
            pl.lit(kind).alias("owner_kind"),
            pl.col(column).alias("owner_name"),
            blank("owner_kind").alias("top_kind"),
            blank("owner_name").alias("top_name"),
        )
        for query, kind, column in (("replicaset_owner", "ReplicaSet", "replicaset"), ("job_owner", "Job", "job_name"))
    ]
    return pl.concat(parts).unique(["cluster", "namespace", "owner_kind", "owner_name"], keep="last")


def controller_columns() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """``controller_kind``, ``controller`` and ``cronjob`` from a pod's owner (``owner_kind``, ``owner_name``)
    and that owner's own owner (``top_kind``, ``top_name``), as OpenCost names controllers: a ReplicaSet's pods
    belong to its owner (``deployment``, ``rollout``) or, unowned, to the ``replicaset``; a Job's pods to the
    ``job`` named without a trailing CronJob timestamp, and to the Job's CronJob in ``cronjob``; any other owner
    kind in lower case."""
    job = pl.col("owner_kind") == "Job"
    kind = pl.when(job).then(pl.lit(JOB)).otherwise(pl.coalesce("top_kind", "owner_kind").str.to_lowercase())
    name = (
        pl.when(job)
        .then(pl.col("owner_name").str.replace(CRONJOB_JOB_NAME, "${1}"))
        .otherwise(pl.coalesce("top_name", "owner_name"))
    )
    cronjob = pl.when(job & (pl.col("top_kind") == "CronJob")).then(pl.col("top_name"))
    return kind.alias("controller_kind"), name.alias("controller"), cronjob.alias("cronjob")


def pod_table(r: Results) -> pl.DataFrame:
    """``pods`` with the controller resolved through ReplicaSet and Job owners (:func:`controller_columns`)."""
    keys = ["cluster", "uid"]
    info = r["pod_info"].unique(keys, keep="last").select("cluster", "namespace", "pod", "uid", blank("node"))
    owner = r["pod_owner"].unique(keys, keep="last").select(*keys, blank("owner_kind"), blank("owner_name"))
    empty = pl.lit([], dtype=r["pod_labels"].schema["map"])
    labels = r["pod_labels"].unique(keys, keep="last").select(*keys, pl.col("map").alias("labels"))
    notes = r["pod_annotations"].unique(keys, keep="last").select(*keys, pl.col("map").alias("annotations"))
    frame = info.join(owner, on=keys, how="left").join(
        _owners(r), on=["cluster", "namespace", "owner_kind", "owner_name"], how="left"
    )
    frame = frame.join(labels, on=keys, how="left").join(notes, on=keys, how="left")
    return frame.select(
        "cluster",
        "namespace",
        "pod",
        pl.col("uid").alias("pod_uid"),
        "node",
        *controller_columns(),
        pl.col("labels").fill_null(empty),
        pl.col("annotations").fill_null(empty),
    )


def container_table(r: Results) -> pl.DataFrame:
    """``containers``: every container kube-state-metrics reports, with its requests (0 when none)."""
    keys = ["cluster", "uid", "container"]
    requests = (
        r["requests"]
        .group_by(keys)
        .agg(
            *[
                pl.col("value").filter(pl.col("resource") == resource).max().alias(name)
                for resource, name in (
                    ("cpu", "cpu_request_cores"),
                    ("memory", "ram_request_bytes"),
                    ("nvidia_com_gpu", "gpu_request"),
                )
            ]
        )
    )
    names = pl.concat([r["containers"].select(keys), requests.select(keys)]).unique()
    frame = names.join(requests, on=keys, how="left").with_columns(
        pl.col("cpu_request_cores", "ram_request_bytes", "gpu_request").fill_null(0.0)
    )
    return frame.rename({"uid": "pod_uid"})


def volume_tables(r: Results, intervals: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``volumes`` (one row per presence interval of kube_persistentvolume_info) and ``mounts``."""
    keys = ["cluster", "persistentvolume"]
    info = (
        r["pv_info"]
        .unique(keys, keep="last")
        .select(*keys, pl.col("storageclass").alias("storage_class"), blank("csi_volume_handle").alias("provider_id"))
    )
    capacity = r["pv_capacity"].unique(keys, keep="last").select(*keys, pl.col("value").alias("capacity_bytes"))
    claims = (
        r["pv_claim_ref"]
        .unique(keys, keep="last")
        .select(*keys, blank("claim_namespace"), blank("name").alias("claim"))
    )
    volumes = (
        intervals.join(info, on=keys, how="left")
        .join(capacity, on=keys, how="left")
        .join(claims, on=keys, how="left")
        .with_columns(pl.col("capacity_bytes").fill_null(0.0))
        .rename({"persistentvolume": "pv"})
    )
    mounts = (
        r["pod_claims"]
        .select("cluster", pl.col("uid").alias("pod_uid"), "namespace", pl.col("persistentvolumeclaim").alias("claim"))
        .unique()
    )
    return volumes, mounts


PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
"""Address ranges of internal load balancers (RFC 1918, carrier-grade NAT, unique local IPv6)."""


def _private(ip: str | None) -> bool:
    if not ip:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in PRIVATE_NETWORKS if network.version == address.version)


def service_tables(r: Results, intervals: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``services`` (LoadBalancer ingress IP, else cluster IP; private when the IP is) and ``service_pods`` (from
    endpoint addresses matched to pod IPs)."""
    keys = ["cluster", "namespace", "service"]
    kinds = r["service_type"].unique(keys, keep="last").select(*keys, pl.col("type").alias("service_type"))
    ingress = r["lb_ingress"].unique(keys, keep="last").select(*keys, blank("ip").alias("lb_ip"))
    info = r["service_info"].unique(keys, keep="last").select(*keys, blank("cluster_ip"))
    services = (
        intervals.join(kinds, on=keys, how="left")
        .join(ingress, on=keys, how="left")
        .join(info, on=keys, how="left")
        .with_columns(pl.coalesce("lb_ip", "cluster_ip").alias("ip"))
        .with_columns(pl.col("ip").map_elements(_private, return_dtype=pl.Boolean()).alias("private"))
    )
    pods = (
        r["pod_info"].filter(pl.col("pod_ip") != "").select("cluster", "namespace", pl.col("pod_ip").alias("ip"), "uid")
    )
    members = r["endpoints"].select("cluster", "namespace", pl.col("endpoint").alias("service"), "ip")
    service_pods = members.join(pods, on=["cluster", "namespace", "ip"], how="inner").select(
        *keys, pl.col("uid").alias("pod_uid")
    )
    return services, service_pods.unique()
