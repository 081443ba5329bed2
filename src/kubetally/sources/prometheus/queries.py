"""The PromQL queries of the Prometheus source: one declarative table that the source, the docs and the tests read.

Two shapes. ``BUCKETS`` queries are range queries evaluated at every hour end ``t`` of the window with step 1 h;
their ``[1h] offset 1ms`` ranges hold exactly the samples of the bucket ``[t-1h, t)`` (Prometheus 2 closes range
selectors on both sides, Prometheus 3 opens them on the left: the 1 ms offset makes both select the same samples).
``WINDOW`` queries are one instant query at the window end over the whole window (``last_over_time``), for the
descriptive series of kube-state-metrics.

Selectors inside templates double their braces. Placeholders: ``{i}`` the scrape interval in whole seconds,
``{w}`` the window in seconds, ``{p}`` the peak-rate window (5 minutes, or 5 scrape intervals when longer),
``{by}`` the cluster label followed by a comma (empty for a single-cluster Prometheus).
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
        return self.template.format(i=round(interval_seconds), w=window_seconds, by=by, p=peak_window(interval_seconds))


def peak_window(interval_seconds: float) -> int:
    """Seconds of the windows whose average rate gives the peak CPU cores of a bucket."""
    return max(300, 5 * round(interval_seconds))


@dataclass(frozen=True)
class Sampled:
    """A series read per sample only where needed: a 0/1 presence gauge, or a counter.

    ``metric{matchers}`` is the selector; ``labels`` the label columns kept; ``match`` the label a targeted
    per-sample query filters on (with a regex over the values of the buckets that need it)."""

    name: str
    metric: str
    matchers: str
    labels: tuple[str, ...]
    match: str

    def selector(self, extra: str = "") -> str:
        """The PromQL selector, with ``extra`` matchers (plain braces: not a template)."""
        inner = ", ".join(part for part in (self.matchers, extra) if part)
        return f"{self.metric}{{{inner}}}" if inner else self.metric

    def template(self) -> str:
        """The selector as a template (braces doubled)."""
        return self.selector().replace("{", "{{").replace("}", "}}")


def presence(spec: Sampled) -> tuple[Query, ...]:
    """Per bucket: how many samples of a 0/1 gauge were 1 (``_n``, a plain range function), and the timestamp of
    the last sample before the bucket end (``_last``). A bucket with every sample at 1 needs nothing more; the
    others (the object came, went or restarted) are read per sample by a targeted query."""
    selector = spec.template()
    return (
        Query(f"{spec.name}_n", f"sum_over_time({selector}[1h] offset 1ms)", Shape.BUCKETS, spec.labels),
        Query(f"{spec.name}_last", f"timestamp({selector} offset 1ms)", Shape.BUCKETS, spec.labels),
    )


def last_in_bucket(selector: str) -> str:
    return f"last_over_time({selector}[1h] offset 1ms)"


def increase_in_bucket(selector: str) -> str:
    """Counter increase from the last sample before the bucket (within 5 minutes) to the last one in it, or the
    last value when the series starts in the bucket: no extrapolation. Exact unless the counter reset, which
    ``resets_in_bucket`` flags (those buckets are read per sample). The difference is taken in PromQL, series by
    series (several series may share the kept labels)."""
    before = f"last_over_time({selector}[5m] offset 3600002ms)"
    return f"(({last_in_bucket(selector)} - {before}) >= 0) or {last_in_bucket(selector)}"


def resets_in_bucket(selector: str) -> str:
    """Counter resets from 5 minutes before the bucket to its end."""
    return f"resets({selector}[3900s] offset 1ms)"


def counter(spec: Sampled, optional: str | None = None) -> tuple[Query, ...]:
    """Per bucket: the increase without extrapolation (``name``) and the number of resets (``_resets``)."""
    selector = spec.template()
    return (
        Query(spec.name, increase_in_bucket(selector), Shape.BUCKETS, spec.labels, optional=optional),
        Query(f"{spec.name}_resets", resets_in_bucket(selector), Shape.BUCKETS, spec.labels),
    )


CPU_MATCHERS = 'container!="", container!="POD"'
CPU = "container_cpu_usage_seconds_total{{" + CPU_MATCHERS + "}}"
USAGE_LABELS = ("namespace", "pod", "container")
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

PRESENCE: tuple[Sampled, ...] = (
    Sampled("node", "kube_node_info", "", ("node",), "node"),
    Sampled("pod_running", "kube_pod_status_phase", 'phase="Running"', ("uid",), "uid"),
    Sampled("container_running", "kube_pod_container_status_running", "", CONTAINER, "uid"),
    Sampled(
        "container_waiting",
        "kube_pod_container_status_waiting_reason",
        f'reason=~"{WAITING_REASONS}"',
        (*CONTAINER, "reason"),
        "uid",
    ),
    Sampled("volume", "kube_persistentvolume_info", "", ("persistentvolume",), "persistentvolume"),
    Sampled("service", "kube_service_info", "", ("namespace", "service"), "service"),
)
"""The 0/1 gauges whose samples give running intervals (``name``: the object; ``labels``: one series)."""

COUNTERS: tuple[Sampled, ...] = (
    Sampled("cpu_core_seconds", "container_cpu_usage_seconds_total", CPU_MATCHERS, USAGE_LABELS, "pod"),
    Sampled("transmit_bytes", "container_network_transmit_bytes_total", 'container=""', ("namespace", "pod"), "pod"),
    Sampled("receive_bytes", "container_network_receive_bytes_total", 'container=""', ("namespace", "pod"), "pod"),
    Sampled(
        "egress_classes",
        "kubecost_pod_network_egress_bytes_total",
        "",
        ("namespace", "pod_name", "internet", "same_region", "same_zone"),
        "pod_name",
    ),
)
"""Counters summed per bucket (increase without extrapolation; buckets with a reset are read per sample)."""

SAMPLED = {spec.name: spec for spec in (*PRESENCE, *COUNTERS)}

EGRESS_WARNING = "OpenCost network-costs (kubecost_pod_network_egress_bytes_total): egress is unclassified"

QUERIES: tuple[Query, ...] = (
    *(query for spec in PRESENCE for query in presence(spec)),
    *(query for spec in COUNTERS for query in counter(spec, EGRESS_WARNING if spec.name == "egress_classes" else None)),
    _bucket("started_min", "min_over_time(kube_pod_container_state_started[1h] offset 1ms)", CONTAINER),
    _bucket("started_max", "max_over_time(kube_pod_container_state_started[1h] offset 1ms)", CONTAINER),
    _bucket(
        "terminated_min", "min_over_time(kube_pod_container_status_last_terminated_timestamp[1h] offset 1ms)", CONTAINER
    ),
    _bucket(
        "terminated_max", "max_over_time(kube_pod_container_status_last_terminated_timestamp[1h] offset 1ms)", CONTAINER
    ),
    _bucket(
        "cpu_cores_max",
        f"max_over_time(rate({CPU}[{{p}}s] offset 1ms)[3599999ms:{{p}}s])",
        USAGE_LABELS,
    ),
    _bucket("ram_bytes_avg", f"avg_over_time({MEMORY}[1h] offset 1ms)", USAGE_LABELS),
    _bucket("ram_bytes_max", f"max_over_time({MEMORY}[1h] offset 1ms)", USAGE_LABELS),
    _bucket(
        "gpu_busy_fraction",
        "avg by ({by}namespace, pod, container) "
        '(avg_over_time(DCGM_FI_DEV_GPU_UTIL{{container!=""}}[1h] offset 1ms)) / 100',
        USAGE_LABELS,
        optional="NVIDIA DCGM exporter (DCGM_FI_DEV_GPU_UTIL): GPU usage is empty",
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
