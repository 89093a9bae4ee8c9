"""The Organization's status: the QuotaReady condition and what is enforced.

The status is rewritten only when it changes, so a converged organization costs no write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

CONDITION_TYPE: Final = "QuotaReady"


@dataclass(frozen=True)
class Verdict:
    """What the last reconcile decided about an organization."""

    ready: bool
    mode: str
    plan: str
    reason: str
    message: str


def quota_status(previous: Mapping[str, Any], verdict: Verdict, now: datetime) -> dict[str, Any]:
    """The new status; other conditions and fields are kept, the transition time moves only on a flip."""
    conditions = [c for c in previous.get("conditions") or [] if c.get("type") != CONDITION_TYPE]
    old: Mapping[str, Any] = next((c for c in previous.get("conditions") or [] if c.get("type") == CONDITION_TYPE), {})
    flag = "True" if verdict.ready else "False"
    transition = old.get("lastTransitionTime") if old.get("status") == flag else None
    condition = {
        "type": CONDITION_TYPE,
        "status": flag,
        "reason": verdict.reason,
        "message": verdict.message,
        "lastTransitionTime": transition or now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {
        **previous,
        "ready": verdict.ready,
        "mode": verdict.mode,
        "plan": verdict.plan,
        "conditions": [condition, *conditions],
    }


def quota_condition(status: Mapping[str, Any]) -> Mapping[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == CONDITION_TYPE), {})
