"""Least privilege, proven: the operator runs as the chart's ServiceAccount, with nothing but the chart's
RBAC, and every feature still works; that identity can read no Secret and touch nothing unrelated; and a
tenant who may edit the quota objects by RBAC is stopped by the chart's admission policies.

The operator authenticates with a token from the TokenRequest API (as a pod's projected token), so
every request it makes is authorized by the apiserver's RBAC exactly as in a cluster.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from localcluster.kubectl import Cluster
from orgquota.kube.client import Kube, KubeError
from tests.support.catalog import (
    CATALOG_NAMESPACE,
    WORKED_EXAMPLE,
    apply_catalog,
    assert_bad_catalog_rejected,
    set_catalog_cpu,
)
from tests.support.cluster import assert_cpu, establish, forbidden, hrq_hard, new_org
from tests.support.files import EIP_CRD
from tests.support.operator_process import Webhooks
from tests.support.release import (
    BILLING_GROUP,
    NAMESPACE,
    SA_USER,
    Identity,
    Replica,
    annotate_as_billing,
    can_i,
    install_webhooks,
    replica,
)
from tests.support.waiting import assert_eq, eventually

PLAN = "billing.kube-dc.com/plan-id"
MANAGED = "billing.kube-dc.com/auto-managed"
TURBO = '[{"addonId":"turbo-x1","quantity":1}]'


@dataclass
class Running:
    cluster: Cluster
    identity: Identity
    replica: Replica
    webhooks: Webhooks | None


@pytest.fixture(scope="module")
def running(isolated_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    cluster = isolated_cluster
    workdir = tmp_path_factory.mktemp("least-privilege")
    identity = Identity.create(cluster, workdir)
    establish(cluster, EIP_CRD)
    apply_catalog(cluster)
    operator = replica(cluster, identity, workdir, "orgquota-e2e-0")
    operator.process.start()
    webhooks = install_webhooks(cluster, operator)
    yield Running(cluster, identity, operator, webhooks)
    if webhooks is not None:
        webhooks.remove()
    operator.process.stop()
    identity.remove()
    print(f"operator log: {operator.process.log_path}")


def _as_operator(running: Running, *args: str) -> str:
    return running.cluster.kubectl(f"--kubeconfig={running.identity.kubeconfig}", *args).stdout


def _condition(cluster: Cluster, name: str) -> dict[str, Any]:
    status = cluster.get_json("organization", name, "-n", name).get("status") or {}
    found = [c for c in status.get("conditions") or [] if c["type"] == "QuotaReady"]
    assert found, f"{name} has no QuotaReady condition yet"
    return dict(found[0])


def _reason(cluster: Cluster, name: str, reason: str) -> None:
    assert _condition(cluster, name)["reason"] == reason


def _gone(cluster: Cluster, kind: str, name: str, namespace: str) -> None:
    proc = cluster.kubectl("get", kind, name, "-n", namespace, check=False)
    assert proc.returncode != 0
    assert "NotFound" in proc.stderr


def test_the_operator_is_the_service_account(running: Running) -> None:
    review = json.loads(_as_operator(running, "auth", "whoami", "-o", "json"))
    assert review["status"]["userInfo"]["username"] == SA_USER
    assert "system:masters" not in review["status"]["userInfo"]["groups"]


def test_an_organization_gets_its_quota_limit_range_and_status(running: Running) -> None:
    cluster = running.cluster
    name = new_org(
        cluster, {PLAN: "pro-pool", "billing.kube-dc.com/subscription": "active", "billing.kube-dc.com/addons": TURBO}
    )
    # The worked example of docs/operator.md: pro-pool + 1 x turbo-x1, overhead 100m/128Mi, 3 projects.
    eventually(lambda: assert_cpu(cluster, name, WORKED_EXAMPLE["requests.cpu"]))
    assert hrq_hard(cluster, name)["requests.memory"] == WORKED_EXAMPLE["requests.memory"]
    limit_range = cluster.get_json("limitrange", "default-resource-limits", "-n", name)
    assert limit_range["metadata"]["labels"][MANAGED] == "true"
    assert [item["type"] for item in limit_range["spec"]["limits"]] == ["Container", "Pod", "PersistentVolumeClaim"]
    eventually(lambda: _reason(cluster, name, "Applied"))
    assert cluster.get_json("organization", name, "-n", name)["status"]["ready"] is True
    events = cluster.get_json("events", "-n", name, "--field-selector", f"involvedObject.name={name}")["items"]
    assert "QuotaCreated" in {e["reason"] for e in events}


def test_a_catalog_edit_reaches_every_organization(running: Running) -> None:
    cluster = running.cluster
    orgs = [new_org(cluster, {PLAN: "dev-pool"}) for _ in range(2)]
    for name in orgs:
        eventually(lambda name=name: assert_cpu(cluster, name, "4300m"))  # type: ignore[misc]
    try:
        set_catalog_cpu(cluster, "dev-pool", "6")
        for name in orgs:
            eventually(lambda name=name: assert_cpu(cluster, name, "6300m"))  # type: ignore[misc]
        # The last good catalog, kept beside the catalog (create once, then patch: the Role's verbs).
        saved = cluster.get_json("configmap", "billing-plans-last-good", "-n", CATALOG_NAMESPACE)
        assert yaml.safe_load(saved["data"]["plans.yaml"])["plans"]["dev-pool"]["requests"]["cpu"] == "6"
    finally:
        set_catalog_cpu(cluster, "dev-pool", "4")
    for name in orgs:
        eventually(lambda name=name: assert_cpu(cluster, name, "4300m"))  # type: ignore[misc]


def test_drift_is_restored(running: Running) -> None:
    cluster = running.cluster
    name = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, name, "4300m"))
    cluster.kubectl("delete", "hrq", "plan-quota", "-n", name)  # a cluster admin: the policies let it through
    eventually(lambda: assert_cpu(cluster, name, "4300m"))
    patch = {"spec": {"limits": [{"type": "Container", "max": {"cpu": "64"}}]}}
    cluster.kubectl(
        "patch", "limitrange", "default-resource-limits", "-n", name, "--type=merge", "-p", json.dumps(patch)
    )

    def restored() -> None:
        limits = cluster.get_json("limitrange", "default-resource-limits", "-n", name)["spec"]["limits"]
        assert [item["type"] for item in limits] == ["Container", "Pod", "PersistentVolumeClaim"]

    eventually(restored)


def test_deleting_an_organization_removes_its_quota(running: Running) -> None:
    cluster = running.cluster
    name = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, name, "4300m"))
    cluster.kubectl("delete", "organization", name, "-n", name)
    eventually(lambda: _gone(cluster, "hrq", "plan-quota", name))
    eventually(lambda: _gone(cluster, "limitrange", "default-resource-limits", name))


def test_the_webhooks_judge_as_the_service_account(running: Running) -> None:
    if running.webhooks is None:
        pytest.skip("webhooks need the local control plane (the apiserver calls 127.0.0.1)")
    cluster = running.cluster
    assert_bad_catalog_rejected(cluster)
    # The EIp webhook reads namespaces, organizations and EIps: pro-pool allows one public EIp.
    name = new_org(cluster, {PLAN: "pro-pool"})
    eventually(lambda: _reason(cluster, name, "Applied"))

    def eip(eip_name: str) -> str:
        return yaml.safe_dump(
            {
                "apiVersion": "kube-dc.com/v1",
                "kind": "EIp",
                "metadata": {
                    "name": eip_name,
                    "namespace": name,
                    "labels": {"network.kube-dc.com/external-network-type": "public"},
                },
            }
        )

    cluster.kubectl("create", "-f", "-", input=eip("first"))
    proc = cluster.kubectl("create", "-f", "-", input=eip("second"), check=False)
    assert proc.returncode != 0
    assert "public EIp quota reached: plan pro-pool allows 1 and the organization holds 1" in proc.stderr


def test_the_health_endpoint_answers(running: Running) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{running.replica.health_port}/healthz", timeout=5) as response:
        assert response.status == 200


def test_it_cannot_read_secrets(running: Running) -> None:
    cluster = running.cluster
    for scope in (["-n", NAMESPACE], ["-n", CATALOG_NAMESPACE], ["-A"]):
        for verb in ("get", "list", "watch"):
            assert not can_i(cluster, verb, "secrets", *scope), f"{verb} secrets {scope}"
    name = f"stripe-{uuid.uuid4().hex[:6]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": CATALOG_NAMESPACE},
        "stringData": {"key": "sk_live_not_for_the_operator"},
    }
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest))
    kubeconfig = running.identity.kubeconfig
    message = forbidden(cluster, "get", "secret", name, "-n", CATALOG_NAMESPACE, kubeconfig=kubeconfig)
    assert f'User "{SA_USER}" cannot get resource "secrets"' in message
    message = forbidden(cluster, "get", "secrets", "-A", kubeconfig=kubeconfig)
    assert f'User "{SA_USER}" cannot list resource "secrets"' in message


# (verb, resource[/name], scope): none of these is the operator's business.
UNRELATED = [
    ("get", "configmaps/some-app-config", ["-n", CATALOG_NAMESPACE]),
    ("list", "configmaps", ["-A"]),
    ("patch", "configmaps/billing-plans", ["-n", CATALOG_NAMESPACE]),
    ("delete", "configmaps/billing-plans", ["-n", CATALOG_NAMESPACE]),
    ("create", "configmaps", ["-n", "default"]),
    ("patch", "hierarchicalresourcequotas.hnc.x-k8s.io/someone-elses", ["-n", "default"]),
    ("delete", "limitranges/someone-elses", ["-n", "default"]),
    ("update", "organizations.kube-dc.com", ["-n", "default"]),
    ("create", "organizations.kube-dc.com", ["-n", "default"]),
    ("delete", "organizations.kube-dc.com", ["-n", "default"]),
    ("create", "eips.kube-dc.com", ["-n", "default"]),
    ("create", "pods", ["-n", "default"]),
    ("create", "pods/exec", ["-n", "default"]),
    ("delete", "deployments.apps", ["-n", "default"]),
    ("create", "serviceaccounts/token", ["-n", NAMESPACE]),
    ("delete", "namespaces", []),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io", []),
    ("escalate", "clusterroles.rbac.authorization.k8s.io", []),
    ("impersonate", "users", []),
    ("patch", "validatingwebhookconfigurations.admissionregistration.k8s.io", []),
    ("delete", "validatingadmissionpolicies.admissionregistration.k8s.io", []),
    ("create", "customresourcedefinitions.apiextensions.k8s.io", []),
    ("update", "leases.coordination.k8s.io/someone-elses", ["-n", NAMESPACE]),
    ("delete", "leases.coordination.k8s.io/orgquota-leader", ["-n", NAMESPACE]),
    ("patch", "leases.coordination.k8s.io/orgquota-leader", ["-n", NAMESPACE]),
    ("list", "leases.coordination.k8s.io", ["-n", NAMESPACE]),
    ("get", "leases.coordination.k8s.io/orgquota-leader", ["-n", "kube-system"]),
    ("update", "leases.coordination.k8s.io/orgquota-leader", ["-n", "default"]),
    ("create", "leases.coordination.k8s.io", ["-n", "default"]),
]
NEEDED = [
    ("list", "configmaps/billing-plans", ["-A"]),
    ("get", "configmaps/billing-plans", ["-n", CATALOG_NAMESPACE]),
    ("patch", "configmaps/billing-plans-last-good", ["-n", CATALOG_NAMESPACE]),
    ("patch", "hierarchicalresourcequotas.hnc.x-k8s.io/plan-quota", ["-n", "default"]),
    ("delete", "hierarchicalresourcequotas.hnc.x-k8s.io/project-cap", ["-n", "default"]),
    ("watch", "namespaces", []),
    ("delete", "limitranges/default-resource-limits", ["-n", "default"]),
    ("patch", "organizations.kube-dc.com/status", ["-n", "default"]),
    ("get", "leases.coordination.k8s.io/orgquota-leader", ["-n", NAMESPACE]),
    ("watch", "leases.coordination.k8s.io/orgquota-leader", ["-n", NAMESPACE]),
    ("update", "leases.coordination.k8s.io/orgquota-leader", ["-n", NAMESPACE]),
    ("create", "leases.coordination.k8s.io", ["-n", NAMESPACE]),
]


@pytest.mark.parametrize(("verb", "resource", "scope"), UNRELATED, ids=[f"{v} {r}" for v, r, _ in UNRELATED])
def test_it_cannot_touch_unrelated_objects(running: Running, verb: str, resource: str, scope: list[str]) -> None:
    assert not can_i(running.cluster, verb, resource, *scope)


@pytest.mark.parametrize(("verb", "resource", "scope"), NEEDED, ids=[f"{v} {r}" for v, r, _ in NEEDED])
def test_it_can_do_its_job(running: Running, verb: str, resource: str, scope: list[str]) -> None:
    assert can_i(running.cluster, verb, resource, *scope)


def test_unrelated_requests_are_refused(running: Running) -> None:
    cluster, kubeconfig = running.cluster, running.identity.kubeconfig
    assert 'cannot list resource "configmaps"' in forbidden(cluster, "get", "configmaps", "-A", kubeconfig=kubeconfig)
    assert 'cannot list resource "configmaps"' in forbidden(
        cluster, "get", "configmaps", "-n", CATALOG_NAMESPACE, kubeconfig=kubeconfig
    )
    forbidden(cluster, "delete", "namespace", "default", "--dry-run=server", kubeconfig=kubeconfig)
    forbidden(cluster, "create", "namespace", "stolen", "--dry-run=server", kubeconfig=kubeconfig)
    forbidden(
        cluster,
        "patch",
        "validatingwebhookconfiguration",
        "orgquota.kube-dc.com",
        "--type=merge",
        "-p",
        '{"metadata":{"labels":{"x":"y"}}}',
        kubeconfig=kubeconfig,
    )
    # Everything the identity may do, as the apiserver's own rules review lists it.
    rules = _rules(running, "x")
    resources = {resource for rule in rules for resource in rule["resources"]}
    assert resources == OPERATOR_RESOURCES | EVERYONES_RESOURCES
    for rule in rules:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule


def _rules(running: Running, namespace: str) -> list[dict[str, Any]]:
    """What the operator's identity may do in `namespace`, as the apiserver's own rules review lists it."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace},
    }
    created = running.cluster.kubectl(
        f"--kubeconfig={running.identity.kubeconfig}", "create", "-o", "json", "-f", "-", input=json.dumps(review)
    ).stdout
    rules: list[dict[str, Any]] = json.loads(created)["status"]["resourceRules"]
    return rules


