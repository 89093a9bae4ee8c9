"""The grace-period clock and the stopping and restoring of workloads, on an in-memory apiserver:
what is written on the Organization and the workloads, and when nothing may be written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orgquota.core.annotations import PLAN_ID, PROVIDER_EVENT_CREATED, SUBSCRIPTION, SUSPENDED_AT
from orgquota.core.catalog import Catalog
from orgquota.core.lifecycle import PRE_SUSPEND_REPLICAS
from orgquota.kube.client import Resource
from tests.support.controller_harness import Harness, org_path, run

DEPLOYMENTS = Resource("apps", "v1", "deployments")
CRONJOBS = Resource("batch", "v1", "cronjobs")
SUSPENDED = {PLAN_ID: "pro-pool", SUBSCRIPTION: "suspended"}


def stamp(when: datetime) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%SZ}"


def org_annotations(h: Harness, name: str) -> dict[str, str]:
    body = h.kube.stored(org_path(name))
    assert body is not None
    return dict(body["metadata"].get("annotations") or {})


def with_workloads(h: Harness) -> None:
    """acme and its HNC child acme-dev, each with a Deployment at 3 replicas; a CronJob in acme."""
    h.kube.put("/api/v1/namespaces/acme-dev", {"metadata": {"labels": {"acme.tree.hnc.x-k8s.io/depth": "1"}}})
    for namespace in ("acme", "acme-dev"):
        h.kube.put(DEPLOYMENTS.path(namespace, "web"), {"spec": {"replicas": 3}})
    h.kube.put(CRONJOBS.path("acme", "nightly"), {"spec": {"suspend": False}})


def replicas(h: Harness, namespace: str) -> int:
    deployment = h.kube.stored(DEPLOYMENTS.path(namespace, "web"))
    assert deployment is not None
    return int(deployment["spec"]["replicas"])


def test_a_suspension_starts_the_clock_on_the_organization(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        before = datetime.now(UTC).replace(microsecond=0)
        h.add_org("acme", SUSPENDED)
        await h.converge()
        started = datetime.strptime(org_annotations(h, "acme")[SUSPENDED_AT], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert before <= started <= datetime.now(UTC)
        assert "GracePeriodStarted" in h.events.reasons()
        assert ("acme", "acme") in h.reconciler.queue._timers  # woken again before the warning is due

    run(scenario)


def test_an_expired_grace_period_cancels_and_stops_every_workload_of_the_tree(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog, grace_period=timedelta(days=7))
        with_workloads(h)
        h.add_org("acme", {**SUSPENDED, SUSPENDED_AT: stamp(datetime.now(UTC) - timedelta(days=8))})
        await h.converge()
        assert org_annotations(h, "acme")[SUBSCRIPTION] == "canceled"
        assert (replicas(h, "acme"), replicas(h, "acme-dev")) == (0, 0)
        cronjob = h.kube.stored(CRONJOBS.path("acme", "nightly"))
        assert cronjob is not None
        assert cronjob["spec"]["suspend"] is True
        assert h.status("acme")["workloadsStopped"] is True
        assert {"GracePeriodExpired", "WorkloadsStopped"} <= set(h.events.reasons())

    run(scenario)


def test_reactivation_restores_the_workloads_and_clears_the_clock(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        with_workloads(h)
        h.add_org("acme", {**SUSPENDED, SUSPENDED_AT: stamp(datetime.now(UTC) - timedelta(days=8))})
        await h.converge()
        h.annotate("acme", {SUBSCRIPTION: "active"})
        await h.converge()
        assert (replicas(h, "acme"), replicas(h, "acme-dev")) == (3, 3)
        deployment = h.kube.stored(DEPLOYMENTS.path("acme", "web"))
        assert deployment is not None
        assert PRE_SUSPEND_REPLICAS not in (deployment["metadata"].get("annotations") or {})
        assert SUSPENDED_AT not in org_annotations(h, "acme")
        assert h.status("acme")["workloadsStopped"] is False
        assert "WorkloadsRestored" in h.events.reasons()
        # replicas only through the scale subresource; the object itself only gets its memory annotation
        web = DEPLOYMENTS.path("acme", "web")
        writes = [(w.path, w.body) for w in h.kube.writes_to("PATCH", "deployments") if w.path.startswith(web)]
        assert [path.removeprefix(web) for path, _ in writes] == ["", "/scale", "/scale", ""]  # memory first, last
        assert all(set(body or {}) == {"metadata"} for path, body in writes if path == web)

    run(scenario)


def test_a_grace_period_about_to_end_warns_once(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog, grace_period=timedelta(days=7), grace_warning=timedelta(days=1))
        h.add_org("acme", {**SUSPENDED, SUSPENDED_AT: stamp(datetime.now(UTC) - timedelta(days=6, hours=12))})
        await h.converge()
        h.reconciler.set_catalog(catalog, None)  # looked at again: no second warning
        await h.converge()
        assert h.events.reasons().count("GracePeriodEnding") == 1
        assert org_annotations(h, "acme")[SUBSCRIPTION] == "suspended"  # warned, not canceled

    run(scenario)


def test_nothing_is_stopped_on_stale_memory(catalog: Catalog) -> None:
    """The apiserver says active while memory still says canceled (a standby's frozen memory):
    no workload is touched, memory takes the new annotations and the organization is looked at again."""

    async def scenario() -> None:
        h = Harness(catalog)
        with_workloads(h)
        h.add_org("acme", {PLAN_ID: "pro-pool", SUBSCRIPTION: "canceled"})
        body = h.kube.stored(org_path("acme"))
        assert body is not None
        body["metadata"]["annotations"][SUBSCRIPTION] = "active"
        h.kube.put(org_path("acme"), body)  # no watch event reaches the reconciler
        await h.converge()
        assert h.kube.writes_to(plural="deployments") == []
        assert replicas(h, "acme") == 3
        view = h.reconciler.inventory.get(("acme", "acme"))
        assert view is not None
        assert view.annotations[SUBSCRIPTION] == "active"
        assert h.status("acme")["mode"] == "plan"

    run(scenario)


def test_a_malformed_suspended_at_keeps_the_earliest_trustworthy_start(catalog: Catalog) -> None:
    """Someone overwrites a running clock with garbage (past admission): the grace period must not restart."""

    async def scenario() -> None:
        h = Harness(catalog, grace_period=timedelta(days=7))
        started = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
        h.add_org("acme", SUSPENDED | {SUSPENDED_AT: stamp(started)})
        await h.converge()  # the operator has read the valid start
        h.annotate("acme", {SUSPENDED_AT: "yesterday-ish"})
        await h.converge()
        assert org_annotations(h, "acme")[SUSPENDED_AT] == stamp(started)  # not now
        assert "SuspendedAtInvalid" in h.events.reasons()

        # a process that never read a valid one: the provider's time of the suspension is the start
        h = Harness(catalog, grace_period=timedelta(days=7))
        ended = started - timedelta(days=1)
        h.add_org("acme", SUSPENDED | {SUSPENDED_AT: "2026-13-45", PROVIDER_EVENT_CREATED: str(int(ended.timestamp()))})
        await h.converge()
        assert org_annotations(h, "acme")[SUSPENDED_AT] == stamp(ended)

    run(scenario)


def test_a_malformed_suspended_at_whose_trusted_start_is_over_cancels(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog, grace_period=timedelta(days=7))
        long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
        h.add_org("acme", SUSPENDED | {SUSPENDED_AT: "garbage", PROVIDER_EVENT_CREATED: str(int(long_ago.timestamp()))})
        await h.converge()
        assert org_annotations(h, "acme")[SUBSCRIPTION] == "canceled"  # no new week of grace

    run(scenario)
