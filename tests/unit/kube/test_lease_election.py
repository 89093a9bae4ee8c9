"""The election on the in-memory apiserver, in real time with short timings (duration 1 s, renew
deadline 0.5 s, retry 0.1 s): who leads, when the fence opens and closes, how a crash, a graceful
stop, a failing apiserver and a newcomer play out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from orgquota.core.lease import LEASE_NAME, LeaseTimings
from orgquota.kube.fence import WriteFence
from orgquota.kube.lease import LEASE, Elector
from tests.support.fake_kube import FakeKube

FAST = LeaseTimings(duration=1, renew_deadline=0.5, retry_period=0.1)
NAMESPACE = "orgquota"
PATH = LEASE.path(NAMESPACE, LEASE_NAME)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


async def until(condition: Callable[[], bool], within: float = 5.0) -> float:
    """Wait for `condition` (polled: it changes in other tasks' time); the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if condition():
            return time.monotonic() - started
        await asyncio.sleep(0.005)
    raise AssertionError(f"not within {within}s")


class Candidate:
    """An Elector with what it was told recorded, running in a task of its own."""

    def __init__(self, kube: FakeKube, name: str) -> None:
        self.fences: list[WriteFence] = []
        self.deposed = 0
        self.on_elected: Callable[[WriteFence], None] = lambda _: None
        self.elector = Elector(kube, NAMESPACE, name, FAST, self._elected, self._deposed)
        self.task = asyncio.create_task(self.elector.run())

    def _elected(self, fence: WriteFence) -> None:
        self.fences.append(fence)
        self.on_elected(fence)

    def _deposed(self) -> None:
        self.deposed += 1

    @property
    def leads(self) -> bool:
        return bool(self.fences) and self.fences[-1].is_open()

    async def crash(self) -> None:
        """Gone without a word: no release, no more renews."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def stop(self) -> None:
        """A graceful stop: the loop ends, then the Lease is handed over."""
        await self.crash()
        await self.elector.release()


async def leader_and_standby(kube: FakeKube) -> tuple[Candidate, Candidate]:
    """`a` leads; `b` joined and has seen the Lease."""
    a = Candidate(kube, "a")
    await until(lambda: a.leads)
    b = Candidate(kube, "b")
    await asyncio.sleep(0.3)
    return a, b


def holder(kube: FakeKube) -> str:
    lease = kube.stored(PATH)
    assert lease is not None
    return str(lease["spec"].get("holderIdentity", ""))


def test_the_first_replica_creates_the_lease_and_keeps_it_while_it_renews() -> None:
    async def scenario() -> None:
        kube = FakeKube()
        a = Candidate(kube, "a")
        await until(lambda: a.leads)
        assert holder(kube) == "a"
        assert [w.method for w in kube.writes_to(plural="leases")][:1] == ["POST"]
        await asyncio.sleep(3 * FAST.duration)
        assert a.leads
        assert (len(a.fences), a.deposed) == (1, 0)
        assert len(kube.writes_to("PUT", "leases")) >= 20  # a renew every retry period
        await a.crash()

    run(scenario)


def test_a_newcomer_never_takes_over_from_a_healthy_leader() -> None:
    async def scenario() -> None:
        kube = FakeKube()
        a, b = await leader_and_standby(kube)
        await asyncio.sleep(3 * FAST.duration)
        assert not b.fences
        assert holder(kube) == "a"
        assert a.leads
        await a.crash()
        await b.crash()

    run(scenario)


def test_a_crashed_leader_is_replaced_after_the_lease_duration_and_never_overlaps() -> None:
    async def scenario() -> None:
        kube = FakeKube()
        a, b = await leader_and_standby(kube)
        overlaps: list[bool] = []
        b.on_elected = lambda _: overlaps.append(a.fences[-1].is_open())
        await a.crash()
        fenced_after = await until(lambda: not a.fences[-1].is_open())
        assert fenced_after <= FAST.renew_deadline + 0.05  # its own clock closes its fence: no one has to tell it
        took_over = fenced_after + await until(lambda: b.leads)
        assert FAST.duration - FAST.retry_period <= took_over <= FAST.duration + 3 * FAST.retry_period
        assert overlaps == [False]
        assert holder(kube) == "b"
        lease = kube.stored(PATH)
        assert lease is not None
        assert lease["spec"]["leaseTransitions"] == 1
        await b.crash()

    run(scenario)


def test_a_graceful_stop_hands_the_lease_over_at_once() -> None:
    async def scenario() -> None:
        kube = FakeKube()
        a, b = await leader_and_standby(kube)
        stopped = time.monotonic()
        await a.stop()
        assert not a.fences[-1].is_open()
        await until(lambda: b.leads)
        assert time.monotonic() - stopped < FAST.duration / 2
        assert holder(kube) == "b"
        await b.crash()

    run(scenario)


def test_a_leader_that_cannot_renew_stops_at_its_deadline_and_leads_again_later() -> None:
    async def scenario() -> None:
        kube = FakeKube()
        a = Candidate(kube, "a")
        await until(lambda: a.leads)
        first = a.fences[-1]
        kube.fail("PUT", PATH, 500, times=20)  # the apiserver refuses every renew for a while
        lost_after = await until(lambda: a.deposed == 1)
        assert lost_after <= FAST.renew_deadline + FAST.retry_period
        assert not first.is_open()
        await until(lambda: len(a.fences) == 2)  # the apiserver is back: nobody else took it
        assert a.leads
        first.extend(time.monotonic() + 60)
        assert not first.is_open()  # a closed fence never opens again: the old term stays fenced
        await a.crash()

    run(scenario)


def test_a_leader_that_sees_another_holder_stops_at_once() -> None:
    async def scenario() -> None:
        kube = FakeKube()
        a = Candidate(kube, "a")
        await until(lambda: a.leads)
        lease = kube.stored(PATH)
        assert lease is not None
        lease["spec"]["holderIdentity"] = "intruder"
        kube.put(PATH, lease)  # e.g. someone edits the Lease by hand
        assert await until(lambda: a.deposed == 1) < FAST.retry_period
        assert not a.fences[-1].is_open()
        await a.crash()

    run(scenario)


def test_a_release_outdated_by_a_late_renew_is_read_and_sent_again() -> None:
    async def scenario() -> None:
        kube = FakeKube()
        a = Candidate(kube, "a")
        await until(lambda: a.leads)
        await a.crash()
        lease = kube.stored(PATH)
        assert lease is not None
        kube.put(PATH, lease)  # a's last renew landed after its answer was given up: a newer version, still a's
        await a.elector.release()
        assert holder(kube) == ""

    run(scenario)
