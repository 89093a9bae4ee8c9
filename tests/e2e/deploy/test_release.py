"""A real release in a real cluster (`make kind-e2e`): pods run the image, webhooks answer through the
Service with the chart's certificate, one replica leads (`kubectl get lease` names it), and a deleted
pod hands over at once.

Runs only with KUBECONFIG and ORGQUOTA_E2E_RELEASE=<namespace>/<release> set (the release installed
with `helm install`); elsewhere it is skipped, as there is no kubelet to run pods.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from localcluster.kubectl import Cluster
from tests.support.catalog import apply_catalog, assert_bad_catalog_rejected
from tests.support.cluster import assert_cpu, external_kubeconfig, forbidden, new_org
from tests.support.waiting import eventually

PLAN = "billing.kube-dc.com/plan-id"


@dataclass(frozen=True)
class Release:
    cluster: Cluster
    namespace: str
    name: str


@pytest.fixture(scope="module")
def release(request: pytest.FixtureRequest) -> Release:
    value = os.environ.get("ORGQUOTA_E2E_RELEASE", "")
    if external_kubeconfig() is None or "/" not in value:
        pytest.skip("needs a cluster with pods (KUBECONFIG) and ORGQUOTA_E2E_RELEASE=<namespace>/<release>")
    namespace, name = value.split("/", 1)
    cluster: Cluster = request.getfixturevalue("cluster")  # only now: a skipped module starts nothing
    apply_catalog(cluster)
    return Release(cluster, namespace, name)


def _pods(cluster: Cluster, namespace: str, name: str) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/instance={name},app.kubernetes.io/name=orgquota"
    pods: list[dict[str, Any]] = cluster.get_json("pods", "-n", namespace, "-l", selector)["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def _ready(cluster: Cluster, namespace: str, name: str, count: int) -> list[dict[str, Any]]:
    pods = _pods(cluster, namespace, name)
    ready = [
        p
        for p in pods
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
    ]
    assert len(ready) == count, f"{len(ready)} of {count} pods ready"
    return ready


def _holder(cluster: Cluster, namespace: str) -> str:
    lease = cluster.get_json("lease", "orgquota-leader", "-n", namespace)
    return str(lease["spec"].get("holderIdentity", ""))


def test_both_replicas_run_hardened_and_one_leads(release: Release) -> None:
    cluster = release.cluster
    namespace, name = release.namespace, release.name
    pods = eventually(lambda: _ready(cluster, namespace, name, 2), timeout=180)
    for pod in pods:
        (container,) = pod["status"]["containerStatuses"]
        assert container["restartCount"] == 0
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    names = {p["metadata"]["name"] for p in pods}
    eventually(lambda: _assert_in(_holder(cluster, namespace), names), timeout=90)


def _assert_in(holder: str, pods: set[str]) -> None:
    assert holder in pods, f"Lease held by {holder!r}, pods {pods}"


def test_the_operator_in_the_cluster_applies_plans(release: Release) -> None:
    cluster = release.cluster
    org = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, org, _dev_pool_cpu(cluster)), timeout=60)

    def applied() -> None:
        conditions = (cluster.get_json("organization", org, "-n", org).get("status") or {}).get("conditions") or []
        assert {"QuotaReady": "Applied"}.items() <= {c["type"]: c["reason"] for c in conditions}.items()

    eventually(applied, timeout=30)


def _dev_pool_cpu(cluster: Cluster) -> str:
    """dev-pool's requests.cpu with the release's projects limit (4 cpu + limit x 100m)."""
    deployment = cluster.get_json("deployments", "-A", "-l", "app.kubernetes.io/name=orgquota")["items"][0]
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    return f"{4000 + 100 * int(env['ORGANIZATION_PROJECTS_LIMIT'])}m"


def test_the_webhooks_answer_through_the_service(release: Release) -> None:
    assert_bad_catalog_rejected(release.cluster)


def test_the_admission_policies_hold(release: Release) -> None:
    cluster = release.cluster
    org = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, org, _dev_pool_cpu(cluster)), timeout=60)
    cluster.kubectl("create", "rolebinding", "org-admin", "-n", org, "--clusterrole=admin", "--user=tenant")
    grant = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "quota-editor", "namespace": org},
        "rules": [{"apiGroups": ["hnc.x-k8s.io"], "resources": ["hierarchicalresourcequotas"], "verbs": ["*"]}],
    }
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(grant))
    cluster.kubectl("create", "rolebinding", "quota-editor", "-n", org, "--role=quota-editor", "--user=tenant")
    message = forbidden(cluster, "--as=tenant", "-n", org, "delete", "hrq", "plan-quota")
    assert "ValidatingAdmissionPolicy 'orgquota-managed-quota.kube-dc.com'" in message


def test_a_deleted_pod_hands_over_at_once(release: Release) -> None:
    """A graceful stop releases the Lease: the standby takes over without waiting for it to expire."""
    cluster = release.cluster
    namespace, name = release.namespace, release.name
    org = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, org, _dev_pool_cpu(cluster)), timeout=60)
    _ready(cluster, namespace, name, 2)
    active = _holder(cluster, namespace)
    cluster.kubectl("delete", "pod", active, "-n", namespace, "--wait=true", timeout=120)
    started = time.monotonic()
    cluster.kubectl("annotate", "organization", org, "-n", org, f"{PLAN}=pro-pool", "--overwrite")
    expected = f"{8000 + int(_dev_pool_cpu(cluster).removesuffix('m')) - 4000}m"
    eventually(lambda: assert_cpu(cluster, org, expected), timeout=60)
    print(f"\nhand-over after deleting the leading pod: {time.monotonic() - started:.1f}s")
    assert _holder(cluster, namespace) not in ("", active)
    eventually(lambda: _ready(cluster, namespace, name, 2), timeout=180)  # the Deployment replaces it
