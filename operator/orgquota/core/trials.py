"""Trials and the organization's currency: who may start a trial, and when the operator ends one.

One trial per organization, ever: `trial-ends-at` records it and is never removed, so a second
trial is refused even long after the first ended. The operator ends a trial only when no payment
provider carries it (no `provider-subscription-id`): a provider's own events end its trials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final

from orgquota.core import annotations as ann
from orgquota.core.billing_facts import AnnotationPatch
from orgquota.core.catalog import Catalog
from orgquota.core.prices import Priced
from orgquota.core.timestamps import format_rfc3339, parse_rfc3339

NOTICE_BEFORE: Final = timedelta(days=3)
"""the `TrialEnding` Event comes this long before the end"""
_ENDED: Final = frozenset({ann.Subscription.SUSPENDED.value, ann.Subscription.CANCELED.value})


class Refusal(Enum):
    INVALID = 400
    CONFLICT = 409


class Refused(ValueError):
    """A trial or a currency that cannot be granted; `kind` says whether the request or the state is at fault."""

    def __init__(self, kind: Refusal, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.kind, self.message, self.details = kind, message, details


def offered_currencies(catalog: Catalog) -> list[str]:
    """The currencies the catalog sells in (every sold item has them all: the catalog's own rule)."""
    items: list[Priced] = [plan for plan in catalog.plans.values() if plan.selfService]
    items += [addon for addon in catalog.addons.values() if addon.selfService and not addon.disabled]
    return sorted({currency for item in items for currency in item.amounts()})


def paying_currency(annotations: Mapping[str, str], asked: str | None, catalog: Catalog) -> str | None:
    """The currency a new subscription is paid in: the organization's, fixed at its first subscription
    (another one is a conflict), else the one asked for (one the catalog sells in), else None (the default)."""
    fixed = annotations.get(ann.CURRENCY) or None
    if asked is not None and asked not in offered_currencies(catalog):
        raise Refused(
            Refusal.INVALID,
            f"currency: {asked[:8]!r} is not a currency the plans are sold in",
            {"currency": asked[:8], "available": offered_currencies(catalog)},
        )
    if fixed and asked and asked != fixed:
        raise Refused(
            Refusal.CONFLICT,
            f"the organization pays in {fixed}; its currency is fixed at its first subscription",
            {"currency": fixed},
        )
    return fixed or asked


def live_state(annotations: Mapping[str, str]) -> str | None:
    """The organization's subscription state when it has a plan it has not lost (None: free to start one)."""
    if ann.PLAN_ID not in annotations and not annotations.get(ann.PROVIDER_SUBSCRIPTION_ID):
        return None
    state = annotations.get(ann.SUBSCRIPTION) or ann.Subscription.ACTIVE.value
    return None if state in _ENDED else state


def start_trial(
    annotations: Mapping[str, str], plan_id: str, catalog: Catalog, now: datetime, currency: str | None = None
) -> AnnotationPatch:
    """The annotations that start a trial of `plan_id` now; `Refused` when the plan or the organization cannot."""
    plan = catalog.plans.get(plan_id)
    if plan is None or not plan.selfService or plan.trial is None:
        offered = sorted(i for i, p in catalog.plans.items() if p.selfService and p.trial is not None)
        why = "unknown plan" if plan is None or not plan.selfService else "no trial is offered for plan"
        raise Refused(Refusal.INVALID, f"{why} {plan_id[:64]!r}", {"planId": plan_id[:64], "trialPlans": offered})
    used = annotations.get(ann.TRIAL_ENDS_AT)
    if used is not None:
        message = f"the organization has had its trial (it ends or ended at {used[:40]}); one trial per organization"
        raise Refused(Refusal.CONFLICT, message, {"trialEndsAt": used[:40]})
    state = live_state(annotations)
    if state is not None:
        raise Refused(
            Refusal.CONFLICT,
            f"the organization already has a subscription ({state}); a trial is for one that has none",
            {"status": state},
        )
    paid_in = paying_currency(annotations, currency, catalog) or plan.currency or None
    patch: AnnotationPatch = {
        ann.SUBSCRIPTION: ann.Subscription.TRIALING.value,
        ann.PLAN_ID: plan_id,
        ann.PLAN_NAME: plan.displayName or plan_id,
        ann.TRIAL_ENDS_AT: format_rfc3339(now + timedelta(days=plan.trial.days)),
        ann.SUSPENDED_AT: None,
    }
    if paid_in and not annotations.get(ann.CURRENCY):
        patch[ann.CURRENCY] = paid_in
    return patch


class Step(Enum):
    NOTHING = "nothing"
    NOTICE = "notice"
    """the trial ends within NOTICE_BEFORE: say so (TrialEnding)"""
    END = "end"
    """the trial is over: suspend (TrialEnded; the grace period runs from here)"""


@dataclass(frozen=True)
class TrialDecision:
    step: Step
    ends_at: datetime | None = None
    wake_in: timedelta | None = None
    """when to look again (the notice, then the end): a timer per trial, not a sweep"""


def trial_clock(annotations: Mapping[str, str], now: datetime) -> TrialDecision:
    """What the operator does about a quota-only trial now; nothing for one a provider subscription carries."""
    if annotations.get(ann.SUBSCRIPTION) != ann.Subscription.TRIALING or annotations.get(ann.PROVIDER_SUBSCRIPTION_ID):
        return TrialDecision(Step.NOTHING)
    try:
        ends_at = parse_rfc3339(annotations.get(ann.TRIAL_ENDS_AT) or "")
    except ValueError:
        return TrialDecision(Step.NOTHING)  # no (readable) end: nothing to act on, and nothing guessed
    if now >= ends_at:
        return TrialDecision(Step.END, ends_at)
    if now >= ends_at - NOTICE_BEFORE:
        return TrialDecision(Step.NOTICE, ends_at, ends_at - now)
    return TrialDecision(Step.NOTHING, ends_at, ends_at - NOTICE_BEFORE - now)


def end_trial(now: datetime) -> AnnotationPatch:
    return {ann.SUBSCRIPTION: ann.Subscription.SUSPENDED.value, ann.SUSPENDED_AT: format_rfc3339(now)}
