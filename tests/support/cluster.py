"""kubectl helpers of the e2e tests: apply and delete manifests, wait for CRDs, make namespaces and
organizations, read quotas, assert refusals."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcluster.kubectl import Cluster
from tests.support.waiting import eventually


def external_kubeconfig() -> Path | None:
    """$KUBECONFIG if set: then tests use that cluster as is and start nothing."""
    value = os.environ.get("KUBECONFIG")
    if not value:
        return None
    if os.pathsep in value:
        raise pytest.UsageError("e2e tests need KUBECONFIG to name a single file")
    return Path(value)


def apply_ok(cluster: Cluster, manifest: str) -> None:
    proc = cluster.kubectl("apply", "-f", "-", input=manifest, check=False)
    assert proc.returncode == 0, proc.stderr


def apply(cluster: Cluster, docs: list[dict[str, Any]]) -> None:
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=yaml.safe_dump_all(docs))


def delete(cluster: Cluster, docs: list[dict[str, Any]]) -> None:
    cluster.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-", input=yaml.safe_dump_all(docs))


def establish(cluster: Cluster, *crd_files: Path) -> None:
    """Apply CRDs and wait until their objects can be listed.

    Established is not enough: for a moment after it the apiserver answers a list with
    429 "storage is (re)initializing", and an operator starting then would trip over it.
    """
    for path in crd_files:
        cluster.kubectl("apply", "--server-side", "-f", str(path))
        for doc in yaml.safe_load_all(path.read_text()):
            name = doc["metadata"]["name"]
            cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
            eventually(lambda name=name: listable(cluster, name), timeout=60)  # type: ignore[misc]


def listable(cluster: Cluster, resource: str) -> None:
    proc = cluster.kubectl("get", resource, "-A", "--request-timeout=5s", check=False)
    assert proc.returncode == 0, proc.stderr


def ensure_namespace(cluster: Cluster, name: str) -> None:
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest))


def forbidden(cluster: Cluster, *args: str, kubeconfig: Path | None = None) -> str:
    """Run kubectl (as `kubeconfig`'s identity if given); assert the apiserver refused it; its message."""
    cmd = [*args] if kubeconfig is None else [f"--kubeconfig={kubeconfig}", *args]
    proc = cluster.kubectl(*cmd, check=False)
    assert proc.returncode != 0, f"kubectl {' '.join(args)} was allowed:\n{proc.stdout}"
    assert "Forbidden" in proc.stderr or "forbidden" in proc.stderr, proc.stderr
    return proc.stderr


def new_org(cluster: Cluster, annotations: dict[str, str]) -> str:
    """An Organization in a fresh namespace of its own name (created by the admin, as the platform does)."""
    name = f"org-{uuid.uuid4().hex[:8]}"
    manifests = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        {
            "apiVersion": "kube-dc.com/v1",
            "kind": "Organization",
            "metadata": {"name": name, "namespace": name, "annotations": annotations},
            "spec": {"email": f"admin@{name}.example"},
        },
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))
    return name


def hrq_hard(cluster: Cluster, namespace: str) -> dict[str, str]:
    proc = cluster.kubectl("get", "hrq", "plan-quota", "-n", namespace, "-o", "json", check=False)
    assert proc.returncode == 0, f"no plan-quota in {namespace}: {proc.stderr}"
    hard: dict[str, str] = json.loads(proc.stdout)["spec"]["hard"]
    return hard


def assert_cpu(cluster: Cluster, namespace: str, cpu: str) -> None:
    assert hrq_hard(cluster, namespace).get("requests.cpu") == cpu
