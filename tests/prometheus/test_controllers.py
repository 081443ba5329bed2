"""A pod's controller from kube-state-metrics owner series, named as OpenCost names it.

The expected values are written by hand from OpenCost's allocation code (pkg/costmodel: ``resultDeploymentKey``
and friends give lower-case kinds; ``resToPodJobMap`` strips a trailing ``-`` + 10 or 8 digits from a Job's
name; an unowned ReplicaSet is its pods' controller), and docs/query-language.md "Controllers" for what kubetally
adds (``cronjob``, a Rollout's own name, other owner kinds in lower case).
"""

from __future__ import annotations

import polars as pl
import pytest

from kubetally.history import STRING_MAP
from kubetally.sources.prometheus.objects import pod_table

C, NS = "c1", "shop"

OWNERS = [
    # uid, pod owner kind and name (kube_pod_owner) -> controller_kind, controller, cronjob
    ("a", "ReplicaSet", "web-5d8f9c7b6", ("deployment", "web", None)),
    ("b", "ReplicaSet", "orphan-abc12", ("replicaset", "orphan-abc12", None)),
    ("c", "ReplicaSet", "canary-7f6d5", ("rollout", "canary", None)),
    ("d", "Job", "nightly-29012345", ("job", "nightly", "nightly")),
    ("e", "Job", "legacy-1767225600", ("job", "legacy", "legacy")),
    ("f", "Job", "migrate-v2", ("job", "migrate-v2", None)),
    ("g", "Job", "backfill-20260101", ("job", "backfill", None)),
    ("h", "Job", "load-123456789", ("job", "load-123456789", None)),
    ("i", "Job", "etl-run-12345678", ("job", "etl-run", None)),
    ("j", "StatefulSet", "db", ("statefulset", "db", None)),
    ("k", "DaemonSet", "agent", ("daemonset", "agent", None)),
    ("l", "Node", "node-1", ("node", "node-1", None)),
    ("m", "<none>", "<none>", (None, None, None)),
]

REPLICASET_OWNERS = [
    ("web-5d8f9c7b6", "Deployment", "web"),
    ("orphan-abc12", "<none>", "<none>"),
    ("canary-7f6d5", "Rollout", "canary"),
]
JOB_OWNERS = [
    ("nightly-29012345", "CronJob", "nightly"),
    ("legacy-1767225600", "CronJob", "legacy"),
    ("migrate-v2", "<none>", "<none>"),
    ("backfill-20260101", "<none>", "<none>"),
    ("load-123456789", "<none>", "<none>"),
    ("etl-run-12345678", "Workflow", "etl-run"),
]


def _results() -> dict[str, pl.DataFrame]:
    uids = [uid for uid, *_ in OWNERS]
    maps = pl.DataFrame(
        {"cluster": [C] * len(uids), "uid": uids, "map": [[]] * len(uids)}, schema_overrides={"map": STRING_MAP}
    )
    return {
        "pod_info": pl.DataFrame(
            {"cluster": C, "namespace": NS, "pod": [f"pod-{u}" for u in uids], "uid": uids, "node": "n1"}
        ),
        "pod_owner": pl.DataFrame(
            {"cluster": C, "uid": uids, "owner_kind": [o[1] for o in OWNERS], "owner_name": [o[2] for o in OWNERS]}
        ),
        "replicaset_owner": pl.DataFrame(
            REPLICASET_OWNERS, schema=["replicaset", "owner_kind", "owner_name"], orient="row"
        ).with_columns(cluster=pl.lit(C), namespace=pl.lit(NS)),
        "job_owner": pl.DataFrame(
            JOB_OWNERS, schema=["job_name", "owner_kind", "owner_name"], orient="row"
        ).with_columns(cluster=pl.lit(C), namespace=pl.lit(NS)),
        "pod_labels": maps,
        "pod_annotations": maps,
    }


@pytest.fixture(scope="module")
def pods() -> dict[str, tuple[str | None, str | None, str | None]]:
    table = pod_table(_results())
    return {row[0]: row[1:] for row in table.select("pod_uid", "controller_kind", "controller", "cronjob").rows()}


@pytest.mark.parametrize(("uid", "kind", "name", "expected"), OWNERS, ids=[o[0] + "-" + o[2] for o in OWNERS])
def test_controllers_are_named_as_opencost_names_them(
    pods: dict[str, tuple[str | None, str | None, str | None]],
    uid: str,
    kind: str,
    name: str,
    expected: tuple[str | None, str | None, str | None],
) -> None:
    assert pods[uid] == expected
