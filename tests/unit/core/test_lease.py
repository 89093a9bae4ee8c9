"""The election's decisions, one replica at a time: when to take the Lease, when to renew it, when
leading ends, and what is written (client-go's rules, on the replica's own clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orgquota.core.lease import Act, Leadership, LeaseRecord, LeaseTimings, newer

WALL = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
STAMP = "2025-01-02T03:04:05.678901Z"
TIMINGS = LeaseTimings(duration=5, renew_deadline=3, retry_period=1)


def leader(me: str = "a", at: float = 100.0) -> Leadership:
    """A replica that took a fresh Lease with a write sent at `at`."""
    leadership = Leadership(me, TIMINGS)
    leadership.saw(None, "", at)
    step = leadership.step(at, WALL)
    assert step.act is Act.WRITE
    assert step.record is not None
    leadership.wrote(at, step.record, "10", at + 0.01)
    return leadership


def test_nothing_is_decided_before_the_lease_is_read() -> None:
    assert Leadership("a", TIMINGS).step(0.0, WALL).act is Act.READ


def test_a_missing_lease_is_created() -> None:
    leadership = Leadership("a", TIMINGS)
    leadership.saw(None, "", 0.0)
    step = leadership.step(0.0, WALL)
    assert (step.act, step.version) == (Act.WRITE, "")
    assert step.record == LeaseRecord("a", 5, STAMP, STAMP, 0)
    assert step.record.spec() == {
        "holderIdentity": "a",
        "leaseDurationSeconds": 5,
        "acquireTime": STAMP,
        "renewTime": STAMP,
        "leaseTransitions": 0,
    }


def test_a_lease_held_by_another_is_taken_only_its_duration_after_this_replica_saw_it() -> None:
    leadership = Leadership("b", TIMINGS)
    held = LeaseRecord("a", 5, "x", "y", 3)
    leadership.saw(held, "7", 50.0)
    assert leadership.step(54.9, WALL) == leadership.step(50.0, WALL)
    assert (leadership.step(50.0, WALL).act, leadership.step(50.0, WALL).at) == (Act.WAIT, 55.0)
    step = leadership.step(55.0, WALL)
    assert (step.act, step.version) == (Act.WRITE, "7")
    assert step.record == LeaseRecord("b", 5, STAMP, STAMP, 4)


def test_every_renew_seen_starts_the_wait_again() -> None:
    """A joining replica never takes the Lease from a holder that keeps renewing it."""
    leadership = Leadership("b", TIMINGS)
    for second in range(60):
        leadership.saw(LeaseRecord("a", 5, "x", f"r{second}", 0), str(second + 1), float(second))
        assert leadership.step(second + 0.99, WALL).act is Act.WAIT
    assert not leadership.leading(60.0)


def test_a_released_or_own_lease_is_taken_at_once() -> None:
    released = Leadership("b", TIMINGS)
    released.saw(LeaseRecord("", 1, "x", "x", 2), "9", 10.0)
    step = released.step(10.0, WALL)
    assert (step.act, step.record) == (Act.WRITE, LeaseRecord("b", 5, STAMP, STAMP, 3))
    mine = Leadership("a", TIMINGS)  # the same identity again: a restarted container of the same pod
    mine.saw(LeaseRecord("a", 5, "then", "then", 2), "9", 10.0)
    step = mine.step(10.0, WALL)
    assert (step.act, step.record) == (Act.WRITE, LeaseRecord("a", 5, "then", STAMP, 2))


def test_the_holder_leads_until_its_renew_deadline_counted_from_the_send() -> None:
    leadership = leader(at=100.0)
    assert leadership.leading(100.0)
    assert leadership.leading(102.999)
    assert not leadership.leading(103.0)


def test_the_holder_renews_every_retry_period_with_the_version_it_wrote() -> None:
    leadership = leader(at=100.0)
    assert (leadership.step(100.5, WALL).act, leadership.step(100.5, WALL).at) == (Act.WAIT, 101.0)
    step = leadership.step(101.0, WALL)
    assert (step.act, step.version) == (Act.WRITE, "10")
    assert step.record is not None
    assert (step.record.holder, step.record.renewed) == ("a", STAMP)
    leadership.wrote(101.0, step.record, "11", 101.02)
    assert leadership.leading(103.9)


def test_a_holder_whose_renews_fail_stops_leading_at_its_deadline() -> None:
    leadership = leader(at=100.0)
    for now in (101.0, 102.2):
        assert leadership.step(now, WALL).act is Act.WRITE
        leadership.failed(now + 0.2)
        step = leadership.step(now + 0.3, WALL)  # no retry before the retry period
        assert step.act is Act.WAIT
        assert step.at == pytest.approx(min(now + 1.2, 103.0))
    assert leadership.leading(102.99)
    assert leadership.step(102.99, WALL).at == 103.0  # the retry is due later: it wakes to stop leading
    leadership.step(103.0, WALL)
    assert not leadership.leading(103.0)
    assert leadership.fresh_until is None


def test_seeing_another_holder_ends_leadership_at_once() -> None:
    leadership = leader(at=100.0)
    leadership.saw(LeaseRecord("b", 5, "x", "x", 1), "12", 100.5)
    assert not leadership.leading(100.5)
    assert leadership.step(100.5, WALL).act is Act.WAIT


def test_an_older_version_seen_late_is_ignored() -> None:
    """A watch event still in flight after the answer to a write says nothing new."""
    leadership = leader(at=100.0)  # wrote version 10
    leadership.saw(LeaseRecord("b", 5, "x", "x", 0), "9", 100.2)
    assert leadership.leading(100.2)
    assert leadership.sighting is not None
    assert leadership.sighting.version == "10"


def test_a_failed_read_is_retried_after_the_retry_period() -> None:
    leadership = Leadership("a", TIMINGS)
    leadership.failed(5.0)
    assert (leadership.step(5.5, WALL).act, leadership.step(5.5, WALL).at) == (Act.WAIT, 6.0)
    assert leadership.step(6.0, WALL).act is Act.READ


def test_a_conflict_has_the_lease_read_again() -> None:
    leadership = leader(at=100.0)
    leadership.outdated()
    assert leadership.step(100.1, WALL).act is Act.READ


def test_a_release_stops_leading_and_hands_the_lease_over() -> None:
    leadership = leader(at=100.0)
    step = leadership.release(WALL)
    assert not leadership.leading(100.1)
    assert step is not None
    assert (step.act, step.version) == (Act.WRITE, "10")
    assert step.record == LeaseRecord("", 1, STAMP, STAMP, 0)
    assert step.record.spec() == {
        "leaseDurationSeconds": 1,
        "acquireTime": STAMP,
        "renewTime": STAMP,
        "leaseTransitions": 0,
    }
    standby = Leadership("b", TIMINGS)
    standby.saw(LeaseRecord("a", 5, "x", "x", 0), "3", 0.0)
    assert standby.release(WALL) is None  # not its Lease: nothing to hand over


@pytest.mark.parametrize(
    ("duration", "renew_deadline", "retry_period"), [(5, 5, 1), (5, 3, 3), (5, 0, 0), (3, 4, 1), (5, 3, 0)]
)
def test_timings_must_leave_room_between_them(duration: int, renew_deadline: float, retry_period: float) -> None:
    with pytest.raises(ValueError, match="retry period"):
        LeaseTimings(duration, renew_deadline, retry_period)


def test_resource_versions_compare_as_integers() -> None:
    assert newer("10", "9")
    assert not newer("9", "10")
    assert not newer("10", "10")
    assert newer("abc", "10")  # opaque: any change is news
    assert newer("", "10")  # gone


def test_a_lease_as_the_apiserver_returns_it() -> None:
    lease = {"spec": {"holderIdentity": "pod-1", "leaseDurationSeconds": 5, "leaseTransitions": 2}}
    assert LeaseRecord.of(lease) == LeaseRecord("pod-1", 5, "", "", 2)
    assert LeaseRecord.of({}) == LeaseRecord()