# What Kubernetes' default roles give every authenticated identity (system:basic-user and friends).
EVERYONES_RESOURCES = {
    "selfsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "selfsubjectreviews",
    "clustertrustbundles",
}
OPERATOR_RESOURCES = {
    "organizations",
    "organizations/status",
    "eips",
    "hierarchicalresourcequotas",
    "limitranges",
    "configmaps",
    "namespaces",
    "events",
    "deployments",
    "statefulsets",
    "deployments/scale",
    "statefulsets/scale",
    "cronjobs",
    "customresourcedefinitions",
}


def test_it_holds_the_lease_in_its_own_namespace_with_nothing_more(running: Running) -> None:
    """Leader election as the ServiceAccount: the replica created the Lease, renews it (update), watches it,
    and may do nothing else with Leases, nowhere else."""
    cluster = running.cluster
    lease = cluster.get_json("lease", "orgquota-leader", "-n", NAMESPACE)
    assert lease["spec"]["holderIdentity"] == running.replica.pod_id
    renewed = lease["spec"]["renewTime"]
    eventually(lambda: _renewed_since(cluster, renewed), timeout=10)
    assert running.replica.process.metric("orgquota_leader") == 1
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": NAMESPACE},
    }
    created = cluster.kubectl(
        f"--kubeconfig={running.identity.kubeconfig}", "create", "-o", "json", "-f", "-", input=json.dumps(review)
    ).stdout
    leases = [r for r in json.loads(created)["status"]["resourceRules"] if "leases" in r["resources"]]
    assert {(tuple(r.get("resourceNames") or ()), frozenset(r["verbs"])) for r in leases} == {
        (("orgquota-leader",), frozenset({"get", "watch", "update"})),
        ((), frozenset({"create"})),
    }


