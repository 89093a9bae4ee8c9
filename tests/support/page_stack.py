"""The organization the billing page's browser tests look at: acme (the realm's demo users belong to it)
on pro-pool with one turbo-x1, with real usage in its project acme-dev that HNC counts."""

from __future__ import annotations

import json
from typing import Final

import yaml

from localcluster.kubectl import Cluster
from orgquota.core.annotations import PREFIX
from tests.support import tree
from tests.support.billing_api import eventually
from tests.support.catalog import WORKED_EXAMPLE
from tests.support.cluster import apply_ok
from tests.support.files import EIP_CRD
from tests.support.stripe_events import FIXTURE_PRICE
from tests.support.waiting import assert_eq

ORG: Final = "acme"
PRICES: Final = {
    "STRIPE_PRICE_PRO_POOL": "price_pro_pool",
    "STRIPE_PRICE_DEV_POOL": FIXTURE_PRICE,  # stripe-mock's subscriptions are on dev-pool
    "STRIPE_PRICE_SCALE_POOL": "price_scale_pool",
    "STRIPE_PRICE_TURBO_X1": "price_turbo_x1",
    "STRIPE_PRICE_TURBO_X2": "price_turbo_x2",
}


def seed_acme(cluster: Cluster) -> str:
    """acme as examples/ describe it, and in acme-dev: 3 pods (6 cores, 22 GiB), a 60 GiB claim and a
    public EIp, once HNC counts them. Bars: CPU 58 % (success), memory 78 % (warning), storage 33 %,
    public IPv4 1 of 1 (danger); removing the add-on still fits. Returns the project namespace."""
    cluster.kubectl("apply", "-f", str(EIP_CRD))
    organization = {
        "apiVersion": "kube-dc.com/v1",
        "kind": "Organization",
        "metadata": {
            "name": ORG,
            "namespace": ORG,
            "annotations": {
                PREFIX + "plan-id": "pro-pool",
                PREFIX + "subscription": "active",
                PREFIX + "addons": json.dumps([{"addonId": "turbo-x1", "quantity": 1}]),
            },
        },
        "spec": {"email": "ops@acme.example", "displayName": "ACME Corp"},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(organization))
    eventually(
        lambda: assert_eq(
            cluster.get_json("hrq", "plan-quota", "-n", ORG)["spec"]["hard"]["requests.cpu"],
            WORKED_EXAMPLE["requests.cpu"],
        )
    )
    dev = tree.project(cluster, ORG, "dev")
    eventually(lambda: tree.quota_ready(cluster, dev), timeout=60)
    pods = [tree.pod(dev, f"web-{i}", "2", memory) for i, memory in enumerate(["8Gi", "8Gi", "6Gi"])]
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": dev},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "60Gi"}}},
    }
    eip = {
        "apiVersion": "kube-dc.com/v1",
        "kind": "EIp",
        "metadata": {
            "name": "web",
            "namespace": dev,
            "labels": {"network.kube-dc.com/external-network-type": "public"},
        },
    }
    tree.admitted(cluster, *pods)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(claim))
    # the operator's EIp webhook answers 404 until it has learned the EIp CRD after its start
    eventually(lambda: apply_ok(cluster, yaml.safe_dump(eip)), timeout=60)
    used = {"requests.cpu": "6", "requests.memory": "22Gi", "requests.storage": "60Gi"}
    eventually(lambda: assert_eq({k: tree.hrq_used(cluster, ORG).get(k) for k in used}, used), timeout=90)
    return dev


def clear_acme(cluster: Cluster, dev: str) -> None:
    """Remove the usage and the project (HNC deletes the namespace with its anchor); acme stays."""
    for kind in ("pods", "pvc", "eips.kube-dc.com"):
        cluster.kubectl("delete", kind, "--all", "-n", dev, "--wait=false", check=False)
    cluster.kubectl("delete", "subnamespaceanchors.hnc.x-k8s.io", dev, "-n", ORG, "--wait=false", check=False)
