"""The plan catalog in tests: a catalog text for unit tests, and the example catalog ConfigMap as the
e2e tests apply, edit and break it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import yaml

from localcluster.kubectl import Cluster
from orgquota.core.catalog import Catalog, parse_configmap_data
from tests.support.files import CATALOG_FILE

CATALOG_NAMESPACE: Final = "kube-dc"

CATALOG = """
plans:
  dev-pool:
    displayName: Dev Pool
    requests: {cpu: "4", memory: 8Gi, storage: 60Gi}
    pods: 100
    servicesLB: 2
    limitRange: {defaultCPU: 500m, defaultMemory: 512Mi, maxCPU: "2", maxMemory: 4Gi}
  pro-pool:
    displayName: Pro Pool
    requests: {cpu: "8", memory: 24Gi, storage: 160Gi}
    pods: 200
    servicesLB: 100
    burstRatio: 1.0
    limitRange:
      defaultCPU: "1"
      defaultMemory: 1Gi
      defaultRequestCPU: 100m
      defaultRequestMem: 128Mi
      maxCPU: "4"
      maxMemory: 8Gi
      minCPU: 10m
      minMemory: 16Mi
      maxPodCPU: "8"
      maxPodMemory: 16Gi
      maxPVCStorage: 100Gi
      minPVCStorage: 1Gi
  burst-pool:
    requests: {cpu: "10", memory: 10Gi, storage: 10Gi}
    pods: 10
    servicesLB: 1
    burstRatio: 1.5
    limitRange: {}
suspendedPlan: {cpu: 500m, memory: 1Gi, pods: 10, servicesLB: 0}
systemOverhead: {cpuPerProject: 100, memPerProject: 128}
addons:
  turbo-x1: {cpu: "2", memory: 4Gi, storage: 20Gi}
  turbo-x2: {cpu: "4", memory: 8Gi, storage: 40Gi}
  retired: {cpu: "100", memory: 100Gi, storage: 100Gi, disabled: true}
eipQuota: {pro-pool: 1}
"""
"""the unit tests' catalog: three plans (one with an EIp quota), add-ons, one of them disabled"""


def example_catalog() -> Catalog:
    """The example catalog (priced in USD: pro-pool 199, turbo-x1 29), as the operator reads it."""
    return parse_configmap_data(yaml.safe_load(CATALOG_FILE.read_text())["data"])


def catalog_yaml(edit: Callable[[dict[str, Any]], object] | str) -> str:
    """The example catalog ConfigMap with `edit(plans_dict)` applied (or plans.yaml replaced by a string)."""
    configmap = yaml.safe_load(CATALOG_FILE.read_text())
    if isinstance(edit, str):
        configmap["data"]["plans.yaml"] = edit
    else:
        plans = yaml.safe_load(configmap["data"]["plans.yaml"])
        edit(plans)
        configmap["data"]["plans.yaml"] = yaml.safe_dump(plans)
    return str(yaml.safe_dump(configmap))


def apply_catalog(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(CATALOG_FILE))


def set_catalog_cpu(cluster: Cluster, plan: str, cpu: str) -> None:
    """Edit the live catalog: `plan`'s requests.cpu becomes `cpu`."""
    configmap = cluster.get_json("configmap", "billing-plans", "-n", CATALOG_NAMESPACE)
    plans = yaml.safe_load(configmap["data"]["plans.yaml"])
    plans["plans"][plan]["requests"]["cpu"] = cpu
    patch = {"data": {"plans.yaml": yaml.safe_dump(plans, sort_keys=False)}}
    cluster.kubectl(
        "patch", "configmap", "billing-plans", "-n", CATALOG_NAMESPACE, "--type=merge", "-p", json.dumps(patch)
    )


def assert_bad_catalog_rejected(cluster: Cluster) -> None:
    """A catalog with burstRatio 0 is refused by the catalog webhook, which names the field (server-side dry run)."""
    bad = catalog_yaml(lambda plans: plans["plans"]["dev-pool"].update(burstRatio=0))
    proc = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=bad, check=False)
    assert proc.returncode != 0
    assert 'admission webhook "catalog.orgquota.kube-dc.com" denied the request' in proc.stderr, proc.stderr
    assert "plans.dev-pool.burstRatio" in proc.stderr, proc.stderr


FLOOR: Final = {  # the example catalog's suspendedPlan as an HRQ's spec.hard
    "requests.cpu": "500m",
    "limits.cpu": "500m",
    "requests.memory": "1Gi",
    "limits.memory": "1Gi",
    "requests.storage": "0",
    "pods": "10",
    "services.loadbalancers": "0",
}
WORKED_EXAMPLE: Final = {  # docs/operator.md's worked example: pro-pool + 1 x turbo-x1, 100m/128Mi, 3 projects
    "requests.cpu": "10300m",
    "limits.cpu": "10300m",
    "requests.memory": "29056Mi",
    "limits.memory": "29056Mi",
    "requests.storage": "180Gi",
    "pods": "200",
    "services.loadbalancers": "100",
}
DEV_POOL: Final = {  # the example catalog's dev-pool, projects limit 3
    "requests.cpu": "4300m",
    "limits.cpu": "4300m",
    "requests.memory": "8576Mi",
    "limits.memory": "8576Mi",
    "requests.storage": "60Gi",
    "pods": "100",
    "services.loadbalancers": "2",
}
