"""Stripe's half of the one webhook pipeline (`providers.webhook`): signed events, verified on the raw bytes.

Nothing of the body is read before its signature is checked (HMAC-SHA256 with the endpoint's
secret over `<t>.<raw body>`, `t` within 300 s either way). Deliveries are at least once and in
any order: the state machine orders them by the event's `created` and a repeated one changes
nothing. The answer tells Stripe whether to retry: 2xx for every event that is done with (applied,
already applied, not ours, of no interest), 5xx when Kubernetes or Stripe failed (nothing was
written), 4xx when the event cannot be trusted or mapped (a price no setting names).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import stripe
from fastapi.responses import Response

from orgquota.api.envelope import ApiError, JSONBody, error_response, ok
from orgquota.api.providers.apply import KubernetesUnavailable
from orgquota.api.providers.stripe import binding, events
from orgquota.api.providers.stripe.provider import StripeProvider, stripe_errors
from orgquota.api.providers.webhook import Delivery, Settled, Webhook
from orgquota.core import annotations as ann
from orgquota.core.billing_facts import BillingFact, Subscribed
from orgquota.kube.billing_annotations import Decide, Recorded

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS: Final = 300
MAX_BODY_BYTES: Final = 1 << 20
"""Stripe's events are a few KiB; anyone may post here, so no more than this is read before the check"""
PROVIDER: Final = "stripe"
NOT_BOUND: Final = "not_bound"
"""the outcome of an event about a subscription that is not the named organization's (binding)"""
UNVERIFIED: Final = "unverified"
"""the type label of an event whose signature failed: its claimed type is not trusted"""


