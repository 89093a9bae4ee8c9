"""POST /webhook: Stripe's signed events, verified on the raw bytes, applied through the state machine.

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
from collections.abc import Mapping
from typing import Any, Final

import stripe
from fastapi import APIRouter, Request

from orgquota.api.envelope import ApiError, JSONBody, ok
from orgquota.api.metrics import WEBHOOK_EVENTS
from orgquota.api.providers.apply import Guard, KubernetesUnavailable, OrganizationNotFound, apply_facts
from orgquota.api.providers.stripe import events
from orgquota.api.providers.stripe.provider import StripeProvider, stripe_errors
from orgquota.core import annotations as ann
from orgquota.core.billing_facts import BillingFact, Subscribed

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS: Final = 300
MAX_BODY_BYTES: Final = 1 << 20
"""Stripe's events are a few KiB; anyone may post here, so no more than this is read before the check"""
PROVIDER: Final = "stripe"
UNVERIFIED: Final = "unverified"
"""the type label of an event whose signature failed: its claimed type is not trusted"""


def signed_at(header: str) -> int | None:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


async def raw_body(request: Request) -> bytes:
    """The body as sent, refused (413) past MAX_BODY_BYTES without reading the rest."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"a Stripe event is at most {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"a Stripe event is at most {MAX_BODY_BYTES} bytes")
    return bytes(body)


def verified_event(provider: StripeProvider, body: bytes, header: str | None) -> dict[str, Any]:
    """The event, if `header` signs `body` with the webhook secret within the tolerance; else 400."""
    if not header:
        raise ApiError(400, "missing Stripe-Signature header")
    try:
        event = provider.client.construct_event(body, header, provider.config.webhook_secret, TOLERANCE_SECONDS)
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


def about_this_subscription(subscription_id: str | None, facts: list[BillingFact]) -> Guard:
    """A guard: facts about a subscription other than the organization's own change nothing, unless
    they start one (a new purchase replaces an ended subscription). A failed first payment, for
    one, says nothing about an organization that holds no subscription yet."""

    def guard(current: Mapping[str, str]) -> bool:
        if any(isinstance(fact, Subscribed) for fact in facts):
            return True
        held = current.get(ann.PROVIDER_SUBSCRIPTION_ID)
        return held is not None and held == subscription_id

    return guard


def build(provider: StripeProvider) -> APIRouter:
    router = APIRouter()

    @router.post("/webhook", summary="Stripe's webhook endpoint (signed with STRIPE_WEBHOOK_SECRET)")
    async def webhook(request: Request) -> JSONBody:
        try:
            body = await raw_body(request)
            event = verified_event(provider, body, request.headers.get("stripe-signature"))
        except ApiError as exc:
            WEBHOOK_EVENTS.labels(PROVIDER, UNVERIFIED, "rejected").inc()
            logger.warning("Stripe webhook refused: %s", exc.message)
            raise
        event_type = event["type"]
        label = event_type if event_type in events.HANDLED else "other"
        outcome = "error"
        try:
            outcome, answer = await handle(provider, event)
        finally:
            WEBHOOK_EVENTS.labels(PROVIDER, label, outcome).inc()
        return ok({"received": True, "eventId": event.get("id"), "outcome": outcome, **answer})

    return router


async def handle(provider: StripeProvider, event: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(outcome, what to add to the answer); raises ApiError for 4xx/5xx."""
    event_id, event_type, created = event.get("id"), event["type"], event["created"]
    log = {"eventId": event_id, "eventType": event_type}
    if event_type not in events.HANDLED:
        logger.info("Stripe event %s of type %s: not one we act on", event_id, event_type, extra=log)
        return "ignored", {}
    obj = (event.get("data") or {}).get("object") or {}
    subject = events.subject(event_type, obj)
    organization = _owner(provider, subject)
    if organization is None:
        logger.warning(
            "Stripe event %s (%s) names no organization we know (subscription %s)",
            event_id,
            event_type,
            subject.subscription_id,
            extra=log,
        )
        return "unknown_organization", {}
    log["organization"] = organization
    catalog = provider.catalog()
    subscription: Any = None
    if events.needs_subscription(event_type, obj) and subject.subscription_id:
        async with stripe_errors("reading the subscription of a completed checkout"):
            subscription = (await provider.client.v1.subscriptions.retrieve_async(subject.subscription_id)).to_dict()
    try:
        facts = events.event_facts(event_type, obj, provider.prices(catalog), catalog, subscription)
    except events.UnmappedPrice as exc:
        logger.error("Stripe event %s: %s", event_id, exc, extra=log)
        raise ApiError(422, str(exc), {"eventId": event_id}) from exc
    if not facts:
        return "ignored", {"organization": organization}
    try:
        applied = await apply_facts(
            provider.kube,
            organization,
            facts,
            created=created,
            guard=about_this_subscription(subject.subscription_id, facts),
        )
    except OrganizationNotFound:
        logger.warning(
            "Stripe event %s is about organization %s, which does not exist", event_id, organization, extra=log
        )
        return "unknown_organization", {"organization": organization}
    except KubernetesUnavailable as exc:
        logger.error("Stripe event %s not applied: %s", event_id, exc, extra=log)
        raise ApiError(
            503, "the Kubernetes API failed; nothing was written (Stripe will retry)", {"eventId": event_id}
        ) from exc
    if not applied.changes:
        logger.info(
            "Stripe event %s changes nothing for %s (duplicate, older or no-op)", event_id, organization, extra=log
        )
        return "unchanged", {"organization": organization}
    logger.info(
        "Stripe event %s applied to %s: %s",
        event_id,
        organization,
        ", ".join(f"{key.removeprefix(ann.PREFIX)}={value}" for key, value in applied.changes.items()),
        extra=log,
    )
    return "applied", {"organization": organization, "changes": applied.changes}
