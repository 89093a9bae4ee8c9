"""Project caps for real: an org-admin caps a project through the billing API, the operator writes the
HRQ `project-cap`, HNC enforces it beside the organization's `plan-quota`, and the kube-controller-
manager counts. Pods stay Pending (no scheduler) and count anyway; nothing is ever evicted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localcluster.kubectl import Cluster
from tests.support.billing_api import BillingApi, start_billing_api
from tests.support.oidc import Issuer
from tests.support.operator_process import OperatorProcess, webhooks_off
from tests.support.orgs import Orgs
from tests.support.tree import HNC_QUOTA, admitted, hrq_used, org_with_projects, pod, refused
from tests.support.waiting import assert_eq, eventually, present

CAPS = "billing.kube-dc.com/project-caps"
CAP = "hierarchicalresourcequotas.hnc.x-k8s.io"


@pytest.fixture(scope="module")
def billing_api(
    enforcing_cluster: Cluster, operator: OperatorProcess, issuer: Issuer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BillingApi]:
    """`orgquota api` (no payment provider) beside the quota suite's operator."""
    cluster = enforcing_cluster
    api = start_billing_api(cluster, cluster.kubeconfig, issuer, tmp_path_factory.mktemp("billing-api"))
    yield api
    api.stop()
    print(f"billing API log: {api.log_path}")


def put_cap(api: BillingApi, org: str, namespace: str, body: dict[str, Any], query: str = "") -> httpx.Response:
    return api.http.put(f"/api/billing/project/{namespace}/cap{query}", json=body, headers=api.admin_of(org))


def delete_cap(api: BillingApi, org: str, namespace: str) -> httpx.Response:
    return api.http.delete(f"/api/billing/project/{namespace}/cap", headers=api.admin_of(org))


