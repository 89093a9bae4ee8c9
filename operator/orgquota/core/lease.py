"""Leadership by a `coordination.k8s.io` Lease: what one replica does next, decided from what it
saw of the Lease and from its own clock (the rules of client-go's leader election).

Every time is the deciding replica's own monotonic clock, started from something it did or saw
itself: the holder counts from when it *sent* its last successful renew, the others from when
they first *saw* the Lease's current version. Timestamps another replica wrote (`renewTime`) are
for people only, so clocks that disagree do not matter, only clocks that run at different rates.
The holder stops writing `renew_deadline` after that send; another replica takes over no sooner
than `duration` after it saw the same version, and a renew or a take-over is an update
conditional on the version it read, so at most one of two racing writers succeeds. Two replicas
can never both believe they hold the Lease while `renew_deadline x (1 + e) / (1 - e)` stays below
`duration` for clocks whose rates differ from real time by at most e (25 % with 3 s and 5 s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

LEASE_NAME: Final = "orgquota-leader"
RELEASED_DURATION: Final = 1
"""seconds a released Lease is held by no one before any replica may take it (it has no holder, so
a replica that sees the release takes it at once)"""


@dataclass(frozen=True)
class LeaseTimings:
    duration: int = 5
    """seconds a Lease not renewed stays taken, as the others count from when they saw it"""
    renew_deadline: float = 3.0
    """seconds after its last successful renew was sent that the holder stops writing"""
    retry_period: float = 1.0
    """seconds between renews, and between attempts to take a Lease"""

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.duration:
            raise ValueError(
                f"need 0 < retry period ({self.retry_period}) < renew deadline ({self.renew_deadline}) "
                f"< duration ({self.duration})"
            )


@dataclass(frozen=True)
class LeaseRecord:
    """The Lease's spec, as every replica reads and writes it."""

    holder: str = ""
    duration: int = 0
    acquired: str = ""
    renewed: str = ""
    transitions: int = 0

    @classmethod
    def of(cls, lease: Mapping[str, Any]) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            duration=int(spec.get("leaseDurationSeconds") or 0),
            acquired=str(spec.get("acquireTime") or ""),
            renewed=str(spec.get("renewTime") or ""),
            transitions=int(spec.get("leaseTransitions") or 0),
        )

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "holderIdentity": self.holder or None,
            "leaseDurationSeconds": self.duration,
            "acquireTime": self.acquired or None,
            "renewTime": self.renewed or None,
            "leaseTransitions": self.transitions,
        }
        return {key: value for key, value in spec.items() if value is not None}


