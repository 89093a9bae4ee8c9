from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orgquota.core.annotations import PROVIDER_EVENT_CREATED, SUBSCRIPTION, SUSPENDED_AT
from orgquota.core.lifecycle import (
    PRE_SUSPEND_REPLICAS,
    PRE_SUSPEND_SUSPEND,
    Clock,
    grace_clock,
    grace_ends,
    restore_patch,
    suspend_patch,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GRACE, WARNING = timedelta(days=7), timedelta(days=1)


def clock(subscription: str | None, suspended_at: str | None = None) -> Any:
    annotations = {k: v for k, v in ((SUBSCRIPTION, subscription), (SUSPENDED_AT, suspended_at)) if v is not None}
    return grace_clock(annotations, NOW, GRACE, WARNING)


def test_suspension_without_a_clock_starts_it() -> None:
    decision = clock("suspended")
    assert (decision.action, decision.expires, decision.wake_in) == (Clock.START, NOW + GRACE, GRACE - WARNING)


def test_an_unreadable_clock_is_repaired_with_its_earliest_trustworthy_start_never_restarted() -> None:
    decision = clock("suspended", "yesterday")
    assert (decision.action, decision.started) == (Clock.REPAIR, NOW)  # nothing earlier is known: now
    earlier = NOW - timedelta(days=2)
    remembered = grace_clock({SUBSCRIPTION: "suspended", SUSPENDED_AT: "x"}, NOW, GRACE, WARNING, earlier)
    assert (remembered.started, remembered.expires) == (earlier, earlier + GRACE)
    provider = {
        SUBSCRIPTION: "suspended",
        SUSPENDED_AT: "x",
        PROVIDER_EVENT_CREATED: str(int(earlier.timestamp()) - 60),
    }
    assert grace_clock(provider, NOW, GRACE, WARNING, earlier).started == earlier - timedelta(minutes=1)  # earliest
    future = {SUBSCRIPTION: "suspended", SUSPENDED_AT: "x", PROVIDER_EVENT_CREATED: str(int(NOW.timestamp()) + 999)}
    assert grace_clock(future, NOW, GRACE, WARNING).started == NOW  # never later than now


def test_within_the_grace_period_nothing_happens_until_the_warning() -> None:
    decision = clock("suspended", "2026-11-22T12:00:00Z")  # two days in
    assert decision.action == Clock.NOTHING
    assert decision.wake_in == timedelta(days=4)  # the warning is due at day six


def test_warning_before_expiry() -> None:
    decision = clock("suspended", "2026-11-18T00:00:00Z")  # 6.5 days in
    assert (decision.action, decision.wake_in) == (Clock.WARN, timedelta(hours=12))


@pytest.mark.parametrize("started", ["2026-11-17T12:00:00Z", "2026-01-01T00:00:00+02:00"])
def test_expired_grace_cancels(started: str) -> None:
    assert clock("suspended", started).action == Clock.CANCEL


def test_reactivation_clears_the_clock_and_canceled_keeps_it() -> None:
    assert clock("active", "2026-11-17T12:00:00Z").action == Clock.CLEAR
    assert clock(None, "2026-11-17T12:00:00Z").action == Clock.CLEAR
    assert clock("canceled", "2026-11-17T12:00:00Z").action == Clock.NOTHING
    assert clock("active").action == Clock.NOTHING


def deployment(replicas: int, **annotations: str) -> dict[str, Any]:
    return {"kind": "Deployment", "metadata": {"annotations": annotations}, "spec": {"replicas": replicas}}


def cronjob(suspend: bool | None, **annotations: str) -> dict[str, Any]:
    spec = {} if suspend is None else {"suspend": suspend}
    return {"kind": "CronJob", "metadata": {"annotations": annotations}, "spec": spec}


def applied(obj: dict[str, Any], patch: dict[str, Any] | None) -> dict[str, Any]:
    """A JSON merge patch applied to `obj` (enough of RFC 7386 for these objects)."""
    if patch is None:
        return obj
    result = dict(obj)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = applied(result[key], value)
        else:
            result[key] = value
    return result


@pytest.mark.parametrize("replicas", [0, 1, 3])
def test_scale_down_and_back(replicas: int) -> None:
    stopped = applied(deployment(replicas), suspend_patch(deployment(replicas)))
    assert stopped["spec"]["replicas"] == 0
    assert stopped["metadata"]["annotations"] == {PRE_SUSPEND_REPLICAS: str(replicas)}
    assert suspend_patch(stopped) is None  # idempotent
    assert applied(stopped, restore_patch(stopped)) == deployment(replicas)


def test_scaled_up_while_canceled_is_stopped_again_keeping_the_memory() -> None:
    meddled = deployment(5, **{PRE_SUSPEND_REPLICAS: "2"})
    assert suspend_patch(meddled) == {"spec": {"replicas": 0}}


def test_a_user_change_is_not_clobbered_on_restore() -> None:
    changed = deployment(4, **{PRE_SUSPEND_REPLICAS: "2"})
    assert restore_patch(changed) == {"metadata": {"annotations": {PRE_SUSPEND_REPLICAS: None}}}


@pytest.mark.parametrize("suspend", [None, False, True])
def test_cronjob_suspend_and_back(suspend: bool | None) -> None:
    stopped = applied(cronjob(suspend), suspend_patch(cronjob(suspend)))
    assert stopped["spec"]["suspend"] is True
    assert stopped["metadata"]["annotations"] == {PRE_SUSPEND_SUSPEND: str(bool(suspend)).lower()}
    assert suspend_patch(stopped) is None
    assert applied(stopped, restore_patch(stopped))["spec"]["suspend"] is bool(suspend)


def test_nothing_to_restore() -> None:
    assert restore_patch(deployment(2)) is None
    assert restore_patch(cronjob(False)) is None


def test_garbage_memory_is_dropped_without_scaling() -> None:
    assert restore_patch(deployment(0, **{PRE_SUSPEND_REPLICAS: "lots"})) == {
        "metadata": {"annotations": {PRE_SUSPEND_REPLICAS: None}}
    }


@pytest.mark.parametrize("suspended_at", ["2026-11-20T10:00:00Z", "2026-11-20T11:00:00+01:00"])
def test_the_grace_period_ends_where_the_clock_acts(suspended_at: str) -> None:
    """What the billing API shows (`graceEndsAt`) is the end the operator's clock cancels at."""
    annotations = {SUBSCRIPTION: "suspended", SUSPENDED_AT: suspended_at}
    ends = grace_ends(annotations, GRACE)
    assert ends == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert grace_clock(annotations, ends, GRACE, WARNING).action == Clock.CANCEL
    assert grace_clock(annotations, ends - timedelta(seconds=1), GRACE, WARNING).action == Clock.WARN


@pytest.mark.parametrize(
    "annotations",
    [
        {},
        {SUBSCRIPTION: "active", SUSPENDED_AT: "2026-11-20T10:00:00Z"},
        {SUBSCRIPTION: "suspended"},
        {SUBSCRIPTION: "suspended", SUSPENDED_AT: "later"},
    ],
)
def test_no_grace_end_without_a_running_clock(annotations: dict[str, str]) -> None:
    assert grace_ends(annotations, GRACE) is None
