"""The operator's project caps on the in-memory apiserver: HRQs `project-cap` written, changed,
restored and removed, an unreadable annotation changing nothing, and a restart writing nothing.
(tests/e2e/quota/test_project_caps.py runs the same against a real apiserver with HNC.)"""

from __future__ import annotations

import json
from typing import Any

from orgquota.core.annotations import MANAGED_LABEL, PLAN_ID
from orgquota.core.catalog import Catalog
from orgquota.core.project_caps import CAP_NAME, ORGANIZATION_LABEL, PROJECT_CAPS
from orgquota.kube.client import HRQ, NAMESPACE_PATH, ORGANIZATION, KubeError, Manifest
from tests.support.controller_harness import Harness, hrq_path, limit_range_path, org_path, run
from tests.support.fake_kube import FakeKube

PRO = {PLAN_ID: "pro-pool"}


def cap_path(namespace: str) -> str:
    return HRQ.path(namespace, CAP_NAME)


def caps(**entries: dict[str, Any]) -> dict[str, str]:
    return {**PRO, PROJECT_CAPS: json.dumps({ns.replace("_", "-"): cap for ns, cap in entries.items()})}


def namespace(name: str, *ancestors: str) -> Manifest:
    labels = {f"{name}.tree.hnc.x-k8s.io/depth": "0"}
    labels |= {f"{a}.tree.hnc.x-k8s.io/depth": str(depth) for depth, a in enumerate(ancestors, start=1)}
    return {"metadata": {"name": name, "labels": labels}}


def with_projects(h: Harness, *names: str, org: str = "acme") -> None:
    for name in names:
        h.reconciler.caps.observe_namespace(h.kube.put(f"{NAMESPACE_PATH}/{name}", namespace(name, org)))


def hard(h: Harness, ns: str) -> dict[str, str] | None:
    found = h.kube.stored(cap_path(ns))
    return None if found is None else dict(found["spec"]["hard"])


