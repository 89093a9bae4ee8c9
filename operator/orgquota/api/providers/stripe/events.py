"""Stripe's events and objects, translated into the provider-neutral billing facts.

Pure: the webhook route verifies, fetches and writes; this module only reads Stripe's JSON. A
subscription object is translated as a whole (its status, its items' prices, whether it ends at the
period's end), so an event about it says where the organization stands now, whatever came before.
Ids may arrive as strings or as expanded objects; both are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from orgquota.api.providers.stripe.prices import Kind, PriceBook
from orgquota.core import billing_facts as bf
from orgquota.core.annotations import AddonRequest
from orgquota.core.billing_facts import BillingFact, CancelRequested, Ended, PaymentFailed, Renewed, Subscribed
from orgquota.core.catalog import Catalog
from orgquota.core.timestamps import format_rfc3339
from orgquota.core.topology import is_dns_label

CHECKOUT_COMPLETED: Final = "checkout.session.completed"
SUBSCRIPTION_CHANGED: Final = frozenset(
    {"customer.subscription.created", "customer.subscription.updated", "customer.subscription.trial_will_end"}
)
"""events whose object is the subscription as it stands (`trial_will_end`: 3 days before a trial's end)"""
SUBSCRIPTION_DELETED: Final = "customer.subscription.deleted"
PAYMENT_FAILED: Final = "invoice.payment_failed"
INVOICE_PAID: Final = "invoice.paid"
HANDLED: Final = (
    frozenset({CHECKOUT_COMPLETED, SUBSCRIPTION_DELETED, PAYMENT_FAILED, INVOICE_PAID}) | SUBSCRIPTION_CHANGED
)

LIVE_STATUSES: Final = frozenset({"active", "trialing", "past_due"})
"""a subscription in these states gives the whole plan (past_due: Stripe is still retrying the payment)"""
ENDED_STATUSES: Final = frozenset({"canceled", "incomplete_expired", "paused", "unpaid"})
"""over, or without payment: the organization is ended (suspended, or canceled if it asked). `unpaid` is
where every retry failed and Stripe, set to "mark the subscription unpaid", sends no deletion: the end
of payment, so the grace period starts rather than the plan being kept forever"""
ORGANIZATION_KEY: Final = "organization"


class UnmappedPrice(ValueError):
    """A subscription item whose price no `STRIPE_PRICE_*` setting names (or two plan items)."""


@dataclass(frozen=True)
class Subject:
    """Whom an event is about: the organization our metadata names, and the subscription."""

    organization: str | None
    subscription_id: str | None
    session_id: str | None = None
    """the Checkout Session, when the event is its completion"""


def object_id(value: Any) -> str | None:
    """The id of a reference that is a string or an expanded object."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) and found else None
    return None


def organization_name(value: Any) -> str | None:
    """A name an event gives for an organization, if it can be one (a DNS label: it becomes part of
    an apiserver path); anything else names no organization."""
    name = value.strip() if isinstance(value, str) else ""
    return name if is_dns_label(name) else None


def _metadata_organization(obj: Mapping[str, Any] | None) -> str | None:
    metadata = (obj or {}).get("metadata") or {}
    return organization_name(metadata.get(ORGANIZATION_KEY) if isinstance(metadata, Mapping) else None)


def _invoice_subscription(invoice: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(subscription id, organization) of an invoice, in the current shape (`parent.subscription_details`)
    and the older one (`subscription`, `subscription_details`)."""
    details = ((invoice.get("parent") or {}).get("subscription_details")) or invoice.get("subscription_details") or {}
    subscription = details.get("subscription") or invoice.get("subscription")
    return object_id(subscription), _metadata_organization(details) or _metadata_organization(
        subscription if isinstance(subscription, Mapping) else None
    )


def subject(event_type: str, obj: Mapping[str, Any]) -> Subject:
    if event_type == CHECKOUT_COMPLETED:
        organization = _metadata_organization(obj) or organization_name(obj.get("client_reference_id"))
        return Subject(organization, object_id(obj.get("subscription")), object_id(obj))
    if event_type in SUBSCRIPTION_CHANGED or event_type == SUBSCRIPTION_DELETED:
        return Subject(_metadata_organization(obj), object_id(obj))
    subscription_id, organization = _invoice_subscription(obj)
    return Subject(organization, subscription_id)


def _price_id(item: Mapping[str, Any]) -> str | None:
    return object_id(item.get("price")) or object_id(item.get("plan"))


def subscribed(subscription: Mapping[str, Any], prices: PriceBook, catalog: Catalog) -> Subscribed:
    """The plan and add-ons a subscription's items sell, by their prices."""
    plans: list[str] = []
    addons: list[AddonRequest] = []
    unknown: list[str] = []
    for item in (subscription.get("items") or {}).get("data") or []:
        price = _price_id(item) or "<none>"
        priced = prices.item_of(price)
        quantity = item.get("quantity")
        quantity = quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else 1
        if priced is None:
            unknown.append(price)
        elif priced.kind == Kind.PLAN:
            plans.append(priced.id)
        else:
            addons.append(AddonRequest(priced.id, quantity))
    subscription_id = object_id(subscription) or "<unknown>"
    if unknown:
        raise UnmappedPrice(
            f"subscription {subscription_id}: no STRIPE_PRICE_* setting names the price(s) {', '.join(unknown)}"
        )
    if len(plans) != 1:
        raise UnmappedPrice(
            f"subscription {subscription_id}: {len(plans)} plan prices ({', '.join(plans) or 'none'}); "
            "exactly one plan is sold per subscription"
        )
    plan_id = plans[0]
    plan = catalog.plans[plan_id]
    return Subscribed(
        plan_id=plan_id,
        plan_name=plan.displayName or plan_id,
        subscription_id=subscription_id,
        customer_id=object_id(subscription.get("customer")) or "",
        addons=tuple(addons),
        trialing=subscription.get("status") == "trialing",
        currency=currency.upper() if isinstance(currency := subscription.get("currency"), str) and currency else None,
        trial_ends_at=trial_end(subscription),
        period_end=period_end(subscription),
    )


def trial_end(subscription: Mapping[str, Any]) -> str | None:
    """The subscription's trial end (RFC 3339), if it has a trial."""
    end = subscription.get("trial_end")
    return format_rfc3339(datetime.fromtimestamp(end, UTC)) if isinstance(end, int) and end > 0 else None


def period_end(subscription: Mapping[str, Any]) -> str | None:
    """The end of the period paid for (RFC 3339): `cancel_at` when set to end at a date, else its
    items' period end (the subscription's own in older API versions)."""
    when = subscription.get("cancel_at")
    if not when:
        ends = [item.get("current_period_end") for item in (subscription.get("items") or {}).get("data") or []]
        ends = [end for end in ends if isinstance(end, int)]
        when = max(ends) if ends else subscription.get("current_period_end")
    return format_rfc3339(datetime.fromtimestamp(when, UTC)) if isinstance(when, int) and when > 0 else None


def cancel_requested(subscription: Mapping[str, Any]) -> bool:
    """Whether the subscription is set to end (at the period's end, or at a date)."""
    return bool(subscription.get("cancel_at_period_end")) or bool(subscription.get("cancel_at"))


def ended(subscription: Mapping[str, Any], prices: PriceBook, catalog: Catalog) -> list[BillingFact]:
    """An ended subscription as a whole: the plan its items sold (when they name one) and whether the
    end was asked for, so that its end says the same whatever reached the organization before it."""
    details = subscription.get("cancellation_details") or {}
    requested = cancel_requested(subscription) or details.get("reason") == "cancellation_requested"
    try:
        sold = subscribed(subscription, prices, catalog) if (subscription.get("items") or {}).get("data") else None
    except UnmappedPrice:
        sold = None  # the end is what matters; the plan stays as it was
    plan: list[BillingFact] = [bf.PlanChanged(sold.plan_id, sold.plan_name, sold.addons)] if sold else []
    return [*plan, Ended(requested)]


UNPAID_AFTER_TRIAL: Final = frozenset({"incomplete", "unpaid"})
"""a trial that ended without payment: never the paid quota (with `paused` and `incomplete_expired`)"""


def subscription_facts(subscription: Mapping[str, Any], prices: PriceBook, catalog: Catalog) -> list[BillingFact]:
    """Where a subscription object stands, as facts applied in order (empty: not started yet)."""
    status = subscription.get("status")
    if status in ENDED_STATUSES or (status in UNPAID_AFTER_TRIAL and trial_end(subscription) is not None):
        return ended(subscription, prices, catalog)
    if status not in LIVE_STATUSES:
        return []  # incomplete: the first payment is not done; nothing is sold yet
    facts: list[BillingFact] = [subscribed(subscription, prices, catalog)]
    if status == "past_due":
        facts.append(PaymentFailed())
    elif cancel_requested(subscription):
        facts.append(CancelRequested(period_end(subscription)))
    return facts


def needs_subscription(event_type: str, obj: Mapping[str, Any]) -> bool:
    """Whether the event is a completed subscription checkout, whose facts are its subscription's."""
    return event_type == CHECKOUT_COMPLETED and obj.get("mode") == "subscription" and obj.get("status") == "complete"


def event_facts(
    event_type: str,
    obj: Mapping[str, Any],
    prices: PriceBook,
    catalog: Catalog,
    subscription: Mapping[str, Any] | None = None,
) -> list[BillingFact]:
    """The facts of a handled event; `subscription` is the one a completed Checkout Session created
    (the session itself does not carry its items)."""
    if event_type == CHECKOUT_COMPLETED:
        if not needs_subscription(event_type, obj) or subscription is None:
            return []
        return subscription_facts(subscription, prices, catalog)
    if event_type in SUBSCRIPTION_CHANGED:
        return subscription_facts(obj, prices, catalog)
    if event_type == SUBSCRIPTION_DELETED:
        return ended(obj, prices, catalog)
    if event_type == PAYMENT_FAILED:
        return [PaymentFailed()]
    if event_type == INVOICE_PAID:
        return [Renewed()]
    return []