def _renewed_since(cluster: Cluster, renewed: str) -> None:
    assert cluster.get_json("lease", "orgquota-leader", "-n", NAMESPACE)["spec"]["renewTime"] != renewed


def _tenant(cluster: Cluster, org: str, user: str) -> None:
    """An org admin: by RBAC allowed to edit the Organization and the quota objects in its namespace."""
    manifests = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "org-admin", "namespace": org},
            "rules": [
                {
                    "apiGroups": ["kube-dc.com"],
                    "resources": ["organizations"],
                    "verbs": ["get", "list", "update", "patch", "delete"],
                },
                {
                    "apiGroups": ["hnc.x-k8s.io"],
                    "resources": ["hierarchicalresourcequotas"],
                    "verbs": ["get", "list", "create", "update", "patch", "delete"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["limitranges"],
                    "verbs": ["get", "list", "create", "update", "patch", "delete"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "org-admin", "namespace": org},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "org-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        },
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))


def _denied(cluster: Cluster, user: str, org: str, *args: str) -> str:
    message = forbidden(cluster, f"--as={user}", "-n", org, *args)
    assert "denied request" in message, message
    assert "ValidatingAdmissionPolicy 'orgquota-" in message, message
    return message


def test_tenants_cannot_change_what_billing_decides(running: Running) -> None:
    cluster = running.cluster
    org = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, org, "4300m"))
    user = f"tenant@{org}"
    _tenant(cluster, org, user)
    hrq_before = cluster.get_json("hrq", "plan-quota", "-n", org)["spec"]
    more = json.dumps({"spec": {"hard": {"requests.cpu": "1000"}}})

    managed_hrq = f"HierarchicalResourceQuota {org}/plan-quota is managed by orgquota"
    assert managed_hrq in _denied(cluster, user, org, "patch", "hrq", "plan-quota", "--type=merge", "-p", more)
    assert "cannot be deleted" in _denied(cluster, user, org, "delete", "hrq", "plan-quota")
    managed_lr = f"LimitRange {org}/default-resource-limits is managed by orgquota"
    widen = json.dumps({"spec": {"limits": [{"type": "Container", "max": {"cpu": "64"}}]}})
    assert managed_lr in _denied(
        cluster, user, org, "patch", "limitrange", "default-resource-limits", "--type=merge", "-p", widen
    )
    assert managed_lr in _denied(cluster, user, org, "label", "limitrange", "default-resource-limits", f"{MANAGED}-")
    assert "cannot be deleted" in _denied(cluster, user, org, "delete", "limitrange", "default-resource-limits")
    for change in (f"{PLAN}=enterprise", f"{PLAN}-", "billing.kube-dc.com/subscription=active"):
        message = _denied(cluster, user, org, "annotate", "organization", org, change, "--overwrite")
        assert f"billing.kube-dc.com annotations of Organization {org}/{org} are set by the billing system only" in (
            message
        )
        assert f"not by {user}" in message
    # What is the tenant's stays the tenant's: its own LimitRanges, other annotations.
    cluster.kubectl(f"--as={user}", "-n", org, "annotate", "organization", org, "example.com/owner=team-a")
    own = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "mine", "namespace": org}}
    own["spec"] = {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}
    cluster.kubectl(f"--as={user}", "create", "-f", "-", input=yaml.safe_dump(own))
    cluster.kubectl(f"--as={user}", "-n", org, "delete", "limitrange", "mine")
    assert cluster.get_json("hrq", "plan-quota", "-n", org)["spec"] == hrq_before


