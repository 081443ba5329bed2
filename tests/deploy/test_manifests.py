"""Every manifest of every overlay, rendered with ``kubectl kustomize``, validates against the Kubernetes 1.29–1.33
schemas (kubernetes-validate, strict: unknown fields fail) and the ServiceMonitor against its CRD schema; and the
install keeps the promises of docs/install.md (one replica, probes, a locked-down pod, no RBAC)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(path.name for path in (ROOT / "deploy/overlays").iterdir() if path.is_dir())
VERSIONS = ("1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0")
CRD_SCHEMAS = {("monitoring.coreos.com/v1", "ServiceMonitor"): Path(__file__).with_name("servicemonitor.schema.json")}


def render(overlay: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is missing: apt-get install kubernetes-client (it renders the Kustomize overlays)")
    done = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy/overlays" / overlay)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def test_there_are_the_promised_overlays() -> None:
    assert {"prometheus", "prometheus-operator", "opencost"} <= set(OVERLAYS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_validates(overlay: str) -> None:
    documents = render(overlay)
    assert documents
    for document in documents:
        crd = CRD_SCHEMAS.get((document["apiVersion"], document["kind"]))
        if crd is not None:
            jsonschema.validate(document, json.loads(crd.read_text()))
            continue
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{overlay}: {document['kind']}/{document['metadata']['name']} on {version}: {exc.message}")


def test_a_misspelled_field_fails_validation() -> None:
    deployment = next(doc for doc in render("prometheus") if doc["kind"] == "Deployment")
    deployment["spec"]["replica"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)
    monitor = next(doc for doc in render("prometheus-operator") if doc["kind"] == "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["intervall"] = "1m"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            monitor, json.loads(CRD_SCHEMAS[("monitoring.coreos.com/v1", "ServiceMonitor")].read_text())
        )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_server_is_one_locked_down_replica_without_rbac(overlay: str) -> None:
    documents = render(overlay)
    kinds = {doc["kind"] for doc in documents}
    assert not kinds & {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
    assert {"Deployment", "Service", "ServiceAccount", "PersistentVolumeClaim", "ConfigMap", "NetworkPolicy"} <= kinds
    assert "CronJob" in kinds and "Secret" not in kinds  # no default password or token ships
    deployment = next(doc for doc in documents if doc["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    (server,) = pod["containers"]
    context = server["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert {"requests", "limits"} <= set(server["resources"])
    assert "--host=0.0.0.0" in server["args"]


def test_the_shipped_pricing_is_an_opencost_custom_pricing_file() -> None:
    from kubetally.domain.pricing import PriceBook

    book = PriceBook.from_files(ROOT / "deploy/base/custom-pricing.json", None)
    assert book.currency == "USD"