def test_a_cap_becomes_an_hrq_in_the_project_with_the_managed_labels_and_no_owner(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        with_projects(h, "acme-dev")
        h.add_org("acme", caps(acme_dev={"cpu": "2", "memory": "4Gi", "pods": 20}))
        await h.converge()
        hrq = h.kube.stored(cap_path("acme-dev"))
        assert hrq is not None
        assert hrq["spec"]["hard"] == {"requests.cpu": "2", "requests.memory": "4Gi", "pods": "20"}
        labels = hrq["metadata"]["labels"]
        assert (labels[MANAGED_LABEL], labels[ORGANIZATION_LABEL], labels[PLAN_ID]) == ("true", "acme", "pro-pool")
        assert "ownerReferences" not in hrq["metadata"]
        assert h.condition("acme")["reason"] == "Applied"
        assert "Created HierarchicalResourceQuota acme-dev/project-cap: requests.cpu=2" in h.events.recorded[0][2]

    run(scenario)


def test_caps_change_and_go_with_the_annotation_and_a_converged_one_costs_nothing(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        with_projects(h, "acme-dev", "acme-prod")
        h.add_org("acme", caps(acme_dev={"cpu": "2"}, acme_prod={"pods": 5}))
        await h.converge()
        h.kube.writes.clear()
        h.kube.reads.clear()
        h.reconciler.set_catalog(catalog, None)
        await h.converge()
        assert (h.kube.writes, h.kube.reads) == ([], [])

        h.annotate("acme", caps(acme_dev={"cpu": "3"}))
        await h.converge()
        assert hard(h, "acme-dev") == {"requests.cpu": "3"}
        assert hard(h, "acme-prod") is None
        message = h.events.recorded[-1][2]
        assert "Updated HierarchicalResourceQuota acme-dev/project-cap: requests.cpu 2 -> 3" in message
        assert "Deleted HierarchicalResourceQuota acme-prod/project-cap: the cap was removed" in message

        h.annotate("acme", {PROJECT_CAPS: None})
        await h.converge()
        assert hard(h, "acme-dev") is None

    run(scenario)


def test_a_namespace_outside_the_tree_gets_no_cap_and_one_that_leaves_loses_it(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        with_projects(h, "acme-dev")
        with_projects(h, "beta-x", org="beta")
        h.add_org("acme", caps(acme_dev={"cpu": "2"}, beta_x={"cpu": "1"}))
        await h.converge()
        assert hard(h, "beta-x") is None
        assert hard(h, "acme-dev") == {"requests.cpu": "2"}
        with_projects(h, "acme-dev", org="beta")  # moved under another organization
        await h.converge()
        assert hard(h, "acme-dev") is None
        assert "the namespace left the organization's tree" in h.events.recorded[-1][2]
        with_projects(h, "acme-dev")  # and back
        await h.converge()
        assert hard(h, "acme-dev") == {"requests.cpu": "2"}

    run(scenario)


def test_an_unreadable_annotation_changes_no_cap_and_the_status_says_why(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        with_projects(h, "acme-dev")
        h.add_org("acme", caps(acme_dev={"cpu": "2"}))
        await h.converge()
        h.kube.writes.clear()
        h.annotate("acme", {PROJECT_CAPS: '{"acme-dev": {"cpu": "-2"}}'})
        await h.converge()
        assert hard(h, "acme-dev") == {"requests.cpu": "2"}
        assert [w.path for w in h.kube.writes] == [org_path("acme") + "/status"]
        condition = h.condition("acme")
        assert (condition["status"], condition["reason"]) == ("False", "InvalidProjectCaps")
        assert "[acme-dev].cpu: '-2' is negative; no project cap was changed" in condition["message"]
        assert "plan pro-pool with no add-ons is enforced" in condition["message"]
        assert h.events.recorded[-1][:2] == ("Warning", "InvalidProjectCaps")

    run(scenario)


def test_an_outside_edit_or_deletion_of_a_cap_is_restored(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        with_projects(h, "acme-dev")
        h.add_org("acme", caps(acme_dev={"cpu": "2"}))
        await h.converge()
        hrq = h.kube.stored(cap_path("acme-dev"))
        assert hrq is not None
        hrq["spec"]["hard"]["requests.cpu"] = "200"
        h.reconciler.caps.observe_object(h.kube.put(cap_path("acme-dev"), hrq))
        await h.converge()
        assert hard(h, "acme-dev") == {"requests.cpu": "2"}
        assert h.events.reasons()[-1] == "QuotaRestored"
        gone = h.kube.stored(cap_path("acme-dev"))
        assert gone is not None
        h.kube.drop(cap_path("acme-dev"))
        h.reconciler.caps.observe_object(gone, deleted=True)
        await h.converge()
        assert hard(h, "acme-dev") == {"requests.cpu": "2"}

    run(scenario)


def test_someone_elses_project_cap_is_left_alone_and_said_so(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        with_projects(h, "acme-dev")
        theirs = h.kube.put(cap_path("acme-dev"), {"spec": {"hard": {"pods": "1"}}})
        h.reconciler.caps.observe_object(theirs)
        h.add_org("acme", caps(acme_dev={"cpu": "2"}))
        await h.converge()
        assert hard(h, "acme-dev") == {"pods": "1"}
        assert h.condition("acme")["reason"] == "ProjectCapNotManaged"

    run(scenario)


def test_a_deleted_organization_or_project_takes_its_caps_along(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        with_projects(h, "acme-dev", "acme-prod")
        body = h.add_org("acme", caps(acme_dev={"cpu": "2"}, acme_prod={"cpu": "1"}))
        await h.converge()
        # The project is deleted: its namespace is terminating and its HRQ goes with it; nothing is recreated.
        terminating = namespace("acme-prod", "acme")
        terminating["metadata"]["deletionTimestamp"] = "2026-11-03T10:00:00Z"
        h.reconciler.caps.observe_namespace(terminating)
        gone = h.kube.stored(cap_path("acme-prod"))
        assert gone is not None
        h.kube.drop(cap_path("acme-prod"))
        h.reconciler.caps.observe_object(gone, deleted=True)
        h.kube.writes.clear()
        await h.converge()
        assert h.kube.writes_to(plural="hierarchicalresourcequotas") == []
        # The organization is deleted: the garbage collector cannot know its caps, the operator does.
        h.reconciler.observe_org(body, deleted=True)
        await h.converge()
        assert hard(h, "acme-dev") is None

    run(scenario)


def test_a_restart_writes_nothing_and_removes_the_caps_of_an_organization_deleted_meanwhile(
    catalog: Catalog,
) -> None:
    async def scenario() -> None:
        first = Harness(catalog)
        with_projects(first, "acme-dev")
        with_projects(first, "beta-x", org="beta")
        first.add_org("acme", caps(acme_dev={"cpu": "2", "pods": 3}))
        first.add_org("beta", caps(beta_x={"pods": 1}))
        await first.converge()
        kube = first.kube
        for path in (org_path("beta"), hrq_path("beta"), limit_range_path("beta")):  # deleted (and collected)
            kube.drop(path)  # while no operator runs
        kube.writes.clear()

        again = Harness(catalog, kube)
        await again.reconciler.prime()
        await again.reconciler.observe_initial_list(kube.pages(ORGANIZATION.path("")))
        await again.converge()
        assert [(w.method, w.path) for w in kube.writes] == [("DELETE", cap_path("beta-x"))]
        assert hard(again, "acme-dev") == {"requests.cpu": "2", "pods": "3"}

    run(scenario)


class GoneNamespaces(FakeKube):
    """Refuses writes into namespaces that no longer exist, as the apiserver does."""

    gone: set[str]

    async def request(self, method: str, path: str, body: Manifest | None = None, **kwargs: Any) -> Manifest:
        if method == "POST" and any(f"/namespaces/{ns}/" in path for ns in self.gone):
            namespace_name = path.split("/namespaces/")[1].split("/")[0]
            raise KubeError(method, path, 404, f'namespaces "{namespace_name}" not found', "NotFound")
        return await super().request(method, path, body, **kwargs)


def test_a_cap_for_a_namespace_just_deleted_is_given_up_without_retrying(catalog: Catalog) -> None:
    async def scenario() -> None:
        kube = GoneNamespaces()
        kube.gone = {"acme-dev"}
        h = Harness(catalog, kube)
        with_projects(h, "acme-dev")  # the watch has not said yet that it is gone
        h.add_org("acme", caps(acme_dev={"cpu": "2"}))
        await h.converge()
        assert h.condition("acme")["reason"] == "Applied"
        assert len(kube.writes_to("POST", "hierarchicalresourcequotas")) == 1  # the plan's; the cap's was refused

    run(scenario)