def test_a_billed_organization_cannot_be_deleted_to_shed_its_suspension(running: Running) -> None:
    """Deleting and re-creating a suspended Organization would leave one with no plan (no quota at all)."""
    cluster = running.cluster
    org = new_org(cluster, {PLAN: "dev-pool", "billing.kube-dc.com/subscription": "suspended"})
    user = f"tenant@{org}"
    _tenant(cluster, org, user)  # RBAC lets it delete its Organization
    message = _denied(cluster, user, org, "delete", "organization", org)
    assert "only the billing system or a cluster admin may delete it" in message
    assert f"not {user}" in message
    assert cluster.get_json("organization", org, "-n", org)["metadata"]["annotations"][PLAN] == "dev-pool"
    # one that was never billed is the tenant's to delete, as RBAC says
    unbilled = new_org(cluster, {})
    _tenant(cluster, unbilled, user)
    cluster.kubectl(f"--as={user}", "-n", unbilled, "delete", "organization", unbilled)
    cluster.kubectl("-n", org, "delete", "organization", org)  # a cluster admin may


def _patch_as_operator(running: Running, path: str, patch: dict[str, Any]) -> tuple[int, str]:
    """The operator's own merge patch, as its code sends it (no read first): the status and message."""

    async def send() -> tuple[int, str]:
        kube = await Kube.connect(kubeconfig=str(running.identity.kubeconfig))
        try:
            await kube.merge_patch(path, patch)
        except KubeError as exc:
            return exc.status, str(exc)
        finally:
            await kube.close()
        return 200, ""

    return asyncio.run(send())


