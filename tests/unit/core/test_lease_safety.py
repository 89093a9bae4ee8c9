"""Never two leaders at once, and a crashed leader replaced: replicas run by the operator's own
decisions (`core.lease.Leadership`) against one apiserver that accepts a write only for the
version it holds, with clocks up to 10 % fast or slow, requests and watch events that take up to
0.3 s, pauses (SIGSTOP) of up to 12 s, crashes and graceful releases, all chosen by hypothesis.

A replica "believes it leads" while `Leadership.leading(its clock)`: the write fence's test. The
election runs on a simulated timeline, so a minute of it takes milliseconds.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from orgquota.core.lease import Act, Leadership, LeaseRecord, LeaseTimings, Step

TIMINGS = LeaseTimings()
SKEW = 0.1
"""clocks run at (1 +- SKEW) x real time: well inside the 25 % the default timings allow"""
LATENCY = 0.3
END = 60.0
WALL = datetime(2025, 1, 1, tzinfo=UTC)

Answer = tuple[LeaseRecord | None, str | None]
"""what the apiserver answered: the Lease and its version (for a write: None when it was refused, 409)"""


@dataclass
class Apiserver:
    record: LeaseRecord | None = None
    version: int = 0

    @property
    def current(self) -> str:
        return str(self.version) if self.record is not None else ""

    def write(self, expected: str, record: LeaseRecord) -> str | None:
        """An update of `expected` (a create when empty); None: another version is there (409)."""
        if expected != self.current:
            return None
        self.version += 1
        self.record = record
        return self.current


@dataclass
class Replica:
    name: str
    rate: float
    offset: float
    pauses: list[tuple[float, float]]
    dies_at: float = math.inf
    releases_at: float = math.inf
    leadership: Leadership = field(init=False)
    wake: int = 0
    """the generation of the pending wake-up (a newer one replaces it)"""
    in_flight: bool = False
    releasing: bool = False
    """stopping gracefully: it leads no more and only hands the Lease over"""
    watched_until: float = 0.0
    """when the last watch event reached it: a watch delivers in order"""

    def __post_init__(self) -> None:
        self.leadership = Leadership(self.name, TIMINGS)

    def clock(self, t: float) -> float:
        return self.offset + self.rate * t

    def real(self, local: float) -> float:
        """The real time its clock shows `local` (rounded up: never a moment early)."""
        return (local - self.offset) / self.rate + 1e-9

    def resumed(self, t: float) -> float:
        """When a replica that has something to do at `t` gets to do it (after any pause)."""
        for start, end in sorted(self.pauses):
            if start <= t < end:
                t = end
        return t

    def leads(self, t: float) -> bool:
        return t < self.dies_at and self.leadership.leading(self.clock(t))


Answered = Callable[["Replica", Step, float, float, Answer], None]


class Election:
    def __init__(self, replicas: list[Replica], rng: random.Random) -> None:
        self.replicas = replicas
        self.server = Apiserver()
        self.rng = rng
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self.first_led: dict[str, float] = {}

    def at(self, t: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (t, next(self._order), action))

    def latency(self) -> float:
        return self.rng.uniform(0, LATENCY)

    def run(self) -> None:
        for replica in self.replicas:
            self.at(0.0, lambda r=replica: self.drive(r, r.wake))  # type: ignore[misc]
            if replica.releases_at < replica.dies_at:
                self.at(replica.releases_at, lambda r=replica: self.release(r))  # type: ignore[misc]
        while self._queue and self._queue[0][0] < END:
            self.now, _, action = heapq.heappop(self._queue)
            action()
            self.check()

    def check(self) -> None:
        leaders = [r.name for r in self.replicas if r.leads(self.now)]
        assert len(leaders) <= 1, f"two leaders at {self.now:.3f}: {leaders}"
        for name in leaders:
            self.first_led.setdefault(name, self.now)

    def later(self, replica: Replica, t: float, action: Callable[[], None]) -> None:
        """`action` when the replica gets to it: after a pause; never once it died."""
        t = replica.resumed(t)
        if t < replica.dies_at:
            self.at(t, action)

    def drive(self, replica: Replica, wake: int) -> None:
        if wake != replica.wake or replica.in_flight or replica.releasing or self.now >= replica.dies_at:
            return
        local = replica.clock(self.now)
        step = replica.leadership.step(local, WALL)
        if step.act is Act.WAIT:
            replica.wake += 1
            self.later(replica, replica.real(step.at), lambda w=replica.wake: self.drive(replica, w))  # type: ignore[misc]
            return
        replica.in_flight = True
        self.request(replica, step, local)

    def request(self, replica: Replica, step: Step, sent: float, then: Answered | None = None) -> None:
        """A read or write sent now; the apiserver handles it after a latency even if the sender has
        paused or died meanwhile; the answer is taken when the sender can (as the Elector, with the
        same time limit)."""
        leadership = replica.leadership
        until = leadership.fresh_until if leadership.leading(sent) else sent + TIMINGS.renew_deadline
        assert until is not None

        def arrive() -> None:
            if step.act is Act.READ:
                answer: Answer = (self.server.record, self.server.current)
            else:
                assert step.record is not None
                answer = (step.record, self.server.write(step.version, step.record))
                if answer[1] is not None:
                    self.broadcast()
            answered = then or self.answered
            self.later(replica, self.now + self.latency(), lambda: answered(replica, step, sent, until, answer))

        self.at(self.now + self.latency(), arrive)

    def answered(self, replica: Replica, step: Step, sent: float, until: float, answer: Answer) -> None:
        replica.in_flight = False
        local = replica.clock(self.now)
        leadership = replica.leadership
        record, version = answer
        if replica.releasing:
            return  # stopping: the answer is no one's business any more
        if step.act is Act.WRITE and local > until:
            leadership.failed(local)  # the Elector gave up waiting (it may have been written all the same)
        elif step.act is Act.READ:
            assert version is not None
            leadership.saw(record, version, local)
        elif version is None:
            leadership.outdated()
        else:
            assert record is not None
            leadership.wrote(sent, record, version, local)
        replica.wake += 1
        self.drive(replica, replica.wake)

    def broadcast(self) -> None:
        """The watch: every replica sees each new version, in order, a latency later."""
        record, version = self.server.record, self.server.current
        for replica in self.replicas:
            replica.watched_until = max(replica.watched_until, self.now + self.latency())
            self.later(replica, replica.watched_until, lambda r=replica: self.watched(r, record, version))  # type: ignore[misc]

    def watched(self, replica: Replica, record: LeaseRecord | None, version: str) -> None:
        replica.leadership.saw(record, version, replica.clock(self.now))
        if not replica.in_flight:
            replica.wake += 1
            self.drive(replica, replica.wake)

    def release(self, replica: Replica) -> None:
        """A graceful stop: leading ends now and the release write goes out (as `Elector.release`: after
        a conflict, the Lease is read and the release tried again while it still names this replica)."""
        if self.now >= replica.dies_at:
            return
        replica.releasing = True
        self.hand_over(replica)

    def hand_over(self, replica: Replica) -> None:
        step = replica.leadership.release(WALL)
        if step is None:
            replica.dies_at = self.now
            return
        self.request(replica, step, replica.clock(self.now), self.released)

    def released(self, replica: Replica, step: Step, sent: float, until: float, answer: Answer) -> None:
        record, version = answer
        if step.act is Act.READ:
            assert version is not None
            replica.leadership.saw(record, version, replica.clock(self.now))
            self.hand_over(replica)
        elif version is None:  # outdated: read it, then try again
            self.request(replica, Step(Act.READ), replica.clock(self.now), self.released)
        else:
            replica.dies_at = self.now


@st.composite
def replicas(draw: st.DrawFn, count: int) -> list[Replica]:
    made = []
    for index in range(count):
        pauses = draw(
            st.lists(st.tuples(st.floats(0, END), st.floats(0, 12)).map(lambda p: (p[0], p[0] + p[1])), max_size=3)
        )
        rate = draw(st.one_of(st.sampled_from([1 - SKEW, 1.0, 1 + SKEW]), st.floats(1 - SKEW, 1 + SKEW)))
        fate = draw(st.sampled_from(["lives", "dies", "releases"]))
        when = draw(st.floats(0, END))
        made.append(
            Replica(
                name=f"r{index}",
                rate=rate,
                offset=draw(st.floats(-1000, 1000)),
                pauses=pauses,
                dies_at=when if fate == "dies" else math.inf,
                releases_at=when if fate == "releases" else math.inf,
            )
        )
    return made


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 3).flatmap(replicas), st.integers(0, 2**32))
def test_never_two_leaders_at_once(group: list[Replica], seed: int) -> None:
    Election(group, random.Random(seed)).run()


@settings(max_examples=100, deadline=None)
@given(
    st.floats(1 - SKEW, 1 + SKEW),
    st.floats(1 - SKEW, 1 + SKEW),
    st.floats(10, 40),
    st.booleans(),
    st.integers(0, 2**32),
)
def test_a_crashed_or_stopped_leader_is_replaced_in_time(
    rate_a: float, rate_b: float, end_at: float, graceful: bool, seed: int
) -> None:
    """The first replica leads (it starts alone); when it crashes the other leads within the Lease's
    duration (as its clock counts it) plus the retry period and the requests' latencies; when it
    releases the Lease, within a few latencies (the longest way: its last renew still in flight
    outdates the release, which is read and sent again, then watched and taken)."""
    first = Replica("a", rate_a, 0.0, [], dies_at=math.inf if graceful else end_at)
    first.releases_at = end_at if graceful else math.inf
    second = Replica("b", rate_b, 50.0, [(0.0, 5.0)])  # joins 5 s later: never takes over from a healthy one
    election = Election([first, second], random.Random(seed))
    election.run()
    assert election.first_led["a"] < 5.0
    took_over = election.first_led["b"]
    assert took_over >= end_at
    bound = 9 * LATENCY if graceful else TIMINGS.duration / (1 - SKEW) + TIMINGS.retry_period + 5 * LATENCY
    assert took_over - end_at <= bound


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 2.5), st.sampled_from(["ok", "failed", "outdated"])), max_size=40))
def test_a_holder_that_misses_its_deadline_fences_itself(outcomes: list[tuple[float, str]]) -> None:
    """Whatever its writes meet and however late: it leads only within the renew deadline of the
    last successful write it sent (nobody has to tell it)."""
    leadership = Leadership("a", TIMINGS)
    leadership.saw(None, "", 0.0)
    now, version, last_success = 0.0, 0, -math.inf
    for delay, outcome in outcomes:
        step = leadership.step(now, WALL)
        if step.act is Act.WRITE:
            assert step.record is not None
            if outcome == "ok":
                version += 1
                leadership.wrote(now, step.record, str(version), now + delay / 10)
                last_success = now
            elif outcome == "failed":
                leadership.failed(now + delay / 10)
            else:
                leadership.outdated()
        elif step.act is Act.READ:
            leadership.saw(LeaseRecord("a", 5, "", "", 0), str(version), now)
        now += delay
        for probe in (now, now + 0.001, now + TIMINGS.renew_deadline):
            if leadership.leading(probe):
                assert probe < last_success + TIMINGS.renew_deadline
