"""Quota pressure: which quotas of an organization are at their warning or critical level.

The state lives in `status.alerts` (`[{resource, level, percent, since}]`), so the operator decides
every new state from the recorded one: a restart or a failover that reads the status back decides
exactly the same, and a transition (hence an Event) happens once. A level is reached at or above
its threshold and held until usage falls `HYSTERESIS_POINTS` below it, so usage hovering at a
threshold does not flap. One level per resource: critical implies warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final

from orgquota.core.alert_thresholds import HYSTERESIS_POINTS, AlertThresholds
from orgquota.core.timestamps import format_rfc3339

CONDITION_TYPE: Final = "QuotaPressure"
WARNING_EVENT: Final = "QuotaWarning"
CRITICAL_EVENT: Final = "QuotaCritical"
RECOVERED_EVENT: Final = "QuotaRecovered"


class Level(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


CONSEQUENCES: Final = {
    "cpu": "new pods that request CPU will be refused",
    "memory": "new pods that request memory will be refused",
    "storage": "new volume claims will be refused",
    "pods": "no more pods can be created",
    "services_loadbalancers": "no more LoadBalancer services can be created",
    "public_ipv4": "no more public IPv4 addresses can be allocated",
}
"""what a full quota means, in words, by `resource` (the series' names, SPEC §9)"""


def percent_of(used: Fraction, hard: Fraction) -> Fraction:
    return used / hard * 100


def next_level(previous: Level | None, percent: Fraction, thresholds: AlertThresholds) -> Level | None:
    """The level at `percent` for a resource that was at `previous`: reached at or above a threshold,
    kept until `HYSTERESIS_POINTS` below it (a critical one falls back to warning while that holds)."""
    critical, warning = thresholds.criticalPercent, thresholds.warningPercent
    if percent >= critical or (previous == Level.CRITICAL and percent >= critical - HYSTERESIS_POINTS):
        return Level.CRITICAL
    if percent >= warning or (previous is not None and percent >= warning - HYSTERESIS_POINTS):
        return Level.WARNING
    return None


def shown_percent(percent: Fraction) -> int | float:
    """Rounded down to a tenth, so a shown 80 is never below a threshold of 80."""
    tenths = Fraction(math.floor(percent * 10), 10)
    return int(tenths) if tenths.denominator == 1 else float(tenths)


def recorded_levels(alerts: Sequence[Mapping[str, Any]] | None) -> dict[str, Level]:
    """The level of each resource in a `status.alerts` (an entry that is not ours is ignored)."""
    levels: dict[str, Level] = {}
    for alert in alerts or ():
        if isinstance(alert, Mapping) and alert.get("level") in tuple(Level) and isinstance(alert.get("resource"), str):
            levels[alert["resource"]] = Level(alert["level"])
    return levels


def assess(
    recorded: Sequence[Mapping[str, Any]] | None,
    used: Mapping[str, Fraction],
    hard: Mapping[str, Fraction],
    thresholds: AlertThresholds,
    now: datetime,
) -> list[dict[str, Any]]:
    """The new `status.alerts` from the recorded one and usage against hard limits (by `resource`).

    A resource with no limit, or a limit of 0 (not offered at all), is never under pressure; its
    excess is the OverQuota condition's business. `since` moves only when the level changes.
    """
    before = recorded_levels(recorded)
    since = {alert["resource"]: alert.get("since") for alert in recorded or () if isinstance(alert, Mapping)}
    alerts = []
    for resource in CONSEQUENCES:
        limit = hard.get(resource)
        if limit is None or limit <= 0:
            continue
        percent = percent_of(used.get(resource, Fraction(0)), limit)
        level = next_level(before.get(resource), percent, thresholds)
        if level is None:
            continue
        kept = since.get(resource) if before.get(resource) == level else None
        alerts.append(
            {
                "resource": resource,
                "level": level.value,
                "percent": shown_percent(percent),
                "since": kept if isinstance(kept, str) else format_rfc3339(now),
            }
        )
    return alerts


def without_percent(alerts: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The alerts minus what moves with usage alone (a percent within the same level)."""
    return [{k: v for k, v in alert.items() if k != "percent"} for alert in alerts or ()]


@dataclass(frozen=True)
class Transition:
    resource: str
    before: Level | None
    after: Level | None
    percent: int | float | None
    """the percent recorded with the new level (None when recovered: the alert is gone)"""

    @property
    def reason(self) -> str:
        if self.after == Level.CRITICAL:
            return CRITICAL_EVENT
        return WARNING_EVENT if self.after == Level.WARNING else RECOVERED_EVENT

    @property
    def message(self) -> str:
        if self.after is None:
            return f"{self.resource} is back below its warning level (was {self.before})"
        detail = f"{self.resource} at {self.percent}% of its quota ({self.after} level"
        if self.before is not None:
            detail += f", was {self.before}"
        detail += ")"
        if self.after == Level.CRITICAL:
            return f"{detail}: {CONSEQUENCES[self.resource]}"
        return f"{detail}: at 100% {CONSEQUENCES[self.resource]}"


def transitions(
    before: Sequence[Mapping[str, Any]] | None, after: Sequence[Mapping[str, Any]] | None
) -> list[Transition]:
    """What changed level between two `status.alerts`, in resource order."""
    old, new = recorded_levels(before), recorded_levels(after)
    percents = {alert["resource"]: alert.get("percent") for alert in after or () if isinstance(alert, Mapping)}
    changed = []
    for resource in CONSEQUENCES:
        if old.get(resource) != new.get(resource):
            changed.append(Transition(resource, old.get(resource), new.get(resource), percents.get(resource)))
    return changed


def pressure_condition(alerts: Sequence[Mapping[str, Any]] | None) -> tuple[str, str, str]:
    """The QuotaPressure condition's (status, reason, message); its words do not move with usage alone."""
    levels = recorded_levels(alerts)
    if not levels:
        return "False", "WithinThresholds", "every quota is below its warning level"
    parts = []
    for level in (Level.CRITICAL, Level.WARNING):
        names = [resource for resource, found in levels.items() if found == level]
        if names:
            parts.append(f"{level}: {', '.join(names)}")
    reason = CRITICAL_EVENT if Level.CRITICAL in levels.values() else WARNING_EVENT
    return "True", reason, "; ".join(parts)
