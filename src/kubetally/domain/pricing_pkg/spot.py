"""Spot / preemptible detection from node labels.

Each managed Kubernetes offering marks interruptible capacity with its own node label. The table below is the
one place these conventions live; code, docs and tests read it. Values compare case-insensitively (EKS writes
``SPOT``, Karpenter ``spot``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SPOT_LABELS: tuple[tuple[str, str, str], ...] = (
    ("EKS managed node groups", "eks.amazonaws.com/capacityType", "SPOT"),
    ("GKE Spot VMs", "cloud.google.com/gke-spot", "true"),
    ("GKE preemptible VMs", "cloud.google.com/gke-preemptible", "true"),
    ("AKS spot node pools", "kubernetes.azure.com/scalesetpriority", "spot"),
    ("Karpenter", "karpenter.sh/capacity-type", "spot"),
)
"""(convention, label key, label value meaning spot). Keys are the original Kubernetes label names."""


def is_spot(labels: Mapping[str, str], extra: Iterable[tuple[str, str]] = ()) -> bool:
    """True when any spot convention (or an ``extra`` (key, value) pair, e.g. OpenCost's ``spotLabel``) matches.

    ``labels`` are the node's labels under their Kubernetes names (not Prometheus-sanitised).
    """
    pairs = [(key, value) for _, key, value in SPOT_LABELS]
    pairs.extend(extra)
    return any(labels.get(key, "").strip().lower() == value.strip().lower() for key, value in pairs)
