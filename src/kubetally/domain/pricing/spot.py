"""Spot / preemptible detection from node labels.

Each managed Kubernetes offering marks interruptible capacity with its own node label. ``SPOT_LABELS`` is the one
place these conventions live; code, docs and tests read it. A label matches under its Kubernetes name
(``eks.amazonaws.com/capacityType``) or the names Prometheus gives it (kube-state-metrics'
``label_eks_amazonaws_com_capacityType``, or the bare ``eks_amazonaws_com_capacityType``). Keys and values
compare case-insensitively (EKS writes ``SPOT``, Karpenter ``spot``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SPOT_LABELS: tuple[tuple[str, str, str], ...] = (
    ("EKS managed node groups", "eks.amazonaws.com/capacityType", "SPOT"),
    ("GKE Spot VMs", "cloud.google.com/gke-spot", "true"),
    ("GKE preemptible VMs", "cloud.google.com/gke-preemptible", "true"),
    ("AKS spot node pools", "kubernetes.azure.com/scalesetpriority", "spot"),
    ("Karpenter", "karpenter.sh/capacity-type", "spot"),
)
"""(convention, label key, label value meaning spot). Keys are the original Kubernetes label names."""

_INVALID_PROMETHEUS_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def sanitize_label_name(key: str) -> str:
    """The Prometheus label name of a Kubernetes label key (every character outside ``[a-zA-Z0-9_]`` → ``_``)."""
    return _INVALID_PROMETHEUS_CHARS.sub("_", key)


def label_key_forms(key: str) -> frozenset[str]:
    """The lower-cased names under which the Kubernetes label ``key`` may appear."""
    sanitized = sanitize_label_name(key)
    return frozenset(form.lower() for form in (key, sanitized, f"label_{sanitized}"))


def is_spot(labels: Mapping[str, str], extra: Iterable[tuple[str, str]] = ()) -> bool:
    """True when any spot convention (or an ``extra`` (key, value) pair, e.g. OpenCost's ``spotLabel``) matches.

    ``labels`` may use Kubernetes or Prometheus-sanitised names.
    """
    folded = {key.lower(): value.strip().lower() for key, value in labels.items()}
    pairs = [(key, value) for _, key, value in SPOT_LABELS]
    pairs.extend(extra)
    for key, value in pairs:
        wanted = value.strip().lower()
        if any(folded.get(form) == wanted for form in label_key_forms(key)):
            return True
    return False
