"""The Organization's status: the QuotaReady, OverQuota and QuotaPressure conditions, what is enforced,
usage and the alerts of quota pressure (`core.pressure`).

The status is rewritten only when it changes, so a converged organization costs no write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from orgquota.core.pressure import CONDITION_TYPE as QUOTA_PRESSURE
from orgquota.core.pressure import pressure_condition, without_percent
from orgquota.core.quantity import Quantity, QuantityError
from orgquota.core.timestamps import format_rfc3339

CONDITION_TYPE: Final = "QuotaReady"
OVER_QUOTA: Final = "OverQuota"
USAGE_KEYS: Final = {
    "cpu": "requests.cpu",
    "memory": "requests.memory",
    "storage": "requests.storage",
    "pods": "pods",
    "loadBalancers": "services.loadbalancers",
}
"""status.quotaUsage names and the HRQ resources they mirror (publicIPv4 counts EIps)"""


@dataclass(frozen=True)
class Verdict:
    """What the last reconcile decided about an organization."""

    ready: bool
    mode: str
    plan: str
    reason: str
    message: str


@dataclass(frozen=True)
class Findings:
    """What a reconcile found in the cluster: usage (None without an HRQ), whether workloads are stopped,
    the alerts of quota pressure it decided (None: keep the recorded ones), and the billing inputs it
    enforced (`annotations.applied_inputs`; None: it enforced nothing new, keep the recorded ones)."""

    usage: Mapping[str, Mapping[str, str]] | None = None
    workloads_stopped: bool = False
    alerts: Sequence[Mapping[str, Any]] | None = None
    applied: Mapping[str, str] | None = None


def quota_usage(hrq: Mapping[str, Any] | None, public_ips: int, public_ip_limit: int | None) -> dict[str, Any] | None:
    """`hard` and `used` from the HRQ status HNC maintains (spec until HNC has written one)."""
    if hrq is None:
        return None
    status = hrq.get("status") or {}
    hard_of = status.get("hard") or (hrq.get("spec") or {}).get("hard") or {}
    used_of = status.get("used") or {}
    hard = {name: str(hard_of[key]) for name, key in USAGE_KEYS.items() if key in hard_of}
    used = {name: str(used_of.get(key, "0")) for name, key in USAGE_KEYS.items() if key in hard_of}
    used["publicIPv4"] = str(public_ips)
    if public_ip_limit is not None:
        hard["publicIPv4"] = str(public_ip_limit)
    return {"hard": hard, "used": used}


def over_quota(usage: Mapping[str, Mapping[str, str]] | None) -> list[str]:
    """`cpu used 9 > hard 8300m`, for each resource above its hard limit."""
    if not usage:
        return []
    over = []
    for name, hard in usage["hard"].items():
        try:
            if Quantity.parse(usage["used"].get(name, "0")) > Quantity.parse(hard):
                over.append(f"{name} used {usage['used'][name]} > hard {hard}")
        except QuantityError:
            continue
    return over


def quota_status(previous: Mapping[str, Any], verdict: Verdict, findings: Findings, now: datetime) -> dict[str, Any]:
    """The new status; other conditions and fields are kept, times move only on a change."""
    stamp = format_rfc3339(now)
    flag = "True" if verdict.ready else "False"
    conditions = [_condition(previous, CONDITION_TYPE, flag, verdict.reason, verdict.message, stamp)]
    status: dict[str, Any] = {
        **previous,
        "ready": verdict.ready,
        "mode": verdict.mode,
        "plan": verdict.plan,
        "workloadsStopped": findings.workloads_stopped,
    }
    if findings.usage is None:
        status.pop("quotaUsage", None)
    else:
        old = previous.get("quotaUsage") or {}
        same = {k: v for k, v in old.items() if k != "lastUpdated"} == dict(findings.usage)
        status["quotaUsage"] = {**findings.usage, "lastUpdated": old.get("lastUpdated") if same else stamp}
        over = over_quota(findings.usage)
        if over:
            conditions.append(_condition(previous, OVER_QUOTA, "True", "UsageAboveHard", ", ".join(over), stamp))
        else:
            conditions.append(
                _condition(previous, OVER_QUOTA, "False", "WithinQuota", "usage is within the quota", stamp)
            )
    if findings.applied is not None:
        status["applied"] = dict(findings.applied)
    alerts = [dict(alert) for alert in (previous.get("alerts") or [] if findings.alerts is None else findings.alerts)]
    status["alerts"] = alerts
    conditions.append(_condition(previous, QUOTA_PRESSURE, *pressure_condition(alerts), stamp))
    ours = {condition["type"] for condition in conditions}
    others = [c for c in previous.get("conditions") or [] if c.get("type") not in ours | {OVER_QUOTA}]
    status["conditions"] = conditions + others
    return status


def without_usage(status: Mapping[str, Any]) -> dict[str, Any]:
    """The status minus what changes with usage alone (to bound usage-driven writes); a change of
    alert level is not usage alone."""
    return {
        **{k: v for k, v in status.items() if k not in ("quotaUsage", "alerts")},
        "alerts": without_percent(status.get("alerts")),
        "conditions": [c for c in status.get("conditions") or [] if c.get("type") != OVER_QUOTA],
    }


def quota_condition(status: Mapping[str, Any]) -> Mapping[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == CONDITION_TYPE), {})


def _condition(
    previous: Mapping[str, Any], type_: str, flag: str, reason: str, message: str, stamp: str
) -> dict[str, str]:
    old: Mapping[str, Any] = next((c for c in previous.get("conditions") or [] if c.get("type") == type_), {})
    transition = old.get("lastTransitionTime") if old.get("status") == flag else None
    return {
        "type": type_,
        "status": flag,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition or stamp,
    }
