"""The PromQL queries of the Prometheus source: one declarative table that the source, the docs and the tests read.

Two shapes. ``BUCKETS`` queries are range queries evaluated at every hour end ``t`` of the window with step 1 h;
their ``[1h] offset 1ms`` ranges hold exactly the samples of the bucket ``[t-1h, t)`` (Prometheus 2 closes range
selectors on both sides, Prometheus 3 opens them on the left: the 1 ms offset makes both select the same samples).
``WINDOW`` queries are one instant query at the window end over the whole window (``last_over_time``), for the
descriptive series of kube-state-metrics.

Selectors inside templates double their braces. Placeholders: ``{i}`` the scrape interval in whole seconds,
``{w}`` the window in seconds, ``{by}`` the cluster label followed by a comma (empty for a single-cluster Prometheus).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Shape(StrEnum):
    BUCKETS = "buckets"
    WINDOW = "window"


@dataclass(frozen=True)
class Query:
    """``labels`` are the label columns kept from the result; labels starting with ``map_prefix`` become a map.
    ``optional`` names the exporter of an optional metric: an empty result is then reported once, not an error."""

    name: str
    template: str
    shape: Shape
    labels: tuple[str, ...]
    map_prefix: str | None = None
    optional: str | None = None

    def render(self, interval_seconds: float, window_seconds: int, cluster_label: str | None) -> str:
        by = f"{cluster_label}, " if cluster_label else ""
        return self.template.format(i=round(interval_seconds), w=window_seconds, by=by)


def fresh(selector: str) -> str:
    """The sample timestamps of ``selector`` where it is 1, only for samples taken within the last scrape interval
    of each evaluation step: a stale sample found by the lookback delta is not counted twice."""
    return f"(timestamp({selector}) and ({selector} == 1)) > (time() - {{i}})"


def presence(name: str, selector: str, labels: tuple[str, ...]) -> tuple[Query, ...]:
    """Per bucket: how many samples of ``selector`` were 1 (``_n``), and the first and last of them (unix seconds).

    The subquery steps at the scrape interval, so each sample is seen once."""
    inner = f"({fresh(selector)})[1h:{{i}}s] offset 1ms"
    return tuple(
        Query(f"{name}_{suffix}", f"{function}({inner})", Shape.BUCKETS, labels)
        for suffix, function in (("n", "count_over_time"), ("first", "min_over_time"), ("last", "max_over_time"))
    )


def counter_delta(selector: str) -> str:
    """The increase of a counter since the previous scrape; after a reset, its value (it restarted from zero).

    Summed over a bucket's scrapes this is the increase within the bucket without ``increase()``'s extrapolation."""
    return f"((({selector}) - ({selector} offset {{i}}s)) >= 0) or (({selector}) * 1)"


def increase_in_bucket(selector: str) -> str:
    """Counter increase from the sample at the bucket start to the one at its end (``3599999ms``: the subquery
    steps are the scrapes in ``(t-1h, t]`` on Prometheus 2 and 3 alike)."""
    return f"sum_over_time(({counter_delta(selector)})[3599999ms:{{i}}s])"


CPU = 'container_cpu_usage_seconds_total{{container!="", container!="POD"}}'
MEMORY = 'container_memory_working_set_bytes{{container!="", container!="POD"}}'
WAITING_REASONS = "ImagePullBackOff|ErrImagePull|ContainerCreating"
CONTAINER = ("uid", "container")


def _window(name: str, metric: str, labels: tuple[str, ...], prefix: str | None = None) -> Query:
    return Query(name, f"last_over_time({metric}[{{w}}s] offset 1ms)", Shape.WINDOW, labels, prefix)


def _bucket(name: str, template: str, labels: tuple[str, ...], optional: str | None = None) -> Query:
    return Query(name, template, Shape.BUCKETS, labels, optional=optional)


def _price(name: str, metric: str, keys: tuple[str, ...], priced: str) -> Query:
    """The time-weighted mean of an OpenCost pricing metric over the window, per ``keys`` (and cluster): the sum of
    its samples over their count, across every series of the key."""
    group = "by ({by}" + ", ".join(keys) + ")"
    selector = f"{metric}[{{w}}s] offset 1ms"
    template = f"sum {group} (sum_over_time({selector})) / sum {group} (count_over_time({selector}))"
    warning = f"OpenCost pricing metric {metric} absent: the pricing config gives {priced}"
    return Query(name, template, Shape.WINDOW, keys, optional=warning)


SCRAPE_INTERVAL = _bucket("scrape_samples", "max(count_over_time(kube_node_info[1h] offset 1ms))", ())
"""Samples per hour of the node series: 3600 / this is the scrape interval of kube-state-metrics."""

QUERIES: tuple[Query, ...] = (
    *presence("node", "kube_node_info", ("node",)),
    *presence("pod_running", 'kube_pod_status_phase{{phase="Running"}}', ("uid",)),
    *presence("container_running", "kube_pod_container_status_running", CONTAINER),
    *presence(
        "container_waiting", f'kube_pod_container_status_waiting_reason{{{{reason=~"{WAITING_REASONS}"}}}}', CONTAINER
    ),
    *presence("volume", "kube_persistentvolume_info", ("persistentvolume",)),
    *presence("service", "kube_service_info", ("namespace", "service")),
    _bucket("started_min", "min_over_time(kube_pod_container_state_started[1h] offset 1ms)", CONTAINER),
    _bucket("started_max", "max_over_time(kube_pod_container_state_started[1h] offset 1ms)", CONTAINER),
    _bucket(
        "terminated_min", "min_over_time(kube_pod_container_status_last_terminated_timestamp[1h] offset 1ms)", CONTAINER
    ),
    _bucket(
        "terminated_max", "max_over_time(kube_pod_container_status_last_terminated_timestamp[1h] offset 1ms)", CONTAINER
    ),
    _bucket("cpu_core_seconds", increase_in_bucket(CPU), ("namespace", "pod", "container")),
    _bucket(
        "cpu_cores_max",
        f"max_over_time(((({CPU}) - ({CPU} offset {{i}}s)) / {{i}} >= 0)[3599999ms:{{i}}s])",
        ("namespace", "pod", "container"),
    ),
    _bucket("ram_bytes_avg", f"avg_over_time({MEMORY}[1h] offset 1ms)", ("namespace", "pod", "container")),
    _bucket("ram_bytes_max", f"max_over_time({MEMORY}[1h] offset 1ms)", ("namespace", "pod", "container")),
    _bucket(
        "gpu_busy_fraction",
        "avg by ({by}namespace, pod, container) "
        '(avg_over_time(DCGM_FI_DEV_GPU_UTIL{{container!=""}}[1h] offset 1ms)) / 100',
        ("namespace", "pod", "container"),
        optional="NVIDIA DCGM exporter (DCGM_FI_DEV_GPU_UTIL): GPU usage is empty",
    ),
    _bucket(
        "transmit_bytes",
        "sum by ({by}namespace, pod) ("
        + increase_in_bucket('container_network_transmit_bytes_total{{container=""}}')
        + ")",
        ("namespace", "pod"),
    ),
    _bucket(
        "receive_bytes",
        "sum by ({by}namespace, pod) ("
        + increase_in_bucket('container_network_receive_bytes_total{{container=""}}')
        + ")",
        ("namespace", "pod"),
    ),
    _bucket(
        "egress_classes",
        "sum by ({by}namespace, pod_name, internet, same_region, same_zone) ("
        + increase_in_bucket("kubecost_pod_network_egress_bytes_total")
        + ")",
        ("namespace", "pod_name", "internet", "same_region", "same_zone"),
        optional="OpenCost network-costs (kubecost_pod_network_egress_bytes_total): egress is unclassified",
    ),
    _window("node_info", "kube_node_info", ("node", "provider_id")),
    _window("node_labels", "kube_node_labels", ("node",), "label_"),
    _window("node_capacity", "kube_node_status_capacity", ("node", "resource")),
    _window("namespace_labels", "kube_namespace_labels", ("namespace",), "label_"),
    _window("namespace_annotations", "kube_namespace_annotations", ("namespace",), "annotation_"),
    _window("pod_info", "kube_pod_info", ("namespace", "pod", "uid", "node", "pod_ip")),
    _window("pod_owner", "kube_pod_owner", ("uid", "owner_kind", "owner_name")),
    _window("replicaset_owner", "kube_replicaset_owner", ("namespace", "replicaset", "owner_kind", "owner_name")),
    _window("job_owner", "kube_job_owner", ("namespace", "job_name", "owner_kind", "owner_name")),
    _window("pod_labels", "kube_pod_labels", ("uid",), "label_"),
    _window("pod_annotations", "kube_pod_annotations", ("uid",), "annotation_"),
    _window("pod_start", "kube_pod_start_time", ("uid",)),
    _window("pod_completion", "kube_pod_completion_time", ("uid",)),
    _window("containers", "kube_pod_container_status_running", CONTAINER),
    _window("requests", "kube_pod_container_resource_requests", (*CONTAINER, "resource")),
    _window("pv_info", "kube_persistentvolume_info", ("persistentvolume", "storageclass", "csi_volume_handle")),
    _window("pv_capacity", "kube_persistentvolume_capacity_bytes", ("persistentvolume",)),
    _window("pv_claim_ref", "kube_persistentvolume_claim_ref", ("persistentvolume", "name", "claim_namespace")),
    _window(
        "pod_claims", "kube_pod_spec_volumes_persistentvolumeclaims_info", ("uid", "namespace", "persistentvolumeclaim")
    ),
    _window("service_info", "kube_service_info", ("namespace", "service", "cluster_ip")),
    _window("service_type", "kube_service_spec_type", ("namespace", "service", "type")),
    _window("lb_ingress", "kube_service_status_load_balancer_ingress", ("namespace", "service", "ip")),
    _window("endpoints", "kube_endpoint_address", ("namespace", "endpoint", "ip")),
    _price("node_cpu_price", "node_cpu_hourly_cost", ("node",), "node CPU prices"),
    _price("node_ram_price", "node_ram_hourly_cost", ("node",), "node RAM prices"),
    _price("node_gpu_price", "node_gpu_hourly_cost", ("node",), "node GPU prices"),
    _price("pv_price", "pv_hourly_cost", ("persistentvolume",), "volume prices"),
    _price("lb_price", "kubecost_load_balancer_cost", ("namespace", "service_name"), "load balancer prices"),
    _price("management_price", "kubecost_cluster_management_cost", (), "the cluster management fee"),
    _price("zone_egress_price", "kubecost_network_zone_egress_cost", (), "the zone egress price"),
    _price("region_egress_price", "kubecost_network_region_egress_cost", (), "the region egress price"),
    _price("internet_egress_price", "kubecost_network_internet_egress_cost", (), "the internet egress price"),
)
"""Every query the source runs (besides SCRAPE_INTERVAL), by name."""

BY_NAME = {query.name: query for query in QUERIES}
