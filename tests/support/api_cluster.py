"""The in-memory cluster the unit tests answer from: organizations acme (pro-pool + 1 turbo-x1),
beta (no plan) and gone (suspended), their HNC trees, quota objects, public EIps, pods and a
volume claim."""

from __future__ import annotations

import json
from typing import Any

from localcluster.mailserver import MailServer
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.core.annotations import PREFIX
from orgquota.kube.client import ORGANIZATION
from tests.support.catalog import WORKED_EXAMPLE
from tests.support.fake_kube import FakeKube

CATALOG_TEXT = """
plans:
  dev-pool:
    displayName: Dev Pool
    description: For development
    price: 49
    currency: EUR
    objectStorage: 20Gi
    ipv4: 0
    features: [Shared CPU]
    requests: {cpu: "4", memory: 8Gi, storage: 60Gi}
    pods: 100
    servicesLB: 2
    limitRange: {defaultCPU: 500m, defaultMemory: 512Mi, maxCPU: "2", maxMemory: 4Gi}
  pro-pool:
    displayName: Pro Pool
    price: 199
    currency: EUR
    recommended: true
    requests: {cpu: "8", memory: 24Gi, storage: 160Gi}
    pods: 200
    servicesLB: 100
    limitRange: {defaultCPU: "1", defaultMemory: 1Gi, maxCPU: "4", maxMemory: 8Gi}
  internal:
    price: 1
    selfService: false
    requests: {cpu: "1", memory: 1Gi, storage: 1Gi}
    pods: 10
    servicesLB: 0
    limitRange: {}
suspendedPlan: {cpu: 500m, memory: 1Gi, pods: 10, servicesLB: 0}
systemOverhead: {cpuPerProject: 100, memPerProject: 128}
addons:
  turbo-x1: {displayName: Turbo x1, price: 29, currency: EUR, cpu: "2", memory: 4Gi, storage: 20Gi}
  turbo-x2: {displayName: Turbo x2, price: 49, currency: EUR, cpu: "4", memory: 8Gi, storage: 40Gi}
  retired: {price: 1, cpu: "1", disabled: true}
  hidden: {price: 1, cpu: "1", selfService: false}
eipQuota: {pro-pool: 1, dev-pool: 0}
"""

ACME_USED = {
    "requests.cpu": "9",
    "limits.cpu": "9",
    "requests.memory": "12Gi",
    "requests.storage": "45Gi",
    "pods": "23",
    "services.loadbalancers": "1",
}


def hnc_namespace(name: str, *ancestors: str) -> dict[str, Any]:
    labels = {f"{name}.tree.hnc.x-k8s.io/depth": "0"}
    labels |= {f"{a}.tree.hnc.x-k8s.io/depth": str(depth) for depth, a in enumerate(ancestors, start=1)}
    return {"metadata": {"name": name, "labels": labels}}


def organization(name: str, annotations: dict[str, str], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": name,
            "name": name,
            "annotations": {**annotations, "kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "creationTimestamp": "2026-11-01T10:00:00Z",
        },
        "status": status or {},
    }


def catalog_configmap(name: str, text: str) -> dict[str, Any]:
    """The plan catalog's ConfigMap `name` holding `text` as plans.yaml."""
    return {"metadata": {"namespace": "kube-dc", "name": name}, "data": {"plans.yaml": text}}


