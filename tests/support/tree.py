"""Real usage for the quota tests: project namespaces made by HNC, and pods that count against quotas.

Nothing schedules or runs the pods (there is no scheduler or kubelet), but a Pending pod counts
against a ResourceQuota all the same, which is all that usage is made of here.
"""

from __future__ import annotations

import functools
import json
import subprocess
from typing import Any, Final

from localcluster.cli import platform_wanted
from localcluster.kubectl import Cluster
from orgquota.core.annotations import PLAN_ID
from tests.support.cluster import external_kubeconfig
from tests.support.orgs import Orgs
from tests.support.waiting import assert_eq, eventually

HNC_QUOTA: Final = "hrq.hnc.x-k8s.io"  # the ResourceQuota HNC keeps in each namespace under an HRQ
INHERITED_FROM: Final = "hnc.x-k8s.io/inherited-from"


def project(cluster: Cluster, org: str, name: str) -> str:
    """A project namespace `<org>-<name>` under the organization, made from a SubnamespaceAnchor.

    Without HNC (LOCALCLUSTER_PLATFORM=0) it is a namespace with the tree label HNC would give it.
    """
    namespace = f"{org}-{name}"
    depth = f"{org}.tree.hnc.x-k8s.io/depth"
    if not hnc_runs():
        cluster.kubectl("create", "namespace", namespace)
        cluster.kubectl("label", "namespace", namespace, f"{depth}=1")
        return namespace
    anchor = {
        "apiVersion": "hnc.x-k8s.io/v1alpha2",
        "kind": "SubnamespaceAnchor",
        "metadata": {"name": namespace, "namespace": org},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(anchor))
    eventually(lambda: assert_eq(_labels(cluster, namespace).get(depth), "1"))
    return namespace


def hnc_runs() -> bool:
    """HNC manages the tree: ours with the platform slice, and any $KUBECONFIG cluster (the operator needs HNC)."""
    return external_kubeconfig() is not None or platform_wanted()


def _labels(cluster: Cluster, namespace: str) -> dict[str, str]:
    proc = cluster.kubectl("get", "namespace", namespace, "-o", "json", check=False)
    assert proc.returncode == 0, proc.stderr
    labels: dict[str, str] = json.loads(proc.stdout)["metadata"].get("labels", {})
    return labels


def pod(namespace: str, name: str, cpu: str, memory: str = "128Mi") -> dict[str, Any]:
    """A pod whose requests equal its limits (so it counts the same for requests.* and limits.*)."""
    resources = {"cpu": cpu, "memory": memory}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": resources, "limits": resources},
                }
            ]
        },
    }


def create(cluster: Cluster, *pods: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """`kubectl create` the pods (unchecked: a refusal is what some tests want to see)."""
    return cluster.kubectl(
        "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}), check=False
    )


def admitted(cluster: Cluster, *pods: dict[str, Any]) -> None:
    proc = create(cluster, *pods)
    assert proc.returncode == 0, proc.stderr


def refused(cluster: Cluster, pod_: dict[str, Any]) -> str:
    """Assert that the pod is refused; return the apiserver's message."""
    proc = create(cluster, pod_)
    assert proc.returncode != 0, f"{pod_['metadata']['name']} was admitted"
    return proc.stderr


def quota_ready(cluster: Cluster, namespace: str) -> dict[str, Any]:
    """HNC's ResourceQuota in `namespace`, once the controller-manager has computed its usage.

    Until then the apiserver refuses every pod it covers ("status unknown for quota").
    """
    proc = cluster.kubectl("get", "resourcequota", HNC_QUOTA, "-n", namespace, "-o", "json", check=False)
    assert proc.returncode == 0, proc.stderr
    quota: dict[str, Any] = json.loads(proc.stdout)
    assert quota.get("status", {}).get("hard"), f"{HNC_QUOTA} in {namespace} has no usage yet"
    return quota


def hrq_used(cluster: Cluster, org: str) -> dict[str, str]:
    """What HNC reports the organization's tree uses (the HRQ's status.used)."""
    used: dict[str, str] = cluster.get_json("hrq", "plan-quota", "-n", org).get("status", {}).get("used", {})
    return used


def org_with_projects(cluster: Cluster, orgs: Orgs, plan: str, *projects: str) -> tuple[str, list[str]]:
    """An organization on `plan` with project namespaces, once HNC enforces its HRQ in all of them."""
    name = orgs.create({PLAN_ID: plan})
    eventually(lambda: orgs.reason(name, "Applied"))
    namespaces = [project(cluster, name, p) for p in projects]
    for namespace in (name, *namespaces):
        eventually(functools.partial(quota_ready, cluster, namespace))
    return name, namespaces
