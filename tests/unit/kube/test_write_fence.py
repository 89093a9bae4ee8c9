"""The write fence in the client: on the in-memory apiserver, no write of a replica that does not hold
the Lease (fresh) is sent, whoever in the operator asks for it, while reads go on; and a reconciler
whose replica lost the Lease writes nothing and says nothing per organization."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from prometheus_client import REGISTRY

from orgquota.core.catalog import Catalog
from orgquota.kube.client import CONFIGMAP
from orgquota.kube.events import EventRecorder
from orgquota.kube.fence import Fenced, WriteFence
from tests.support.controller_harness import Harness, hrq_path, run
from tests.support.fake_kube import FakeKube

PLAN = "billing.kube-dc.com/plan-id"
PATH = CONFIGMAP.path("kube-dc", "x")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fenced(method: str = "POST") -> float:
    return REGISTRY.get_sample_value("orgquota_fenced_writes_total", {"verb": method, "resource": "configmaps"}) or 0.0


def test_writes_pass_only_while_the_fence_is_open_and_fresh() -> None:
    async def scenario() -> None:
        clock = Clock()
        fence = WriteFence(clock)
        kube = FakeKube(fence=fence)
        with pytest.raises(Fenced):  # never renewed: not open
            await kube.create(CONFIGMAP.path("kube-dc"), {"metadata": {"name": "x"}})
        fence.extend(clock.now + 3)
        await kube.create(CONFIGMAP.path("kube-dc"), {"metadata": {"name": "x"}})
        await kube.merge_patch(PATH, {"data": {"a": "1"}})
        clock.now += 2.999
        await kube.merge_patch(PATH, {"data": {"a": "2"}})
        clock.now += 0.001  # the renew deadline: not renewed since
        before, sent = fenced("PATCH"), len(kube.writes)
        for write in (
            kube.merge_patch(PATH, {"data": {"a": "3"}}),
            kube.delete(PATH),
            kube.replace(PATH, {"metadata": {"name": "x"}}),
        ):
            with pytest.raises(Fenced):
                await write
        assert len(kube.writes) == sent  # refused before anything was sent
        assert fenced("PATCH") == before + 1
        assert (await kube.get(PATH) or {}).get("data") == {"a": "2"}  # reads go on
        fence.extend(clock.now + 3)
        await kube.merge_patch(PATH, {"data": {"a": "4"}})
        fence.close()
        fence.extend(clock.now + 60)  # a closed fence stays closed: a term that ended writes no more
        with pytest.raises(Fenced):
            await kube.merge_patch(PATH, {"data": {"a": "5"}})
        assert fence.in_flight == 0

    run(scenario)


def test_a_write_in_flight_is_counted_until_it_is_answered() -> None:
    async def scenario() -> None:
        fence = WriteFence()
        fence.extend(time.monotonic() + 60)
        answer = asyncio.Event()

        class SlowKube(FakeKube):
            async def _request_once(self, *args: object, **kwargs: object) -> dict[str, object]:
                await answer.wait()
                return {}

        writing = asyncio.create_task(SlowKube(fence=fence).merge_patch(PATH, {}))
        await asyncio.sleep(0.01)
        assert fence.in_flight == 1
        answer.set()
        await writing
        assert fence.in_flight == 0

    run(scenario)


def test_a_replica_that_lost_the_lease_writes_nothing_and_logs_nothing_per_organization(
    catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        fence = WriteFence()
        fence.extend(time.monotonic() + 60)
        harness = Harness(catalog, FakeKube(fence=fence))
        harness.add_org("acme", {PLAN: "dev-pool"})
        await harness.converge()
        assert harness.kube.stored(hrq_path("acme")) is not None
        written = len(harness.kube.writes)
        fence.close()  # the Lease is lost
        harness.annotate("acme", {PLAN: "pro-pool"})
        for name in ("beta", "gamma"):
            harness.add_org(name, {PLAN: "dev-pool"})
        events = asyncio.create_task(harness.reconciler.events.run())
        with caplog.at_level(logging.DEBUG):
            await harness.converge()
            await asyncio.sleep(0.05)
        events.cancel()
        assert len(harness.kube.writes) == written
        assert harness.kube.stored(hrq_path("beta")) is None
        logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        assert not [line for line in logged if "acme" in line or "beta" in line or "gamma" in line], logged

    run(scenario)


def test_events_are_dropped_silently_once_fenced(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        fence = WriteFence()
        kube = FakeKube(fence=fence)
        recorder = EventRecorder(kube)
        ref = {"apiVersion": "kube-dc.com/v1", "kind": "Organization", "namespace": "acme", "name": "acme"}
        await recorder.record(ref, "Normal", "QuotaUpdated", "plan pro-pool")
        sending = asyncio.create_task(recorder.run(senders=1))
        with caplog.at_level(logging.DEBUG):
            await asyncio.sleep(0.05)
        sending.cancel()
        assert kube.writes == []
        assert not caplog.records

    run(scenario)
