"""The reconciler's decisions on an in-memory apiserver: what it writes, what it does not, and
what the status and Events say. (tests/e2e/quota runs the same against a real apiserver.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from orgquota.controller.model import Issue
from orgquota.core.annotations import MANAGED_LABEL, PLAN_ID, SUBSCRIPTION
from orgquota.core.catalog import Catalog
from orgquota.core.desired import QuotaSettings, desired_quota
from orgquota.kube.client import KubeError
from tests.support.controller_harness import Harness, hrq_path, limit_range_path, org_path, run
from tests.support.fake_kube import Location

PRO = {PLAN_ID: "pro-pool"}


def cpu_of(annotations: dict[str, str], catalog: Catalog) -> str:
    """The HRQ's requests.cpu the annotations call for (desired_quota's own arithmetic is tested elsewhere)."""
    return str(desired_quota(annotations, catalog, QuotaSettings()).hard["requests.cpu"])


def test_a_new_organization_gets_its_quota_objects_a_ready_status_and_one_event(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", PRO)
        await h.converge()
        hrq = h.kube.stored(hrq_path("acme"))
        assert hrq is not None
        assert hrq["spec"]["hard"]["requests.cpu"] == cpu_of(PRO, catalog)
        assert hrq["metadata"]["labels"][MANAGED_LABEL] == "true"
        assert h.kube.stored(limit_range_path("acme")) is not None
        assert [w.method for w in h.kube.writes] == ["POST", "POST", "PATCH"]  # HRQ, LimitRange, status
        assert h.condition("acme")["status"] == "True"
        assert h.condition("acme")["reason"] == "Applied"
        assert h.status("acme")["plan"] == "pro-pool"
        assert h.events.reasons() == ["QuotaCreated"]

    run(scenario)


def test_a_converged_organization_costs_no_request_when_looked_at_again(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", PRO)
        await h.converge()
        h.kube.writes.clear()
        h.kube.reads.clear()
        h.reconciler.set_catalog(catalog, None)  # every organization is checked again
        await h.converge()
        assert h.kube.writes == []
        assert h.kube.reads == []

    run(scenario)


def test_a_plan_change_patches_only_what_differs(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", {PLAN_ID: "dev-pool"})
        await h.converge()
        h.kube.writes.clear()
        h.annotate("acme", PRO)
        await h.converge()
        patched = [w.path for w in h.kube.writes_to("PATCH")]
        assert patched == [hrq_path("acme"), limit_range_path("acme"), org_path("acme") + "/status"]
        assert h.kube.writes_to("POST") == []
        assert h.events.reasons()[-1] == "QuotaUpdated"
        assert f"-> {cpu_of(PRO, catalog)}" in h.events.recorded[-1][2]

    run(scenario)


def test_the_status_records_the_billing_inputs_enforced_and_only_once_they_are(catalog: Catalog) -> None:
    """`status.applied` is what readers compare with the annotations to tell a pending change."""

    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", {PLAN_ID: "dev-pool", SUBSCRIPTION: "active"})
        await h.converge()
        assert h.status("acme")["applied"] == {"planId": "dev-pool", "subscription": "active"}
        h.kube.fail("PATCH", hrq_path("acme"), 500)
        h.annotate("acme", PRO)
        with pytest.raises(KubeError):
            await h.reconciler.reconcile(("acme", "acme"))
        assert h.status("acme")["applied"] == {"planId": "dev-pool", "subscription": "active"}  # not enforced yet
        h.reconciler.queue.add(("acme", "acme"))
        async with asyncio.timeout(5):
            while h.status("acme")["applied"].get("planId") != "pro-pool":
                await h.converge()
                await asyncio.sleep(0.05)

    run(scenario)


def test_an_input_removed_leaves_the_recorded_ones_and_is_written_once(catalog: Catalog) -> None:
    """A merge patch keeps what it does not null: the removed input must be nulled in `applied`, or the
    status would keep it, differ from every later decision, and be written again at each reconcile."""

    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", {PLAN_ID: "dev-pool", SUBSCRIPTION: "active"})
        await h.converge()
        h.annotate("acme", {SUBSCRIPTION: None})
        await h.converge()
        assert h.status("acme")["applied"] == {"planId": "dev-pool"}
        written = len(h.kube.writes_to("PATCH"))
        h.reconciler.queue.add(("acme", "acme"))
        await h.converge()
        assert len(h.kube.writes_to("PATCH")) == written

    run(scenario)


def test_an_outside_edit_of_the_quota_is_restored_and_said_so(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", PRO)
        await h.converge()
        hrq = h.kube.stored(hrq_path("acme"))
        assert hrq is not None
        hrq["spec"]["hard"]["requests.cpu"] = "100"
        h.reconciler.observe_object("hrq", h.kube.put(hrq_path("acme"), hrq))  # the watch event of the edit
        await h.converge()
        restored = h.kube.stored(hrq_path("acme"))
        assert restored is not None
        assert restored["spec"]["hard"]["requests.cpu"] == cpu_of(PRO, catalog)
        assert h.events.reasons() == ["QuotaCreated", "QuotaRestored"]
        assert "changed outside the operator" in h.events.recorded[-1][2]

    run(scenario)


def test_the_echo_of_the_operators_own_write_causes_no_reconcile(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", PRO)
        await h.converge()
        h.kube.writes.clear()
        hrq = h.kube.stored(hrq_path("acme"))
        assert hrq is not None
        h.reconciler.observe_object("hrq", hrq)
        assert len(h.reconciler.queue) == 0

    run(scenario)


def test_removing_the_plan_deletes_the_managed_objects(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", PRO)
        await h.converge()
        h.annotate("acme", {PLAN_ID: None})
        await h.converge()
        assert h.kube.stored(hrq_path("acme")) is None
        assert h.kube.stored(limit_range_path("acme")) is None
        assert h.events.reasons()[-1] == "QuotaDeleted"
        assert (h.status("acme")["mode"], h.condition("acme")["reason"]) == ("none", "NoPlan")

    run(scenario)


def test_a_deleted_organization_has_its_objects_removed(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        body = h.add_org("acme", PRO)
        await h.converge()
        h.reconciler.observe_org(body, deleted=True)
        await h.converge()
        assert h.kube.stored(hrq_path("acme")) is None
        assert h.kube.stored(limit_range_path("acme")) is None

    run(scenario)


def test_a_limit_range_of_someone_else_is_left_alone_and_the_status_says_why(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        theirs = h.kube.put(limit_range_path("acme"), {"spec": {"limits": []}})
        h.reconciler.observe_object("lr", theirs)
        h.add_org("acme", PRO)
        await h.converge()
        assert h.kube.writes_to(plural="limitranges") == []
        assert h.condition("acme")["status"] == "False"
        assert h.condition("acme")["reason"] == "LimitRangeNotManaged"
        assert h.events.reasons()[-1] == "LimitRangeNotManaged"
        assert h.kube.stored(hrq_path("acme")) is not None  # the quota itself is still enforced

    run(scenario)


def test_without_a_catalog_nothing_is_written_but_the_status(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(None)
        h.add_org("acme", PRO)
        await h.converge()
        assert [w.path for w in h.kube.writes] == [org_path("acme") + "/status"]
        assert h.condition("acme")["reason"] == "CatalogMissing"
        assert "no quota was changed" in h.condition("acme")["message"]

    run(scenario)


def test_an_invalid_catalog_keeps_the_last_good_one_and_the_status_says_so(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", PRO)
        await h.converge()
        h.kube.writes.clear()
        h.reconciler.set_catalog(None, Issue("CatalogInvalid", "the catalog is invalid"))
        await h.converge()
        assert [w.path for w in h.kube.writes] == [org_path("acme") + "/status"]
        assert h.condition("acme")["reason"] == "CatalogInvalid"
        assert h.kube.stored(hrq_path("acme")) is not None

    run(scenario)


def test_a_missing_hrq_api_is_reported_and_retried_later(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.kube.fail("POST", "/apis/hnc.x-k8s.io/v1alpha2/namespaces/acme/hierarchicalresourcequotas", 404)
        h.add_org("acme", PRO)
        await h.converge()
        assert h.condition("acme")["reason"] == "HNCNotInstalled"
        assert "hnc.x-k8s.io/v1alpha2" in h.condition("acme")["message"]
        assert h.reconciler.queue._timers  # a retry is scheduled (in HNC_RETRY_SECONDS)

    run(scenario)


def test_a_failed_write_is_retried_until_it_succeeds(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        collection = "/apis/hnc.x-k8s.io/v1alpha2/namespaces/acme/hierarchicalresourcequotas"
        h.kube.fail("POST", collection, 500)
        h.add_org("acme", PRO)
        with pytest.raises(KubeError):
            await h.reconciler.reconcile(("acme", "acme"))
        assert h.kube.stored(hrq_path("acme")) is None
        h.kube.fail("POST", collection, 500)
        h.reconciler.queue.add(("acme", "acme"))
        await h.converge()  # the second failure is retried by the queue (after its backoff)
        async with asyncio.timeout(5):
            while h.kube.stored(hrq_path("acme")) is None or h.status("acme").get("ready") is not True:
                await h.converge()
                await asyncio.sleep(0.05)

    run(scenario)


def test_a_refused_write_is_reported_as_apply_failed(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.kube.fail("POST", "/api/v1/namespaces/acme/limitranges", 422)
        h.add_org("acme", PRO)
        with pytest.raises(KubeError):
            await h.reconciler.reconcile(("acme", "acme"))
        await h.converge()
        assert h.events.reasons()[:2] == ["QuotaCreated", "ApplyFailed"]  # the HRQ was written before

    run(scenario)


def test_a_stale_cache_meeting_an_existing_object_patches_it_instead(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.kube.put(hrq_path("acme"), {"spec": {"hard": {"requests.cpu": "1"}}, "metadata": {"labels": {}}})
        h.add_org("acme", PRO)  # the watch has not delivered the HRQ: the cache says there is none
        await h.converge()
        methods = [(w.method, w.path) for w in h.kube.writes_to(plural="hierarchicalresourcequotas")]
        assert methods == [
            ("POST", "/apis/hnc.x-k8s.io/v1alpha2/namespaces/acme/hierarchicalresourcequotas"),
            ("PATCH", hrq_path("acme")),
        ]
        hrq = h.kube.stored(hrq_path("acme"))
        assert hrq is not None
        assert hrq["spec"]["hard"]["requests.cpu"] == cpu_of(PRO, catalog)

    run(scenario)


def test_a_suspended_organization_gets_the_floor_quota(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", {**PRO, SUBSCRIPTION: "suspended"})
        await h.converge()
        hrq = h.kube.stored(hrq_path("acme"))
        assert hrq is not None
        assert hrq["spec"]["hard"]["requests.cpu"] == cpu_of({**PRO, SUBSCRIPTION: "suspended"}, catalog)
        assert (h.status("acme")["mode"], h.condition("acme")["reason"]) == ("floor", "Suspended")

    run(scenario)


def test_at_start_the_organizations_changed_last_are_reconciled_first(catalog: Catalog) -> None:
    """A new leader's initial list: the plan changed while no replica led must not wait behind the others."""

    async def scenario() -> None:
        harness = Harness(catalog, workers=1)
        bodies = [
            harness.kube.put(org_path(name), {"metadata": {"annotations": {PLAN_ID: "dev-pool"}}}) for name in "abc"
        ]
        changed = harness.kube.put(org_path("a"), {"metadata": {"annotations": {PLAN_ID: "pro-pool"}}})

        async def pages() -> AsyncIterator[list[dict[str, Any]]]:
            yield [changed, *bodies[1:]]  # listed by name, as the apiserver does

        await harness.reconciler.observe_initial_list(pages())
        await harness.converge()
        created = [Location.of(w.path).namespace for w in harness.kube.writes_to("POST", "hierarchicalresourcequotas")]
        assert created == ["a", "c", "b"]

    run(scenario)