def _pod(
    namespace: str, name: str, cpu: str, memory: str, phase: str = "Running", created: str = "2026-11-02T10:00:00Z"
) -> dict[str, Any]:
    container = {"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}
    return {
        "metadata": {"namespace": namespace, "name": name, "creationTimestamp": created},
        "spec": {"containers": [container]},
        "status": {"phase": phase},
    }


def cluster_objects(settings: ApiSettings) -> dict[str, list[dict[str, Any]]]:
    acme_status = {
        "ready": True,
        "mode": "plan",
        "plan": "pro-pool",
        "conditions": [
            {
                "type": "QuotaReady",
                "status": "True",
                "reason": "Applied",
                "message": "plan pro-pool with 1 x turbo-x1 is enforced",
                "lastTransitionTime": "2026-11-02T09:00:00Z",
            }
        ],
        "quotaUsage": {"hard": {}, "used": {}, "lastUpdated": "2026-11-03T08:00:00Z"},
        "alerts": [{"resource": "cpu", "level": "warning", "percent": 87.3, "since": "2026-11-03T08:00:00Z"}],
        "applied": {
            "planId": "pro-pool",
            "subscription": "active",
            "addons": json.dumps([{"addonId": "turbo-x1", "quantity": 1}]),
        },
    }
    return {
        "namespaces": [
            hnc_namespace("acme"),
            hnc_namespace("acme-dev", "acme"),
            hnc_namespace("acme-prod", "acme"),
            hnc_namespace("beta"),
            hnc_namespace("beta-x", "beta"),
            hnc_namespace("gone"),
            {"metadata": {"name": "lonely"}},
        ],
        "orgs": [
            organization(
                "acme",
                {
                    PREFIX + "plan-id": "pro-pool",
                    PREFIX + "subscription": "active",
                    PREFIX + "addons": json.dumps([{"addonId": "turbo-x1", "quantity": 1}]),
                    PREFIX + "provider-subscription-id": "sub_123",
                    PREFIX + "provider-customer-id": "cus_456",
                },
                acme_status,
            ),
            organization("beta", {}),
            organization("gone", {PREFIX + "plan-id": "pro-pool", PREFIX + "subscription": "suspended"}),
        ],
        "hrqs": [
            {
                "metadata": {"namespace": "acme", "name": "plan-quota"},
                "spec": {"hard": WORKED_EXAMPLE},
                "status": {"hard": WORKED_EXAMPLE, "used": ACME_USED},
            }
        ],
        "limit_ranges": [
            {
                "metadata": {
                    "namespace": "acme",
                    "name": "default-resource-limits",
                    "labels": {PREFIX + "auto-managed": "true"},
                }
            }
        ],
        "eips": [{"metadata": {"namespace": "acme-dev", "name": "eip-1"}}],
        "pods": [
            _pod("acme-dev", "web", "500m", "1Gi", created="2026-11-02T10:00:00Z"),
            _pod("acme-dev", "db", "250m", "512Mi", created="2026-11-02T11:00:00Z"),
            _pod("acme-prod", "done", "4", "4Gi", phase="Succeeded"),
            _pod("beta-x", "job", "3", "2Gi"),
        ],
        "claims": [
            {
                "metadata": {"namespace": "acme-dev", "name": "data", "creationTimestamp": "2026-11-02T10:00:00Z"},
                "spec": {"resources": {"requests": {"storage": "10Gi"}}},
            }
        ],
    }


def organizations_apiserver(settings: ApiSettings) -> FakeKube:
    """An in-memory apiserver holding the cluster's Organizations, for the routes that write them."""
    kube = FakeKube()
    for org in cluster_objects(settings)["orgs"]:
        kube.put(ORGANIZATION.path(org["metadata"]["namespace"], org["metadata"]["name"]), org)
    return kube


SMTP_SECRET = "alertmanager-secret"
"""ALERTS_WEBHOOK_SECRET of the applications that mail alerts"""


def notification_settings(mail: MailServer) -> dict[str, str]:
    """The SMTP_* settings that mail alerts to `mail`."""
    return {"SMTP_URL": mail.url, "SMTP_FROM": "billing@kube-dc.example", "ALERTS_WEBHOOK_SECRET": SMTP_SECRET}


def in_memory_cluster(settings: ApiSettings) -> Cluster:
    """The API's view of the cluster, filled with these objects and the catalog (no apiserver behind)."""
    cluster = Cluster(settings)
    for cache, objects in cluster_objects(settings).items():
        getattr(cluster, cache).replace(objects)
    catalog = {
        "metadata": {"namespace": "kube-dc", "name": settings.catalog_name},
        "data": {"plans.yaml": CATALOG_TEXT},
    }
    cluster.catalog.live.replace([catalog])
    cluster.catalog.last_good.replace([])
    return cluster


def configmap(name: str, text: str) -> dict[str, Any]:
    """A catalog ConfigMap in kube-dc holding `text`."""
    return {"metadata": {"namespace": "kube-dc", "name": name}, "data": {"plans.yaml": text}}


def set_annotations(cluster: Cluster, changes: dict[str, str | None], org: str = "acme") -> None:
    """A change of an Organization's annotations as the API's watch sees it (None removes one)."""
    record = cluster.orgs.get(org, org)
    assert record is not None
    annotations = {key: value for key, value in {**record.annotations, **changes}.items() if value is not None}
    metadata = {"namespace": org, "name": org, "annotations": annotations}
    cluster.orgs.apply("MODIFIED", {"metadata": metadata, "status": record.status})


_EUR = "\n    currency: EUR"
MULTI_CURRENCY_CATALOG = (
    CATALOG_TEXT.replace(f"price: 49{_EUR}", f"price: '49.00'{_EUR}\n    prices: {{JPY: '7900', KWD: '16.250'}}")
    .replace(f"price: 199{_EUR}", f"price: 199{_EUR}\n    prices: {{JPY: '31000', KWD: '61.125'}}")
    .replace("price: 29, currency: EUR,", "price: 29, currency: EUR, prices: {JPY: '4500', KWD: '9.005'},")
    .replace("price: 49, currency: EUR,", "price: 49, currency: EUR, prices: {JPY: '7600', KWD: '15.5'},")
)
"""`CATALOG_TEXT` with yen and Kuwaiti dinar prices beside every euro one"""


def use_catalog(cluster: Cluster, text: str) -> None:
    """A new live catalog, as the API's informer sees it."""
    cluster.catalog.live.replace([configmap(cluster.settings.catalog_name, text)])