def micro_time(when: datetime) -> str:
    """Kubernetes' MicroTime, as Leases carry their times."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def newer(version: str, than: str) -> bool:
    """Whether resourceVersion `version` is later than `than`, for two versions of one object: as
    integers, which Kubernetes guarantees them to compare as (comparable resource versions,
    stable since 1.35); any other change of an opaque version counts as newer."""
    if version.isdigit() and than.isdigit():
        return int(version) > int(than)
    return version != than


@dataclass(frozen=True)
class Sighting:
    """The Lease as this replica last saw it (None: no Lease exists), and when it first saw that version."""

    record: LeaseRecord | None
    version: str
    seen_at: float


class Act(StrEnum):
    READ = "read"
    """read the Lease: nothing is known of it, or a write met a newer version"""
    WRITE = "write"
    """write `Step.record`: create the Lease if `Step.version` is empty, else update that version"""
    WAIT = "wait"
    """nothing to do before `Step.at` (or before the Lease changes)"""


@dataclass(frozen=True)
class Step:
    act: Act
    at: float = 0.0
    record: LeaseRecord | None = None
    version: str = ""


@dataclass
class Leadership:
    """One replica's side of the election: the driver (`orgquota.kube.lease`) asks `step` what to do,
    does it, and reports what it saw (`saw`) and how its writes ended (`wrote`, `outdated`, `failed`)."""

    me: str
    timings: LeaseTimings = field(default_factory=LeaseTimings)
    sighting: Sighting | None = None
    fresh_until: float | None = None
    """while leading: the instant (own clock) it must stop writing unless it renews before"""
    last_sent: float = 0.0
    """when the last successful write was sent"""
    retry_at: float = 0.0
    """no write before this (after a failed one)"""

    def leading(self, now: float) -> bool:
        return self.fresh_until is not None and now < self.fresh_until

    def step(self, now: float, wall: datetime) -> Step:
        """What to do at `now` (own monotonic clock); `wall` only stamps what is written, for people."""
        if self.fresh_until is not None and now >= self.fresh_until:
            self.fresh_until = None  # missed its deadline: fenced, and a candidate like any other
        if now < self.retry_at:  # after a failure; a holder wakes at its deadline to stop leading
            return Step(Act.WAIT, min(self.retry_at, self.fresh_until or self.retry_at))
        sighting = self.sighting
        if sighting is None:
            return Step(Act.READ)
        record = sighting.record
        if self.fresh_until is not None:
            renew_at = self.last_sent + self.timings.retry_period
            if now < renew_at:
                return Step(Act.WAIT, min(renew_at, self.fresh_until))
            assert record is not None
            return Step(Act.WRITE, record=self.renewed(record, wall), version=sighting.version)
        if record is None:
            return Step(Act.WRITE, record=self.taken(None, wall))
        if record.holder in ("", self.me):
            return Step(Act.WRITE, record=self.taken(record, wall), version=sighting.version)
        expires = sighting.seen_at + record.duration
        if now < expires:
            return Step(Act.WAIT, expires)
        return Step(Act.WRITE, record=self.taken(record, wall), version=sighting.version)

    def saw(self, record: LeaseRecord | None, version: str, now: float) -> None:
        """The Lease read or watched: a newer version than the last one seen starts its clock now, and
        if it names another holder (or none) ends this replica's leadership whatever its clock says.
        An older one (a watch event still in flight after a write's answer) is ignored."""
        if self.sighting is not None and not newer(version, self.sighting.version):
            return
        self.sighting = Sighting(record, version, now)
        if record is None or record.holder != self.me:
            self.fresh_until = None

    def wrote(self, sent_at: float, record: LeaseRecord, version: str, now: float) -> None:
        """A write sent at `sent_at` succeeded: the Lease is this replica's until `sent_at + renew_deadline`."""
        self.sighting = Sighting(record, version, now)
        if record.holder == self.me:
            self.last_sent = sent_at
            self.fresh_until = sent_at + self.timings.renew_deadline
        self.retry_at = 0.0

    def outdated(self) -> None:
        """A write met another version (409): read the Lease again before anything else."""
        self.sighting = None

    def failed(self, now: float) -> None:
        """A write or read failed otherwise: try again after the retry period (while fresh, still leading)."""
        self.retry_at = now + self.timings.retry_period

    def release(self, wall: datetime) -> Step | None:
        """The write that hands the Lease over at once on a graceful stop (None: not this replica's).
        Writing stops first: the fence is closed from here on, whatever the write's outcome."""
        self.fresh_until = None
        sighting = self.sighting
        if sighting is None or sighting.record is None or sighting.record.holder != self.me:
            return None
        stamp = micro_time(wall)
        record = replace(sighting.record, holder="", duration=RELEASED_DURATION, acquired=stamp, renewed=stamp)
        return Step(Act.WRITE, record=record, version=sighting.version)

    def taken(self, record: LeaseRecord | None, wall: datetime) -> LeaseRecord:
        stamp = micro_time(wall)
        if record is not None and record.holder == self.me:
            return replace(record, duration=self.timings.duration, renewed=stamp)
        transitions = record.transitions + 1 if record is not None else 0
        return LeaseRecord(self.me, self.timings.duration, stamp, stamp, transitions)

    def renewed(self, record: LeaseRecord, wall: datetime) -> LeaseRecord:
        return replace(record, duration=self.timings.duration, renewed=micro_time(wall))
