"""The subscription lifecycle, pure: the grace-period clock and what happens to workloads.

The clock is the `suspended-at` annotation, not process memory, so every decision here is a
function of the annotations and the time: a restart changes nothing, and only suspended
organizations ever need a wake-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final

from orgquota.core import annotations as ann
from orgquota.core.timestamps import parse_rfc3339

PRE_SUSPEND_REPLICAS: Final = ann.PREFIX + "pre-suspend-replicas"
PRE_SUSPEND_SUSPEND: Final = ann.PREFIX + "pre-suspend-suspend"


class Clock(Enum):
    NOTHING = "nothing"
    START = "start"
    """suspended without a suspended-at: the operator starts the clock now"""
    REPAIR = "repair"
    """suspended-at cannot be read: the operator writes the earliest trustworthy start instead (never
    a later one: a malformed value must not restart the grace period)"""
    WARN = "warn"
    """the grace period ends soon"""
    CANCEL = "cancel"
    """the grace period is over: subscription becomes canceled"""
    CLEAR = "clear"
    """no longer suspended: the old clock must not cut the next suspension short"""


@dataclass(frozen=True)
class ClockDecision:
    action: Clock
    expires: datetime | None = None
    wake_in: timedelta | None = None
    """when to look again (only while suspended)"""
    started: datetime | None = None
    """REPAIR: the start to write"""


def trusted_start(annotations: Mapping[str, str], remembered: datetime | None, now: datetime) -> datetime:
    """The earliest time the suspension is known to have run since: the last valid suspended-at this
    process read, or the provider's time of the last billing message applied (a suspension written
    with it began no earlier than that), else now."""
    times = [now] if remembered is None else [now, remembered]
    raw = annotations.get(ann.PROVIDER_EVENT_CREATED, "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 12:
        times.append(datetime.fromtimestamp(int(raw), now.tzinfo))
    return min(times)


def grace_ends(annotations: Mapping[str, str], grace: timedelta) -> datetime | None:
    """When the grace period of a suspended organization ends (None: not suspended, or its clock is
    not started or cannot be read: the operator is about to write it)."""
    if annotations.get(ann.SUBSCRIPTION) != ann.Subscription.SUSPENDED:
        return None
    try:
        return parse_rfc3339(annotations.get(ann.SUSPENDED_AT) or "") + grace
    except ValueError:
        return None


def grace_clock(
    annotations: Mapping[str, str],
    now: datetime,
    grace: timedelta,
    warning: timedelta,
    remembered: datetime | None = None,
) -> ClockDecision:
    """The clock's next step; `remembered` is the last valid suspended-at seen (for a REPAIR)."""
    subscription = annotations.get(ann.SUBSCRIPTION, ann.Subscription.ACTIVE)
    raw = annotations.get(ann.SUSPENDED_AT)
    if subscription != ann.Subscription.SUSPENDED:
        # Only a state that gives the plan back ends the clock: a canceled organization keeps it as
        # a record, and an unknown value (`' suspended'`, a typo) must not restart the grace period.
        back = subscription in ann.FULL_PLAN_STATES
        return ClockDecision(Clock.CLEAR if raw is not None and back else Clock.NOTHING)
    if raw is None:
        return ClockDecision(Clock.START, now + grace, max(grace - warning, timedelta(0)))
    try:
        started = parse_rfc3339(raw)
    except ValueError:
        started = trusted_start(annotations, remembered, now)
        return ClockDecision(Clock.REPAIR, started + grace, timedelta(0), started)
    expires = started + grace
    if now >= expires:
        return ClockDecision(Clock.CANCEL, expires)
    if now >= expires - warning:
        return ClockDecision(Clock.WARN, expires, expires - now)
    return ClockDecision(Clock.NOTHING, expires, expires - warning - now)


SCALABLE: Final = ("Deployment", "StatefulSet")


def suspend_patch(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The patch that stops a Deployment, StatefulSet or CronJob, remembering how it was; None if stopped."""
    annotations = obj.get("metadata", {}).get("annotations") or {}
    spec = obj.get("spec") or {}
    if obj.get("kind") in SCALABLE:
        replicas = spec.get("replicas", 1)
        patch: dict[str, Any] = {} if replicas == 0 else {"spec": {"replicas": 0}}
        if PRE_SUSPEND_REPLICAS not in annotations:
            patch["metadata"] = {"annotations": {PRE_SUSPEND_REPLICAS: str(replicas)}}
        return patch or None
    suspended = bool(spec.get("suspend"))
    patch = {} if suspended else {"spec": {"suspend": True}}
    if PRE_SUSPEND_SUSPEND not in annotations:
        patch["metadata"] = {"annotations": {PRE_SUSPEND_SUSPEND: str(suspended).lower()}}
    return patch or None


def restore_patch(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The patch that puts back what `suspend_patch` remembered; None if there is nothing to restore.

    Rule for objects changed while canceled: a value that is no longer the one the operator
    set (replicas 0, suspend true) was set by someone since, and is kept; only the memory
    annotation is removed.
    """
    annotations = obj.get("metadata", {}).get("annotations") or {}
    spec = obj.get("spec") or {}
    if obj.get("kind") in SCALABLE:
        if PRE_SUSPEND_REPLICAS not in annotations:
            return None
        patch: dict[str, Any] = {"metadata": {"annotations": {PRE_SUSPEND_REPLICAS: None}}}
        remembered = annotations[PRE_SUSPEND_REPLICAS]
        if spec.get("replicas") == 0 and remembered.isdigit():
            patch["spec"] = {"replicas": int(remembered)}
        return patch
    if PRE_SUSPEND_SUSPEND not in annotations:
        return None
    patch = {"metadata": {"annotations": {PRE_SUSPEND_SUSPEND: None}}}
    if spec.get("suspend") is True:
        patch["spec"] = {"suspend": annotations[PRE_SUSPEND_SUSPEND] == "true"}
    return patch
