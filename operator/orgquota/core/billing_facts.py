"""What a payment provider tells us, and the billing annotations it leads to: one state machine for every provider.

Stripe and WHMCS speak differently, but each of their messages comes down to one of a few billing
facts (a subscription started, a cancellation was requested, a payment failed, ...). Providers
translate their messages into facts; this module alone decides which annotations a fact writes, so
both providers move an Organization through the same states.

Deliveries arrive at least once and in any order. A message is ordered by the time the provider
created it and, within one second, by its id; every message applied to the organization records
that order (`provider-event-created`, `provider-event-id`), whatever its facts change, and one that
is not after it changes nothing: a duplicate, a stale retry, a message of the same second that
sorts before it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from orgquota.core import annotations as ann
from orgquota.core.annotations import AddonRequest, Subscription, parse_addons
from orgquota.core.timestamps import format_rfc3339

AnnotationPatch = dict[str, str | None]
"""Billing annotations to set (a value) or remove (None): only those that change."""


@dataclass(frozen=True)
class Subscribed:
    """A subscription started, was paid, or was resumed: the whole plan, with the add-ons bought."""

    plan_id: str
    plan_name: str
    subscription_id: str
    customer_id: str
    addons: tuple[AddonRequest, ...] = ()
    trialing: bool = False
    currency: str | None = None
    """what the subscription is paid in; recorded by the first subscription only (it stays fixed)"""
    trial_ends_at: str | None = None
    """RFC 3339 end of the provider's trial, recorded while it is trialing (the one trial, ever)"""
    period_end: str | None = None
    """RFC 3339 end of the period paid for, when the provider says it (the last one recorded is kept otherwise)"""


@dataclass(frozen=True)
class CancelRequested:
    """The subscription ends at the end of the period it is paid for: the plan is kept until then."""

    period_end: str | None = None
    """RFC 3339 end of that period, when the provider says it"""


@dataclass(frozen=True)
class PaymentFailed:
    """A payment failed; the provider retries, and the plan is kept meanwhile."""


@dataclass(frozen=True)
class Ended:
    """The subscription is over: canceled if that was asked for, otherwise suspended (grace period)."""

    requested: bool = False
    """the provider says the end was asked for (a cancellation at the period's end), whether or not
    the organization saw the request first: deliveries are unordered"""


@dataclass(frozen=True)
class PlanChanged:
    """Another plan (and, when the provider says which, other add-ons) from now on; the state is kept."""

    plan_id: str
    plan_name: str
    addons: tuple[AddonRequest, ...] | None = None
    """None: the add-ons stay as they are (a provider that changes plans alone)"""


@dataclass(frozen=True)
class Terminated:
    """The provider removed the service: nothing to return to (WHMCS `terminate`)."""


@dataclass(frozen=True)
class Renewed:
    """A period was paid as agreed: nothing changes."""


BillingFact = Subscribed | CancelRequested | PaymentFailed | Ended | PlanChanged | Terminated | Renewed

_ENDED_STATES = frozenset({Subscription.SUSPENDED.value, Subscription.CANCELED.value})


def addons_annotation(addons: Sequence[AddonRequest]) -> str:
    """The `addons` annotation's text, in one spelling, so equal add-ons always compare equal."""
    merged: dict[str, int] = {}
    for request in addons:
        merged[request.addon_id] = merged.get(request.addon_id, 0) + request.quantity
    return json.dumps(
        [{"addonId": addon_id, "quantity": quantity} for addon_id, quantity in sorted(merged.items())],
        separators=(",", ":"),
    )


