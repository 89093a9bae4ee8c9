"""The operator's trial clock on an in-memory apiserver: a trial ends at `trial-ends-at` by a timer, with its
Events; one a provider subscription carries is never ended by it; the faked clock moves time by a setting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from orgquota.core import annotations as ann
from orgquota.core.catalog import Catalog
from orgquota.core.timestamps import format_rfc3339
from tests.support.controller_harness import Harness, hrq_path, org_path, run


def trialing(ends: datetime, **more: str) -> dict[str, str]:
    return {ann.PLAN_ID: "pro-pool", ann.SUBSCRIPTION: "trialing", ann.TRIAL_ENDS_AT: format_rfc3339(ends), **more}


def stored(h: Harness, name: str = "acme") -> dict[str, str]:
    body = h.kube.stored(org_path(name))
    assert body is not None
    return dict(body["metadata"].get("annotations") or {})


def hard_cpu(h: Harness, name: str = "acme") -> str:
    hrq = h.kube.stored(hrq_path(name))
    assert hrq is not None
    return str(hrq["spec"]["hard"]["requests.cpu"])


def test_a_trial_that_ended_while_nobody_looked_is_suspended_at_once(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", trialing(datetime.now(UTC) - timedelta(hours=1)))
        await h.converge()
        assert stored(h)[ann.SUBSCRIPTION] == "suspended"
        assert ann.SUSPENDED_AT in stored(h)
        assert stored(h)[ann.TRIAL_ENDS_AT]  # kept: the one trial is used
        assert hard_cpu(h) == "500m"  # the floor
        assert h.events.reasons().count("TrialEnded") == 1

    run(scenario)


def test_the_timer_ends_the_trial_at_its_end_not_before(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", trialing(datetime.now(UTC) + timedelta(seconds=1.5)))
        await h.converge()
        assert stored(h)[ann.SUBSCRIPTION] == "trialing"
        assert "TrialEnding" in h.events.reasons()  # within 3 days of the end
        assert hard_cpu(h) != "500m"
        workers = asyncio.create_task(h.reconciler.run())
        try:
            deadline = asyncio.get_running_loop().time() + 10
            while stored(h)[ann.SUBSCRIPTION] != "suspended":
                assert asyncio.get_running_loop().time() < deadline, "the trial was not ended by its timer"
                await asyncio.sleep(0.01)
            ended_at = datetime.now(UTC)
        finally:
            workers.cancel()
            await asyncio.gather(workers, return_exceptions=True)
        await h.converge()
        ends = datetime.fromisoformat(stored(h)[ann.TRIAL_ENDS_AT].replace("Z", "+00:00"))
        assert ends <= ended_at < ends + timedelta(seconds=3)
        assert hard_cpu(h) == "500m"

    run(scenario)


def test_a_faked_clock_ends_a_trial_of_two_weeks_now(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog, clock_offset=timedelta(days=15))
        h.add_org("acme", trialing(datetime.now(UTC) + timedelta(days=14)))
        await h.converge()
        assert stored(h)[ann.SUBSCRIPTION] == "suspended"

    run(scenario)


def test_a_trial_far_from_its_end_only_sets_a_timer(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", trialing(datetime.now(UTC) + timedelta(days=10)))
        await h.converge()
        assert stored(h)[ann.SUBSCRIPTION] == "trialing"
        assert "TrialEnding" not in h.events.reasons()
        timer = h.reconciler.queue._timers[("acme", "acme")]
        due_in = timer.when() - asyncio.get_running_loop().time()
        assert timedelta(days=7) - timedelta(seconds=5) < timedelta(seconds=due_in) <= timedelta(days=7)

    run(scenario)


def test_a_trial_a_provider_subscription_carries_is_left_to_the_provider(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        past = datetime.now(UTC) - timedelta(days=1)
        h.add_org("acme", trialing(past, **{ann.PROVIDER_SUBSCRIPTION_ID: "sub_1"}))
        await h.converge()
        assert stored(h)[ann.SUBSCRIPTION] == "trialing"
        assert "TrialEnded" not in h.events.reasons()

    run(scenario)


def test_a_subscription_before_the_end_keeps_the_plan(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", trialing(datetime.now(UTC) + timedelta(seconds=1)))
        await h.converge()
        h.annotate("acme", {ann.SUBSCRIPTION: "active"})
        await h.converge()
        await asyncio.sleep(1.5)
        await h.converge()
        assert stored(h)[ann.SUBSCRIPTION] == "active"
        assert "TrialEnded" not in h.events.reasons()

    run(scenario)


def test_the_end_is_written_only_on_the_organization_as_it_was_seen(catalog: Catalog) -> None:
    """One request per ended trial, conditional on the version last seen: a subscription written meanwhile
    (not yet seen by the operator) makes it read again and end nothing."""

    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", trialing(datetime.now(UTC) - timedelta(minutes=1)))
        h.kube.annotate("acme", {ann.SUBSCRIPTION: "active"})  # the watch has not delivered it yet
        await h.converge()
        assert stored(h)[ann.SUBSCRIPTION] == "active"
        assert "TrialEnded" not in h.events.reasons()

    run(scenario)


def test_an_unchanged_organization_is_ended_by_one_conditional_write(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        h.add_org("acme", trialing(datetime.now(UTC) - timedelta(minutes=1)))
        await h.converge()
        assert stored(h)[ann.SUBSCRIPTION] == "suspended"
        ends = [w.body for w in h.kube.writes if w.path == org_path("acme") and w.method == "PATCH" and w.body]
        assert len(ends) == 1
        assert ends[0] is not None
        assert ends[0]["metadata"]["resourceVersion"]

    run(scenario)