def _workloads(cluster: Cluster, namespace: str) -> None:
    """A Deployment and a CronJob in `namespace` (no kubelet: they never run, which is enough here)."""
    labels = {"app": "web"}
    containers = [{"name": "c", "image": "nginx:1"}]
    template: dict[str, Any] = {"metadata": {"labels": labels}, "spec": {"containers": containers}}
    manifests = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": template},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "nightly", "namespace": namespace},
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {
                    "spec": {"template": {**template, "spec": {**template["spec"], "restartPolicy": "Never"}}}
                },
            },
        },
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))


def test_the_operator_changes_workloads_only_as_the_grace_period_needs(running: Running) -> None:
    """With its own token: scale and its pre-suspend annotations in an organization's namespaces, and
    nothing else of a workload anywhere (RBAC alone would let it patch any pod template, kube-system's too)."""
    cluster = running.cluster
    org = new_org(cluster, {})
    cluster.kubectl("label", "namespace", org, f"{org}.tree.hnc.x-k8s.io/depth=0")  # as HNC labels it
    outside = f"plain-{uuid.uuid4().hex[:6]}"  # no HNC tree: kube-system, a platform namespace
    cluster.kubectl("create", "namespace", outside)
    for namespace in (org, outside):
        _workloads(cluster, namespace)
    as_operator = f"--kubeconfig={running.identity.kubeconfig}"
    zero = {"spec": {"replicas": 0}}
    scale_outside = f"/apis/apps/v1/namespaces/{outside}/deployments/web/scale"
    eventually(lambda: assert_eq(_patch_as_operator(running, scale_outside, zero)[0], 403), timeout=30)
    assert "orgquota-operator-workloads.kube-dc.com" in _patch_as_operator(running, scale_outside, zero)[1]
    image = json.dumps({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "evil:1"}]}}}})
    for namespace, attempt in (
        (outside, ("annotate", "deployment", "web", "billing.kube-dc.com/pre-suspend-replicas=2")),
        (org, ("patch", "deployment", "web", "--type=merge", "-p", image)),
        (org, ("patch", "deployment", "web", "--type=merge", "-p", '{"spec":{"replicas":0}}')),  # not via scale
        (org, ("annotate", "deployment", "web", "example.com/owner=operator")),
        (org, ("label", "deployment", "web", "tier=gold")),
        (org, ("patch", "cronjob", "nightly", "--type=merge", "-p", '{"spec":{"schedule":"* * * * *"}}')),
    ):
        message = forbidden(cluster, as_operator, "-n", namespace, *attempt)
        assert "ValidatingAdmissionPolicy 'orgquota-operator-workloads.kube-dc.com'" in message, message
    for namespace in (org, outside):
        deployment = cluster.get_json("deployment", "web", "-n", namespace)
        assert deployment["spec"]["replicas"] == 2
        assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1"
    # what the grace period does is allowed
    cluster.kubectl(
        as_operator, "-n", org, "annotate", "deployment", "web", "billing.kube-dc.com/pre-suspend-replicas=2"
    )
    assert _patch_as_operator(running, f"/apis/apps/v1/namespaces/{org}/deployments/web/scale", zero)[0] == 200
    suspend = '{"spec":{"suspend":true},"metadata":{"annotations":{"billing.kube-dc.com/pre-suspend-suspend":"false"}}}'
    cluster.kubectl(as_operator, "-n", org, "patch", "cronjob", "nightly", "--type=merge", "-p", suspend)
    assert cluster.get_json("deployment", "web", "-n", org)["spec"]["replicas"] == 0
    assert cluster.get_json("cronjob", "nightly", "-n", org)["spec"]["suspend"] is True


def test_the_billing_system_may_change_the_plan(running: Running) -> None:
    cluster = running.cluster
    org = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, org, "4300m"))
    grant = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "billing-system"},
            "rules": [{"apiGroups": ["kube-dc.com"], "resources": ["organizations"], "verbs": ["get", "patch"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "billing-system"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "billing-system"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": BILLING_GROUP}],
        },
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(grant))
    annotate_as_billing(cluster, org, f"{PLAN}=pro-pool", "--overwrite")
    eventually(lambda: assert_cpu(cluster, org, "8300m"))  # pro-pool: 8 + 3 x 100m


def test_the_operator_was_never_refused(running: Running) -> None:
    """Last: over everything above, no request of the operator met a 403."""
    log = running.replica.process.log()
    # a 403 status, not the milliseconds of a timestamp (`...:07,403`, `.403Z`) nor part of a longer number
    status = r"(?<![\d.,:])403(?!\d)|forbidden"
    refused = [line for line in log.splitlines() if re.search(status, line, re.IGNORECASE)]
    assert not refused, "\n".join(refused[:20])
    assert "organizations reconciled in" in log