def answered(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    return body["data"] if status < 400 else body


def cap_hrq(orgs: Orgs, namespace: str) -> dict[str, Any] | None:
    return orgs.get(CAP, namespace, "project-cap")


def enforced_cpu(cluster: Cluster, namespace: str) -> str | None:
    """The requests.cpu HNC's ResourceQuota in `namespace` holds (the strictest of the HRQs above it;
    None when no HRQ is above it)."""
    proc = cluster.kubectl("get", "resourcequota", HNC_QUOTA, "-n", namespace, "-o", "json", check=False)
    if proc.returncode != 0:
        assert "NotFound" in proc.stderr, proc.stderr
        return None
    hard: dict[str, str] = json.loads(proc.stdout).get("spec", {}).get("hard", {})
    return hard.get("requests.cpu")


def stored_caps(orgs: Orgs, org: str) -> str | None:
    body = present(orgs.get("organization", org, org))
    caps: str | None = body["metadata"].get("annotations", {}).get(CAPS)
    return caps


def project_entry(api: BillingApi, org: str, namespace: str) -> dict[str, Any]:
    projects = {p["namespace"]: p for p in api.data("/projects", api.admin_of(org))}
    return dict(projects[namespace])


def test_a_capped_project_refuses_what_the_organization_still_has_room_for(
    enforcing_cluster: Cluster, orgs: Orgs, billing_api: BillingApi
) -> None:
    cluster = enforcing_cluster
    name, (web,) = org_with_projects(cluster, orgs, "pro-pool", "web")  # 8300m for the whole tree
    answered(put_cap(billing_api, name, web, {"cpu": "2"}))
    hrq = eventually(lambda: present(cap_hrq(orgs, web)))
    assert hrq["spec"]["hard"] == {"requests.cpu": "2"}
    assert hrq["metadata"]["labels"]["billing.kube-dc.com/organization"] == name
    eventually(lambda: assert_eq(enforced_cpu(cluster, web), "2"))

    admitted(cluster, pod(web, "a", cpu="1"), pod(web, "b", cpu="1"))
    message = refused(cluster, pod(web, "c", cpu="1"))
    assert "exceeded quota: hrq.hnc.x-k8s.io" in message, message  # HNC's quota in the project: the strictest HRQ
    assert "limited: requests.cpu=2" in message, message
    admitted(cluster, pod(name, "elsewhere", cpu="1"))  # the organization still has room
    eventually(lambda: assert_eq(hrq_used(cluster, name).get("requests.cpu"), "3"))
    orgs.has_event(name, "QuotaCreated", f"HierarchicalResourceQuota {web}/project-cap")

    # An edit by hand is put back (with an Event), like the plan's own quota.
    cluster.kubectl(
        "patch", CAP, "project-cap", "-n", web, "--type=merge", "-p", '{"spec":{"hard":{"requests.cpu":"9"}}}'
    )
    eventually(lambda: assert_eq(present(cap_hrq(orgs, web))["spec"]["hard"], {"requests.cpu": "2"}))
    eventually(lambda: orgs.has_event(name, "QuotaRestored", f"{web}/project-cap"))

    # Lifting the cap lets the pod in.
    answered(delete_cap(billing_api, name, web))
    eventually(lambda: assert_eq(cap_hrq(orgs, web), None))
    eventually(lambda: admitted(cluster, pod(web, "c", cpu="1")))


def test_a_cap_below_what_runs_names_the_pods_is_set_only_when_asked_and_evicts_nothing(
    enforcing_cluster: Cluster, orgs: Orgs, billing_api: BillingApi
) -> None:
    cluster = enforcing_cluster
    name, (api,) = org_with_projects(cluster, orgs, "pro-pool", "api")
    admitted(cluster, pod(api, "first", cpu="1"))
    admitted(cluster, pod(api, "second", cpu="1"))
    eventually(lambda: assert_eq(project_entry(billing_api, name, api)["usage"]["cpu"], 2))

    refusal = answered(put_cap(billing_api, name, api, {"cpu": "1500m", "pods": 1}), 409)
    assert refusal["details"]["violations"] == [
        {"resource": "requests.cpu", "used": "2", "cap": "1500m", "pods": ["second"], "claims": []},
        {"resource": "pods", "used": "2", "cap": "1", "pods": ["second"], "claims": []},
    ]
    dry = answered(put_cap(billing_api, name, api, {"cpu": "1500m", "belowUsage": True}, "?dryRun=true"))
    assert (dry["dryRun"], dry["changed"], len(dry["violations"])) == (True, True, 1)
    assert stored_caps(orgs, name) is None  # neither the refusal nor the dry run wrote anything

    accepted = answered(put_cap(billing_api, name, api, {"cpu": "1500m", "belowUsage": True}))
    assert accepted["violations"][0]["pods"] == ["second"]
    eventually(lambda: assert_eq(enforced_cpu(cluster, api), "1500m"))
    assert "limited: requests.cpu=1500m" in refused(cluster, pod(api, "third", cpu="100m"))
    running = {p["metadata"]["name"] for p in cluster.get_json("pods", "-n", api)["items"]}
    assert running == {"first", "second"}  # nothing evicted
    entry = eventually(lambda: present(project_entry(billing_api, name, api)["cap"]))
    assert entry == {"cpu": "1500m", "memory": None, "storage": None, "pods": None}
    assert project_entry(billing_api, name, api)["share"]["cpu"] == round(2 / 8.3, 4)


def test_only_the_callers_projects_can_be_capped_and_bad_input_writes_nothing(
    enforcing_cluster: Cluster, orgs: Orgs, billing_api: BillingApi
) -> None:
    cluster = enforcing_cluster
    name, (web,) = org_with_projects(cluster, orgs, "dev-pool", "web")
    other, (theirs,) = org_with_projects(cluster, orgs, "dev-pool", "theirs")
    assert (
        "is not a project of organization" in answered(put_cap(billing_api, name, theirs, {"cpu": "1"}), 403)["error"]
    )
    assert "not found" in answered(put_cap(billing_api, name, f"{name}-ghost", {"cpu": "1"}), 404)["error"]
    for bad in ({"cpu": "lots"}, {"cpu": "-1"}, {"memory": "1e1000"}, {"pods": 10**25}, {"cpus": "1"}, {}):
        answered(put_cap(billing_api, name, web, bad), 400)
    many = {"cpu": "1", "pad": "x" * 9000}
    assert answered(put_cap(billing_api, name, web, many), 413)["success"] is False
    assert (stored_caps(orgs, name), stored_caps(orgs, other)) == (None, None)


def test_deleting_the_project_or_the_organization_removes_the_caps_hrq(
    enforcing_cluster: Cluster, orgs: Orgs, billing_api: BillingApi
) -> None:
    cluster = enforcing_cluster
    name, (web, api) = org_with_projects(cluster, orgs, "dev-pool", "web", "api")
    for namespace in (web, api):
        answered(put_cap(billing_api, name, namespace, {"pods": 5}))
        eventually(lambda namespace=namespace: present(cap_hrq(orgs, namespace)))  # type: ignore[misc]

    cluster.kubectl("delete", "subnamespaceanchor", web, "-n", name)  # HNC deletes the project namespace
    eventually(lambda: assert_eq(cluster.kubectl("get", "namespace", web, check=False).returncode, 1), timeout=60)
    assert cap_hrq(orgs, api) is not None
    orgs.reason(name, "Applied")  # the cap of a project that is gone is no problem (and is not made again)

    cluster.kubectl("delete", "organization", name, "-n", name)
    eventually(lambda: assert_eq(cap_hrq(orgs, api), None))
    eventually(lambda: assert_eq(enforced_cpu(cluster, api), None))  # nothing above api caps it any more


def test_caps_survive_a_restart_with_zero_writes_and_a_bad_hand_edit_changes_none(
    enforcing_cluster: Cluster, orgs: Orgs, billing_api: BillingApi, operator: OperatorProcess
) -> None:
    cluster = enforcing_cluster
    name, (web,) = org_with_projects(cluster, orgs, "dev-pool", "web")
    answered(put_cap(billing_api, name, web, {"cpu": "1", "memory": "1Gi", "pods": 4}))
    before = eventually(lambda: present(cap_hrq(orgs, web)))
    operator.settle()

    operator.restart()
    operator.settle()
    assert operator.metric('orgquota_api_writes_total{resource="hierarchicalresourcequotas"') == 0
    after = present(cap_hrq(orgs, web))
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]

    with webhooks_off(operator):  # the admission webhook refuses it; a hand edit may still get in without it
        orgs.annotate(name, f"{CAPS}={json.dumps({web: {'cpu': '-1'}})}")
    condition = eventually(lambda: orgs.reason(name, "InvalidProjectCaps"))
    assert "'-1' is negative; no project cap was changed" in condition["message"], condition
    assert present(cap_hrq(orgs, web))["spec"]["hard"] == before["spec"]["hard"]
    assert "cannot be read" in answered(put_cap(billing_api, name, web, {"cpu": "2"}), 409)["error"]


