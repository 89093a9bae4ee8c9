"""The local cluster's platform slice itself: kube-controller-manager and HNC, as the harness runs them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from localcluster.kubectl import Cluster
from tests.support.waiting import assert_eq, eventually


@pytest.fixture
def namespace(enforcing_cluster: Cluster) -> str:
    name = f"platform-{uuid.uuid4().hex[:8]}"
    enforcing_cluster.kubectl("create", "namespace", name)
    return name


def labels(cluster: Cluster, namespace: str) -> dict[str, str]:
    found: dict[str, str] = cluster.get_json("namespace", namespace)["metadata"].get("labels", {})
    return found


def test_hnc_webhooks_call_loopback_with_our_ca(managed_cluster: Cluster, enforcing_cluster: Cluster) -> None:
    config: dict[str, Any] = enforcing_cluster.get_json(
        "validatingwebhookconfiguration", "hnc-validating-webhook-configuration"
    )
    hooks = {hook["name"]: hook["clientConfig"] for hook in config["webhooks"]}
    assert {"hrq.hnc.x-k8s.io", "resourcesquotasstatus.hnc.x-k8s.io", "namespaces.hnc.x-k8s.io"} <= set(hooks)
    assert all(c["url"].startswith("https://127.0.0.1:") and c["caBundle"] for c in hooks.values()), hooks


def test_hnc_manages_the_tree_labels_and_refuses_hand_made_ones(enforcing_cluster: Cluster, namespace: str) -> None:
    # HNC's own writes pass its webhooks: it runs as its service account.
    eventually(lambda: assert_eq(labels(enforcing_cluster, namespace).get(f"{namespace}.tree.hnc.x-k8s.io/depth"), "0"))
    proc = enforcing_cluster.kubectl(
        "label", "namespace", namespace, "someone-else.tree.hnc.x-k8s.io/depth=1", check=False
    )
    assert proc.returncode != 0
    assert "these can only be managed by HNC" in proc.stderr


def test_a_new_namespace_gets_its_default_service_account(enforcing_cluster: Cluster, namespace: str) -> None:
    eventually(
        lambda: assert_eq(enforcing_cluster.kubectl("get", "sa", "default", "-n", namespace, check=False).returncode, 0)
    )


def test_a_deleted_namespace_is_emptied_and_goes_away(enforcing_cluster: Cluster, namespace: str) -> None:
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "content", "namespace": namespace}}
    enforcing_cluster.kubectl("apply", "-f", "-", input=json.dumps(configmap))
    enforcing_cluster.kubectl("delete", "namespace", namespace, "--wait=false")
    gone = enforcing_cluster.kubectl("wait", "--for=delete", f"namespace/{namespace}", "--timeout=60s", check=False)
    assert gone.returncode == 0, gone.stderr