def _wanted(current: Mapping[str, str], fact: BillingFact, now: datetime) -> AnnotationPatch:
    """Every annotation the fact decides, whether or not it already has that value."""
    state = current.get(ann.SUBSCRIPTION)
    match fact:
        case Subscribed():
            return {
                ann.SUBSCRIPTION: Subscription.TRIALING if fact.trialing else Subscription.ACTIVE,
                ann.PLAN_ID: fact.plan_id,
                ann.PLAN_NAME: fact.plan_name,
                ann.PROVIDER_SUBSCRIPTION_ID: fact.subscription_id,
                ann.PROVIDER_CUSTOMER_ID: fact.customer_id,
                ann.ADDONS: addons_annotation(fact.addons),
                ann.SUSPENDED_AT: None,
                **({ann.CURRENCY: fact.currency} if fact.currency and not current.get(ann.CURRENCY) else {}),
                **({ann.TRIAL_ENDS_AT: fact.trial_ends_at} if fact.trialing and fact.trial_ends_at else {}),
                **_period_end(fact.period_end),
            }
        case CancelRequested():
            if state in _ENDED_STATES:
                return {}
            return {ann.SUBSCRIPTION: Subscription.CANCELING, **_period_end(fact.period_end)}
        case PaymentFailed():
            return {} if state in _ENDED_STATES else {ann.SUBSCRIPTION: Subscription.PAST_DUE}
        case Ended():
            if state in _ENDED_STATES:
                return {}  # already ended: a second delivery must not restart the grace clock
            # no period runs any more: whatever order its messages came in, an ended subscription has no period end
            if state == Subscription.CANCELING or fact.requested:
                return {ann.SUBSCRIPTION: Subscription.CANCELED, ann.PERIOD_END: None}
            return {
                ann.SUBSCRIPTION: Subscription.SUSPENDED,
                ann.SUSPENDED_AT: format_rfc3339(now),
                ann.PERIOD_END: None,
            }
        case PlanChanged():
            changed: AnnotationPatch = {ann.PLAN_ID: fact.plan_id, ann.PLAN_NAME: fact.plan_name}
            if fact.addons is not None:
                changed[ann.ADDONS] = addons_annotation(fact.addons)
            return changed
        case Terminated():
            return {
                ann.SUBSCRIPTION: Subscription.CANCELED,
                ann.PLAN_ID: None,
                ann.PLAN_NAME: None,
                ann.PROVIDER_SUBSCRIPTION_ID: None,
                ann.PROVIDER_CUSTOMER_ID: None,
                ann.PERIOD_END: None,
            }
        case Renewed():
            return {}


def _period_end(when: str | None) -> AnnotationPatch:
    """The period end to record: only a known one (a message that does not say it keeps the last)."""
    return {ann.PERIOD_END: when} if when else {}


def _differs(current: Mapping[str, str], key: str, value: str | None) -> bool:
    if key == ann.ADDONS and value is not None and key in current:
        return parse_addons(current[key]).requests != parse_addons(value).requests
    return current.get(key) != value


Order = tuple[int, str]
"""(created, id) of a provider message: the provider's time (Unix seconds), then its id within a second"""


def last_applied(current: Mapping[str, str]) -> Order | None:
    """The order of the last message applied to this organization (an id of "": none was recorded)."""
    raw = current.get(ann.PROVIDER_EVENT_CREATED)
    if raw is None or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw), current.get(ann.PROVIDER_EVENT_ID, "")


def _not_after(created: int, event_id: str, last: Order) -> bool:
    """Whether a message is a duplicate or older than the last applied. Without an id (a provider whose
    calls arrive in order, WHMCS), one of the same second is after the last: it applies as it arrives."""
    return (created, event_id) <= last if event_id else created < last[0]


def apply_fact(
    current: Mapping[str, str], fact: BillingFact, *, created: int | None, now: datetime, event_id: str = ""
) -> AnnotationPatch:
    """The annotations that change when `fact` alone (a message created at `created`, Unix seconds,
    with id `event_id`) meets `current` (see `apply_in_order`)."""
    return apply_in_order(current, [fact], created=created, now=now, event_id=event_id)


def apply_in_order(
    current: Mapping[str, str],
    facts: Sequence[BillingFact],
    *,
    created: int | None,
    now: datetime,
    event_id: str = "",
) -> AnnotationPatch:
    """The one patch that `facts` of one message, applied one after the other from `current`, amount to.

    A provider message may say several things at once (a subscription that is paid and set to end
    at the period's end); they are written together, so nobody ever sees the first without the
    rest. Only what differs at the end is in the patch. A message from an ordered stream (`created`
    given) is applied only when it comes after the last one applied, by (created, `event_id`), and
    then moves that mark even when its facts change nothing, so a stale retry of the same second
    can never undo it. `created` None means the fact is not from an ordered stream (a user's own
    request, confirmed with the provider): it is applied and does not move the mark. No facts: the
    message does not concern the organization, nothing is written.
    """
    if not facts:
        return {}
    last = last_applied(current)
    if created is not None and last is not None and _not_after(created, event_id, last):
        return {}
    view = dict(current)
    touched: list[str] = []
    for fact in facts:
        wanted = {key: None if value is None else str(value) for key, value in _wanted(view, fact, now).items()}
        for key, value in wanted.items():
            if _differs(view, key, value):
                touched.append(key)
                if value is None:
                    view.pop(key, None)
                else:
                    view[key] = value
    patch = {key: view.get(key) for key in dict.fromkeys(touched) if view.get(key) != current.get(key)}
    if created is not None:
        mark: AnnotationPatch = {ann.PROVIDER_EVENT_CREATED: str(created), ann.PROVIDER_EVENT_ID: event_id or None}
        patch |= {key: value for key, value in mark.items() if current.get(key) != value}
    return patch
