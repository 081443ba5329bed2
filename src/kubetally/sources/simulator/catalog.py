"""The families of the exposition, in the order they are written."""

from __future__ import annotations

from kubetally.sources.simulator import families as f
from kubetally.sources.simulator import usage_families as u
from kubetally.sources.simulator.exposition import Family

FAMILIES: tuple[Family, ...] = (
    Family("kube_node_info", "gauge", "Information about a cluster node.", f.nodes),
    Family("kube_node_labels", "gauge", "Kubernetes labels converted to Prometheus labels.", f.node_labels),
    Family("kube_node_status_capacity", "gauge", "The capacity for different resources of a node.", f.node_capacity),
    Family(
        "kube_node_status_allocatable", "gauge", "The allocatable for different resources of a node.", f.node_capacity
    ),
    Family("kube_namespace_labels", "gauge", "Kubernetes labels of a namespace.", f.namespace_maps("labels", "label")),
    Family(
        "kube_namespace_annotations",
        "gauge",
        "Kubernetes annotations of a namespace.",
        f.namespace_maps("annotations", "annotation"),
    ),
    Family("kube_pod_info", "gauge", "Information about pod.", f.pod_info),
    Family("kube_pod_start_time", "gauge", "Start time in unix timestamp for a pod.", f.pod_times("start")),
    Family("kube_pod_completion_time", "gauge", "Completion time in unix timestamp for a pod.", f.pod_times("end")),
    Family("kube_pod_status_phase", "gauge", "The pods current phase.", f.pod_phase),
    Family("kube_pod_labels", "gauge", "Kubernetes labels of a pod.", f.pod_maps("labels", "label")),
    Family(
        "kube_pod_annotations", "gauge", "Kubernetes annotations of a pod.", f.pod_maps("annotations", "annotation")
    ),
    Family("kube_pod_owner", "gauge", "Information about the Pod's owner.", f.pod_owner),
    Family(
        "kube_replicaset_owner", "gauge", "Information about the ReplicaSet's owner.", f.controller_owners("ReplicaSet")
    ),
    Family("kube_job_owner", "gauge", "Information about the Job's owner.", f.controller_owners("Job")),
    Family("kube_pod_container_status_running", "gauge", "Whether the container is running.", f.container_status),
    Family("kube_pod_container_status_waiting_reason", "gauge", "Why the container is waiting.", f.container_waiting),
    Family(
        "kube_pod_container_state_started",
        "gauge",
        "Start time in unix timestamp of the container.",
        f.container_started,
    ),
    Family(
        "kube_pod_container_status_last_terminated_timestamp",
        "gauge",
        "Last terminated time in unix timestamp of the container.",
        f.container_terminated,
    ),
    Family("kube_pod_container_status_restarts_total", "counter", "Restarts of the container.", f.container_restarts),
    Family(
        "kube_pod_container_resource_requests",
        "gauge",
        "The number of requested resource by a container.",
        f.container_resources(limits=False),
    ),
    Family(
        "kube_pod_container_resource_limits",
        "gauge",
        "The number of requested limit resource by a container.",
        f.container_resources(limits=True),
    ),
    Family("kube_persistentvolume_info", "gauge", "Information about persistentvolume.", u.pv_info),
    Family("kube_persistentvolume_capacity_bytes", "gauge", "Persistentvolume capacity in bytes.", u.pv_capacity),
    Family("kube_persistentvolume_claim_ref", "gauge", "Information about the claim of a volume.", u.pv_claim_ref),
    Family("kube_persistentvolumeclaim_info", "gauge", "Information about persistent volume claim.", u.pvc("info")),
    Family(
        "kube_persistentvolumeclaim_resource_requests_storage_bytes",
        "gauge",
        "The capacity of storage requested by the persistent volume claim.",
        u.pvc("bytes"),
    ),
    Family(
        "kube_pod_spec_volumes_persistentvolumeclaims_info",
        "gauge",
        "Information about persistentvolumeclaim volumes in a pod.",
        u.pod_claims,
    ),
    Family("kube_service_info", "gauge", "Information about service.", u.service_series("info")),
    Family("kube_service_spec_type", "gauge", "Type about service.", u.service_series("type")),
    Family(
        "kube_service_status_load_balancer_ingress",
        "gauge",
        "Service load balancer ingress status.",
        u.service_series("ingress"),
    ),
    Family(
        "kube_endpoint_address",
        "gauge",
        "Information about Endpoint available and non available addresses.",
        u.endpoints,
    ),
    Family(
        "container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.", u.cadvisor("cpu")
    ),
    Family("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", u.cadvisor("memory")),
    Family(
        "container_network_transmit_bytes_total",
        "counter",
        "Cumulative count of bytes transmitted.",
        u.network_bytes(0),
    ),
    Family(
        "container_network_receive_bytes_total", "counter", "Cumulative count of bytes received.", u.network_bytes(3)
    ),
    Family("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", u.dcgm),
    Family(
        "kubecost_pod_network_egress_bytes_total", "counter", "Egress bytes of a pod by destination.", u.egress_classes
    ),
)
