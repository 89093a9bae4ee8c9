"""`helm install` of the chart into a real apiserver: every object is created and the admission policies act.

No pods run (no kubelet here); what the apiserver itself does with the release - CRDs, RBAC, the
webhook configuration, the ValidatingAdmissionPolicies - is the real thing. With KUBECONFIG set this
module is skipped: `make kind-e2e` installs the real release there and checks it (test_release.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcluster.chart import CHART_DIR, documents, helm
from localcluster.kubectl import Cluster
from tests.support.catalog import CATALOG_NAMESPACE
from tests.support.cluster import ensure_namespace, external_kubeconfig, forbidden
from tests.support.release import BILLING_GROUP, annotate_as_billing

RELEASE = "orgquota"
NAMESPACE = "orgquota-system"
VALUES = {"protection": {"billingGroups": [BILLING_GROUP]}}
CHART_CRDS = {"organizations.kube-dc.com"}


def _plural(kind: str) -> str:
    return {
        "PodDisruptionBudget": "poddisruptionbudgets.policy",
        "ValidatingAdmissionPolicy": "validatingadmissionpolicies.admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings.admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration": "validatingwebhookconfigurations.admissionregistration.k8s.io",
    }.get(kind, kind.lower())


def _get(cluster: Cluster, doc: dict[str, Any]) -> dict[str, Any]:
    meta = doc["metadata"]
    scope = ["-n", meta["namespace"]] if meta.get("namespace") else []
    result: dict[str, Any] = cluster.get_json(_plural(doc["kind"]), meta["name"], *scope)
    return result


@pytest.fixture(scope="module")
def installed(isolated_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    if external_kubeconfig() is not None:
        pytest.skip("installs a release of its own: only into the control plane this session starts")
    cluster = isolated_cluster
    ensure_namespace(cluster, CATALOG_NAMESPACE)  # the catalog Role lives there
    values = tmp_path_factory.mktemp("helm") / "values.yaml"
    values.write_text(yaml.safe_dump(VALUES))
    helm(
        "install",
        RELEASE,
        str(CHART_DIR),
        "--namespace",
        NAMESPACE,
        "--create-namespace",
        "--values",
        str(values),
        kubeconfig=cluster.kubeconfig,
    )
    return cluster


def _manifest(cluster: Cluster) -> list[dict[str, Any]]:
    return documents(helm("get", "manifest", RELEASE, "--namespace", NAMESPACE, kubeconfig=cluster.kubeconfig))


def test_every_object_of_the_release_exists(installed: Cluster) -> None:
    docs = _manifest(installed)
    kinds = {d["kind"] for d in docs}
    assert {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    } <= kinds
    for doc in docs:
        live = _get(installed, doc)
        assert live["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
    status = json.loads(helm("status", RELEASE, "-n", NAMESPACE, "-o", "json", kubeconfig=installed.kubeconfig))
    assert status["info"]["status"] == "deployed"


def test_the_crds_are_established(installed: Cluster) -> None:
    for name in CHART_CRDS:
        crd = installed.get_json(f"customresourcedefinition/{name}")
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions["Established"] == "True"


def test_the_deployment_is_as_rendered(installed: Cluster) -> None:
    deployment = installed.get_json("deployment", RELEASE, "-n", NAMESPACE)
    assert deployment["spec"]["replicas"] == 2
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ORGQUOTA_LEADER_ELECTION"] == "true"
    # The apiserver's defaulting and validation accepted the hardened pod template as written.
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    secret = installed.get_json("secret", f"{RELEASE}-webhook-tls", "-n", NAMESPACE)
    assert secret["type"] == "kubernetes.io/tls"
    assert set(secret["data"]) == {"ca.crt", "tls.crt", "tls.key"}


def _tenant(cluster: Cluster) -> str:
    """An organization with a plan-quota, an org admin ("tenant") and the billing group allowed to edit them."""
    name = "tenant-org"
    manifests = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        {
            "apiVersion": "kube-dc.com/v1",
            "kind": "Organization",
            "metadata": {"name": name, "namespace": name, "annotations": {"billing.kube-dc.com/plan-id": "dev-pool"}},
            "spec": {"email": "admin@tenant.example"},
        },
        {
            "apiVersion": "hnc.x-k8s.io/v1alpha2",
            "kind": "HierarchicalResourceQuota",
            "metadata": {
                "name": "plan-quota",
                "namespace": name,
                "labels": {"billing.kube-dc.com/auto-managed": "true"},
            },
            "spec": {"hard": {"pods": "10"}},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "org-admin", "namespace": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "tenant"}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "org-editor"},
            "rules": [
                {
                    "apiGroups": ["kube-dc.com", "hnc.x-k8s.io"],
                    "resources": ["organizations", "hierarchicalresourcequotas"],
                    "verbs": ["get", "update", "patch", "delete"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "org-editor", "namespace": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "org-editor"},
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "tenant"},
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": BILLING_GROUP},
            ],
        },
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))
    return name


def test_the_admission_policies_are_active(installed: Cluster) -> None:
    org = _tenant(installed)
    message = forbidden(installed, "--as=tenant", "-n", org, "delete", "hrq", "plan-quota")
    assert (
        "ValidatingAdmissionPolicy 'orgquota-managed-quota.kube-dc.com' with binding "
        "'orgquota-managed-quota.kube-dc.com' denied request" in message
    )
    message = forbidden(
        installed,
        "--as=tenant",
        "-n",
        org,
        "annotate",
        "organization",
        org,
        "billing.kube-dc.com/plan-id=enterprise",
        "--overwrite",
    )
    assert "ValidatingAdmissionPolicy 'orgquota-billing-annotations.kube-dc.com'" in message
    # The billing system's group may; so may cluster admins (system:masters: this kubeconfig).
    annotate_as_billing(installed, org, "billing.kube-dc.com/plan-id=pro-pool", "--overwrite", "--dry-run=server")
    installed.kubectl("-n", org, "delete", "hrq", "plan-quota", "--dry-run=server")


def test_an_upgrade_keeps_the_webhook_certificate(installed: Cluster, tmp_path: Path) -> None:
    before = installed.get_json("secret", f"{RELEASE}-webhook-tls", "-n", NAMESPACE)["data"]
    helm(
        "upgrade",
        RELEASE,
        str(CHART_DIR),
        "--namespace",
        NAMESPACE,
        "--reuse-values",
        "--set",
        "operator.logLevel=DEBUG",
        kubeconfig=installed.kubeconfig,
    )
    after = installed.get_json("secret", f"{RELEASE}-webhook-tls", "-n", NAMESPACE)["data"]
    assert after == before  # genCA ran once, at install; `lookup` found the Secret on upgrade
    configuration = installed.get_json("validatingwebhookconfiguration", "orgquota.kube-dc.com")
    assert {hook["clientConfig"]["caBundle"] for hook in configuration["webhooks"]} == {before["ca.crt"]}
    deployment = installed.get_json("deployment", RELEASE, "-n", NAMESPACE)
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ORGQUOTA_LOG_LEVEL"] == "DEBUG"


def test_uninstall_removes_the_release_but_keeps_the_crds(installed: Cluster) -> None:
    docs = _manifest(installed)
    helm("uninstall", RELEASE, "--namespace", NAMESPACE, kubeconfig=installed.kubeconfig)
    for doc in docs:
        meta = doc["metadata"]
        scope = ["-n", meta["namespace"]] if meta.get("namespace") else []
        proc = installed.kubectl("get", _plural(doc["kind"]), meta["name"], *scope, check=False)
        assert proc.returncode != 0, f"{doc['kind']} {meta['name']} is still there"
        assert "NotFound" in proc.stderr
    for name in CHART_CRDS:  # Helm never deletes CRDs (it would delete every Organization with them)
        installed.get_json(f"customresourcedefinition/{name}")