def signed_at(header: str) -> int | None:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def verified_event(provider: StripeProvider, body: bytes, header: str | None) -> dict[str, Any]:
    """The event, if `header` signs `body` with the webhook secret within the tolerance; else 400."""
    if not header:
        raise ApiError(400, "missing Stripe-Signature header")
    try:
        event = provider.client.construct_event(
            body, header, provider.settings.webhook_secret.get_secret_value(), TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise ApiError(400, f"the Stripe signature does not verify: {exc.user_message or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # signed, but not an event (or not text)
        raise ApiError(400, f"the signed body is not a Stripe event: {exc}") from exc
    when = signed_at(header)
    if when is None or when > time.time() + TOLERANCE_SECONDS:
        raise ApiError(400, "the Stripe signature's timestamp is in the future (clock skew over 300 s)")
    data: dict[str, Any] = event.to_dict()
    if not isinstance(data.get("type"), str) or not isinstance(data.get("created"), int):
        raise ApiError(400, "the signed body is not a Stripe event (no type or created)")
    return data


def _owner(provider: StripeProvider, subject: events.Subject) -> str | None:
    """The organization the event is about: our metadata, else the one holding the subscription."""
    if subject.organization:
        return subject.organization
    if not subject.subscription_id:
        return None
    provider.cluster.require(provider.cluster.orgs)
    for _, name, record in provider.cluster.orgs.items():
        if record.annotations.get(ann.PROVIDER_SUBSCRIPTION_ID) == subject.subscription_id:
            return name
    return None


def about_this_subscription(
    claim: binding.Claim, facts: list[BillingFact], refused: Callable[[str], Settled]
) -> Decide:
    """The facts, if they concern the organization's own subscription, or start one that is bound to
    it (`binding`; a new purchase replaces an ended subscription); else none. A failed first
    payment, for one, says nothing about an organization that holds no subscription yet. A
    subscription that is not the organization's is `refused` (raised: nothing is written)."""

    def decide(current: Mapping[str, str]) -> list[BillingFact]:
        if any(isinstance(fact, Subscribed) for fact in facts):
            reason = binding.refusal(current, facts, claim)
            if reason is not None:
                raise refused(reason)
            return facts
        held = current.get(ann.PROVIDER_SUBSCRIPTION_ID)
        return facts if held is not None and held == claim.subscription_id else []

    return decide


def answer(event_id: Any, outcome: str, more: dict[str, Any]) -> JSONBody:
    return ok({"received": True, "eventId": event_id, "outcome": outcome, **more})


def not_bound(event_id: Any, kind: str, organization: str, reason: str) -> Settled:
    """An event whose subscription is not bound to the organization it names: 200, nothing written."""
    log = {"eventId": event_id, "eventType": kind, "organization": organization}
    logger.warning("Stripe event %s not applied to %s: %s", event_id, organization, reason, extra=log)
    return Settled(NOT_BOUND, answer(event_id, NOT_BOUND, {"organization": organization, "reason": reason}))


def _refused(exc: ApiError) -> Settled:
    """An event that cannot be trusted (its claimed type neither)."""
    logger.warning("Stripe webhook refused: %s", exc.message)
    return Settled("rejected", error_response(exc.status, exc.message, exc.details))


@dataclass(frozen=True)
class EventDelivery(Delivery):
    event_id: Any

    @property
    def log(self) -> dict[str, Any]:
        return {"eventId": self.event_id, "eventType": self.kind, "organization": self.organization}

    def answer(self, outcome: str, **more: Any) -> JSONBody:
        return answer(self.event_id, outcome, {"organization": self.organization, **more})


class StripeWebhook(Webhook[dict[str, Any], EventDelivery]):
    provider = PROVIDER
    unverified = UNVERIFIED
    max_body_bytes = MAX_BODY_BYTES
    summary = "Stripe's webhook endpoint (signed with STRIPE_WEBHOOK_SECRET)"

    def __init__(self, stripe_provider: StripeProvider) -> None:
        self.stripe = stripe_provider

    def oversized(self) -> Settled:
        return _refused(ApiError(413, f"a Stripe event is at most {MAX_BODY_BYTES} bytes"))

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        try:
            return verified_event(self.stripe, body, headers.get("stripe-signature"))
        except ApiError as exc:
            raise _refused(exc) from exc

    def kind(self, message: dict[str, Any]) -> str:
        return message["type"] if message["type"] in events.HANDLED else "other"

    async def delivery(self, message: dict[str, Any]) -> EventDelivery:
        """What the event says; 422 for a price no setting names, 5xx when Stripe fails (it retries)."""
        event_id, event_type = message.get("id"), message["type"]
        log = {"eventId": event_id, "eventType": event_type}
        if event_type not in events.HANDLED:
            logger.info("Stripe event %s of type %s: not one we act on", event_id, event_type, extra=log)
            raise Settled("ignored", answer(event_id, "ignored", {}))
        obj = (message.get("data") or {}).get("object") or {}
        subject = events.subject(event_type, obj)
        orgs = self.stripe.cluster.orgs
        self.stripe.cluster.require(orgs)
        organization = _owner(self.stripe, subject)
        if organization is None:
            logger.warning(
                "Stripe event %s (%s) names no organization we know (subscription %s)",
                event_id,
                event_type,
                subject.subscription_id,
                extra=log,
            )
            raise Settled("unknown_organization", answer(event_id, "unknown_organization", {}))
        log["organization"] = organization
        catalog = self.stripe.catalog()
        subscription: Any = None
        if events.needs_subscription(event_type, obj) and subject.subscription_id:
            async with stripe_errors("reading the subscription of a completed checkout"):
                client = self.stripe.client
                subscription = (await client.v1.subscriptions.retrieve_async(subject.subscription_id)).to_dict()
        try:
            facts = events.event_facts(event_type, obj, self.stripe.prices(catalog), catalog, subscription)
        except events.UnmappedPrice as exc:
            logger.error("Stripe event %s: %s", event_id, exc, extra=log)
            raise ApiError(422, str(exc), {"eventId": event_id}) from exc
        if not facts:
            raise Settled("ignored", answer(event_id, "ignored", {"organization": organization}))
        holders = ((name, record.annotations.get(ann.PROVIDER_SUBSCRIPTION_ID)) for _, name, record in orgs.items())
        other = binding.held_elsewhere(subject.subscription_id, organization, holders)
        refused = partial(not_bound, event_id, self.kind(message), organization)
        if other is not None:
            raise refused(f"subscription {subject.subscription_id} is organization {other}'s")
        claim = binding.Claim(subject.subscription_id, subject.session_id)
        decide = about_this_subscription(claim, facts, refused)
        return EventDelivery(self.kind(message), organization, decide, message["created"], event_id)

    def message_id(self, delivery: EventDelivery) -> str:
        return str(delivery.event_id or "")

    def written(self, delivery: EventDelivery, recorded: Recorded) -> Response:
        event_id, organization = delivery.event_id, delivery.organization
        if not recorded.changes:
            message = "Stripe event %s changes nothing for %s (duplicate, older or no-op)"
            logger.info(message, event_id, organization, extra=delivery.log)
            return delivery.answer("unchanged")
        changes = ", ".join(f"{key.removeprefix(ann.PREFIX)}={value}" for key, value in recorded.changes.items())
        logger.info("Stripe event %s applied to %s: %s", event_id, organization, changes, extra=delivery.log)
        return delivery.answer("applied", changes=recorded.changes)

    def missing(self, delivery: EventDelivery) -> Settled:
        message = "Stripe event %s is about organization %s, which does not exist"
        logger.warning(message, delivery.event_id, delivery.organization, extra=delivery.log)
        return Settled("unknown_organization", delivery.answer("unknown_organization"))

    def failed(self, delivery: EventDelivery, problem: KubernetesUnavailable) -> Response:
        logger.error("Stripe event %s not applied: %s", delivery.event_id, problem, extra=delivery.log)
        message = "the Kubernetes API failed; nothing was written (Stripe will retry)"
        return error_response(503, message, {"eventId": delivery.event_id})
