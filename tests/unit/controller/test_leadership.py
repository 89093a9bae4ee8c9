"""One process's terms as its leadership comes and goes (the election on the in-memory apiserver, the
terms stand-ins): a term per leadership, never two at once, stopped when the Lease is lost, and a
graceful stop that stops writing before it hands the Lease over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from orgquota.controller.leadership import Replica
from orgquota.controller.settings import Settings
from orgquota.core.lease import LEASE_NAME
from orgquota.kube.fence import WriteFence
from orgquota.kube.lease import LEASE
from tests.support.fake_kube import FakeKube

PATH = LEASE.path("orgquota", LEASE_NAME)
FAST = Settings(leader_election=True, pod_id="a", lease_duration=1, lease_renew_deadline=0.5, lease_retry_period=0.1)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    for _ in range(int(within / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"not within {within}s")


class FakeTerm:
    """A term that takes `winding_down` seconds to end once asked to stop."""

    running: ClassVar[list[FakeTerm]] = []

    def __init__(self, fence: WriteFence | None, winding_down: float = 0.0) -> None:
        self.fence = fence
        self.winding_down = winding_down
        self.started = self.stopped = False
        self._ended = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self.stopped

    def start(self) -> None:
        assert not FakeTerm.running, "two terms at once"
        FakeTerm.running.append(self)
        self.started = True

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            asyncio.get_running_loop().call_later(self.winding_down, self._end)

    def _end(self) -> None:
        FakeTerm.running.remove(self)
        self._ended.set()

    async def ended(self) -> None:
        await self._ended.wait()


def term_maker(terms: list[FakeTerm], winding_down: float = 0.0) -> Callable[[WriteFence | None], FakeTerm]:
    def new_term(fence: WriteFence | None) -> FakeTerm:
        terms.append(FakeTerm(fence, winding_down))
        return terms[-1]

    return new_term


def test_without_election_one_term_runs_for_the_process_life_and_no_fence() -> None:
    async def scenario() -> None:
        terms: list[FakeTerm] = []
        lone = Replica(Settings(), term_maker(terms))
        leading = asyncio.create_task(lone.run())
        await until(lambda: bool(terms) and terms[0].started)
        assert terms[0].fence is None
        leading.cancel()
        await lone.shutdown()
        assert terms[0].stopped

    run(scenario)


def test_a_term_while_leading_stopped_when_the_lease_is_lost_and_a_new_one_after_it_ended() -> None:
    async def scenario() -> None:
        FakeTerm.running.clear()
        kube, terms = FakeKube(), list[FakeTerm]()
        leader = Replica(FAST, term_maker(terms, winding_down=0.3), kube)
        leading = asyncio.create_task(leader.run())
        await until(lambda: bool(terms) and terms[0].started)
        first = terms[0]
        assert first.fence is not None
        assert first.fence.is_open()
        kube.fail("PUT", PATH, 500, times=10)  # renews fail: the Lease is lost at the renew deadline
        await until(lambda: first.stopped)
        assert not first.fence.is_open()
        await until(lambda: len(terms) == 2 and terms[1].started)  # the apiserver is back: leads again
        assert terms[1].fence is not first.fence
        assert not first.fence.is_open()
        leading.cancel()
        await leader.shutdown()

    run(scenario)


def test_a_graceful_stop_closes_the_fence_waits_for_writes_then_hands_the_lease_over() -> None:
    async def scenario() -> None:
        FakeTerm.running.clear()
        kube, terms = FakeKube(), list[FakeTerm]()
        leader = Replica(FAST, term_maker(terms), kube)
        leading = asyncio.create_task(leader.run())
        await until(lambda: bool(terms) and terms[0].started)
        fence = terms[0].fence
        assert fence is not None
        lease_at_stop: list[str] = []
        answered = asyncio.Event()

        async def write_in_flight() -> None:
            with fence.writing("PATCH", "/x"):
                await answered.wait()
                lease = kube.stored(PATH)
                assert lease is not None
                lease_at_stop.append(lease["spec"].get("holderIdentity", ""))

        writing = asyncio.create_task(write_in_flight())
        await asyncio.sleep(0.01)
        leading.cancel()
        stopping = asyncio.create_task(leader.shutdown())
        await asyncio.sleep(0.05)
        assert not fence.is_open()
        assert terms[0].stopped
        answered.set()  # the write in flight is answered only now: the Lease was still held meanwhile
        await writing
        await stopping
        assert lease_at_stop == ["a"]
        lease = kube.stored(PATH)
        assert lease is not None
        assert "holderIdentity" not in lease["spec"]
        assert lease["spec"]["leaseDurationSeconds"] == 1

    run(scenario)
