"""The quota enforced and counted for real: the operator's HRQ, HNC and kube-controller-manager together.

The operator writes the plan into the organization's HierarchicalResourceQuota; HNC mirrors it into a
ResourceQuota per namespace of the tree and refuses what would take the tree over it; the
controller-manager counts what each namespace uses; HNC sums that into the HRQ's status, which the
operator copies into the Organization's status. Pods stay Pending (no scheduler), and count anyway.
"""

from __future__ import annotations

import json
from typing import Any

from localcluster.kubectl import Cluster
from tests.support.orgs import Orgs
from tests.support.tree import (
    HNC_QUOTA,
    INHERITED_FROM,
    admitted,
    hrq_used,
    org_with_projects,
    pod,
    refused,
)
from tests.support.waiting import assert_eq, eventually, present

PLAN = "billing.kube-dc.com/plan-id"
SUBSCRIPTION = "billing.kube-dc.com/subscription"


def hrq_refusal(org: str) -> str:
    """The start of HNC's message when a pod would take the organization's tree over its HRQ."""
    return f'exceeded hierarchical quota in namespace "{org}": "plan-quota"'


def condition(orgs: Orgs, name: str, type_: str) -> dict[str, Any]:
    found = [c for c in orgs.status(name).get("conditions") or [] if c["type"] == type_]
    assert found, f"{name} has no {type_} condition yet"
    return dict(found[0])


def over_quota(orgs: Orgs, name: str, status: str) -> dict[str, Any]:
    found = condition(orgs, name, "OverQuota")
    assert found["status"] == status, found
    return found


def used(orgs: Orgs, name: str) -> dict[str, str]:
    usage: dict[str, str] = (orgs.status(name).get("quotaUsage") or {}).get("used", {})
    return usage


def pick(values: dict[str, str], *keys: str) -> list[str | None]:
    return [values.get(k) for k in keys]


def test_pods_fit_up_to_the_plan_and_a_plan_change_or_suspension_moves_the_limit(
    enforcing_cluster: Cluster, orgs: Orgs
) -> None:
    cluster = enforcing_cluster
    # dev-pool: 4 CPUs + 3 x 100m project overhead = 4300m for the organization's whole tree.
    name, (web, api) = org_with_projects(cluster, orgs, "dev-pool", "web", "api")
    admitted(cluster, pod(web, "a", cpu="2"), pod(name, "b", cpu="2"))  # 4000m, in two namespaces
    message = refused(cluster, pod(web, "c", cpu="2"))
    assert hrq_refusal(name) in message, message
    assert "requests.cpu" in message, message

    # Usage: counted by the controller-manager, summed by HNC, mirrored by the operator.
    eventually(lambda: assert_eq(pick(hrq_used(cluster, name), "requests.cpu", "pods"), ["4", "2"]))
    eventually(lambda: assert_eq(pick(used(orgs, name), "cpu", "memory", "pods"), ["4", "256Mi", "2"]))
    assert orgs.status(name)["quotaUsage"]["hard"]["cpu"] == "4300m"
    eventually(lambda: over_quota(orgs, name, "False"))

    # A bigger plan raises the limit: the refused pod fits now.
    orgs.annotate(name, f"{PLAN}=pro-pool")  # 8300m
    eventually(lambda: admitted(cluster, pod(web, "c", cpu="2")))
    eventually(lambda: assert_eq(used(orgs, name).get("cpu"), "6"))

    # Suspension lowers it to the floor (500m): the tree is over, and nothing more gets in anywhere.
    orgs.annotate(name, f"{SUBSCRIPTION}=suspended")
    eventually(lambda: orgs.reason(name, "Suspended"))
    found = eventually(lambda: over_quota(orgs, name, "True"))
    assert "cpu used 6 > hard 500m" in found["message"], found
    message = eventually(lambda: refused(cluster, pod(api, "d", cpu="100m")))
    assert hrq_refusal(name) in message, message


def test_a_deleted_pod_gives_its_share_back(enforcing_cluster: Cluster, orgs: Orgs) -> None:
    cluster = enforcing_cluster
    name, (web,) = org_with_projects(cluster, orgs, "dev-pool", "web")
    admitted(cluster, pod(web, "a", cpu="2"), pod(web, "b", cpu="2"))
    assert hrq_refusal(name) in refused(cluster, pod(name, "c", cpu="2"))
    cluster.kubectl("delete", "pod", "a", "-n", web, "--wait=false")
    eventually(lambda: admitted(cluster, pod(name, "c", cpu="2")))  # the controller-manager has recounted
    eventually(lambda: assert_eq(hrq_used(cluster, name).get("requests.cpu"), "4"))


def test_the_organizations_limit_range_reaches_its_projects(enforcing_cluster: Cluster, orgs: Orgs) -> None:
    cluster = enforcing_cluster
    name, (web,) = org_with_projects(cluster, orgs, "dev-pool", "web")
    source = eventually(lambda: present(orgs.limit_range(name)))
    copy = eventually(lambda: present(orgs.limit_range(web)))
    assert copy["metadata"]["labels"][INHERITED_FROM] == name
    assert copy["spec"] == source["spec"]
    # It does its job there: a pod that names no resources gets the plan's defaults, and counts.
    bare = pod(web, "bare", cpu="1")
    del bare["spec"]["containers"][0]["resources"]
    admitted(cluster, bare)
    resources = cluster.get_json("pod", "bare", "-n", web)["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
    eventually(lambda: assert_eq(hrq_used(cluster, name).get("limits.cpu"), "500m"))


def test_deleting_the_organization_collects_what_it_owns(enforcing_cluster: Cluster, orgs: Orgs) -> None:
    cluster = enforcing_cluster
    name, (web,) = org_with_projects(cluster, orgs, "dev-pool", "web")
    org = cluster.get_json("organization", name, "-n", name)
    owned = {  # something of the organization's that only the garbage collector knows to delete
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "owned-by-the-organization",
            "namespace": name,
            "ownerReferences": [
                {
                    "apiVersion": org["apiVersion"],
                    "kind": "Organization",
                    "name": name,
                    "uid": org["metadata"]["uid"],
                }
            ],
        },
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(owned))
    cluster.kubectl("delete", "organization", name, "-n", name)
    eventually(lambda: assert_eq(orgs.get("configmap", name, "owned-by-the-organization"), None))
    eventually(lambda: assert_eq((orgs.hrq(name), orgs.limit_range(name)), (None, None)))
    # With the HRQ gone, HNC lifts its quota from the whole tree.
    eventually(lambda: assert_eq(orgs.get("resourcequota", web, HNC_QUOTA), None))