def under(cluster: Cluster, namespace: str, parent: str) -> None:
    """Make `parent` the namespace's parent in HNC's tree (a full namespace, unlike a subnamespace, may move)."""
    hierarchy = {
        "apiVersion": "hnc.x-k8s.io/v1alpha2",
        "kind": "HierarchyConfiguration",
        "metadata": {"name": "hierarchy", "namespace": namespace},
        "spec": {"parent": parent},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(hierarchy))
    depth = f"{parent}.tree.hnc.x-k8s.io/depth"
    eventually(lambda: assert_eq(cluster.get_json("namespace", namespace)["metadata"]["labels"].get(depth), "1"))


def test_a_project_moved_to_another_organization_loses_the_cap(
    enforcing_cluster: Cluster, orgs: Orgs, billing_api: BillingApi
) -> None:
    cluster = enforcing_cluster
    name, _ = org_with_projects(cluster, orgs, "dev-pool")
    other, _ = org_with_projects(cluster, orgs, "dev-pool")
    moving = f"{name}-moving"
    cluster.kubectl("create", "namespace", moving)
    under(cluster, moving, name)
    answered(put_cap(billing_api, name, moving, {"pods": 3}))
    eventually(lambda: present(cap_hrq(orgs, moving)))
    under(cluster, moving, other)
    eventually(lambda: assert_eq(cap_hrq(orgs, moving), None))
    assert "is not a project of organization" in answered(put_cap(billing_api, name, moving, {"pods": 3}), 403)["error"]
