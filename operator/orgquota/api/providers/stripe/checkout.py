"""Buying through Stripe Checkout: the session a person is sent to, and its confirmation on return.

The confirmation reads the session back from Stripe (never trusting the address it came back on)
and writes the plan at once, because the person is waiting; Stripe's webhook remains the source of
truth and repeats the same facts later. Checkout addresses are answered, never logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from stripe.params.checkout import SessionCreateParams, SessionCreateParamsLineItem

from orgquota.api.audit import audited
from orgquota.api.auth import OrgAdmin
from orgquota.api.currency import refusal
from orgquota.api.envelope import ApiError, JSONBody, ok
from orgquota.api.providers.apply import apply_facts
from orgquota.api.providers.stripe import binding
from orgquota.api.providers.stripe.events import ORGANIZATION_KEY, object_id, subscription_facts
from orgquota.api.providers.stripe.provider import (
    StripeProvider,
    idempotency_key,
    live_subscription,
    stripe_errors,
)
from orgquota.api.routes import AddonEntry
from orgquota.core import annotations as ann
from orgquota.core.annotations import AddonRequest
from orgquota.core.billing_facts import BillingFact, Subscribed
from orgquota.core.prices import Trial
from orgquota.core.trials import Refused, paying_currency

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    planId: Annotated[str, Field(min_length=1)]
    addons: list[AddonEntry] | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    """ISO 4217; the organization's own once it has one (another answers 409), else the plan's default"""


class SessionRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sessionId: Annotated[str, Field(min_length=1)]


def offer_trial(params: SessionCreateParams, trial: Trial | None, annotations: Mapping[str, str]) -> None:
    """The plan's trial, once per organization (`trial-ends-at` records the one it had); without
    `requiresPaymentMethod`, no card is asked for and a trial that ends unpaid pauses (the floor)."""
    if trial is None or ann.TRIAL_ENDS_AT in annotations:
        return
    params["subscription_data"]["trial_period_days"] = trial.days
    if not trial.requiresPaymentMethod:
        params["payment_method_collection"] = "if_required"
        params["subscription_data"]["trial_settings"] = {"end_behavior": {"missing_payment_method": "pause"}}


def add_routes(router: APIRouter, provider: StripeProvider) -> None:
    client, console = provider.client, provider.console_url

    @router.post("/organization-subscription", summary="Start a Stripe Checkout for a plan (and add-ons)")
    @audited("checkout")
    async def subscribe(body: CheckoutRequest, caller: OrgAdmin) -> JSONBody:
        org = caller.org
        facts = provider.org_facts(org)
        record = facts.record
        current = live_subscription(record.annotations)
        if current is not None:
            raise ApiError(
                409,
                f"organization {org!r} already has a subscription ({current}); change its plan instead",
                {"subscriptionId": current, "status": record.annotations.get(ann.SUBSCRIPTION) or "active"},
            )
        catalog = facts.catalog
        try:
            currency = paying_currency(record.annotations, body.currency, catalog)
        except Refused as exc:
            raise refusal(exc) from exc
        line_items: list[SessionCreateParamsLineItem] = [
            {"price": provider.plan_price(catalog, body.planId, currency), "quantity": 1}
        ]
        quantities: dict[str, int] = {}
        for entry in body.addons or []:
            quantities[entry.addonId] = quantities.get(entry.addonId, 0) + entry.quantity
        for addon_id, quantity in sorted(quantities.items()):
            if quantity > ann.MAX_ADDON_QUANTITY:
                raise ApiError(422, f"at most {ann.MAX_ADDON_QUANTITY} of add-on {addon_id!r}", {"addonId": addon_id})
            line_items.append({"price": provider.addon_price(catalog, addon_id, currency), "quantity": quantity})
        provider.require_fit(
            facts,
            body.planId,
            [AddonRequest(addon_id, quantity) for addon_id, quantity in sorted(quantities.items())],
            f"current usage does not fit plan {body.planId!r}: free resources or choose a larger plan",
            {"planId": body.planId},
        )
        metadata = {ORGANIZATION_KEY: org, "planId": body.planId}
        params: SessionCreateParams = {
            "mode": "subscription",
            "line_items": line_items,
            "client_reference_id": org,
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
            "success_url": f"{console}/?sessionId={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{console}/?checkout=canceled",
        }
        customer = record.annotations.get(ann.PROVIDER_CUSTOMER_ID)
        if customer:
            params["customer"] = customer
        earlier = await binding.recorded_session(provider.kube, org)
        if earlier:  # one open checkout per organization: two could start two subscriptions
            await binding.expire_earlier(client, org, earlier)
        offer_trial(params, catalog.plans[body.planId].trial, record.annotations)
        async with stripe_errors("creating a Checkout Session"):
            session = await client.v1.checkout.sessions.create_async(params, idempotency_key("checkout", org))
        try:
            await binding.record_session(provider.kube, org, earlier, session.id)
        except ApiError:
            await binding.expire_earlier(client, org, session.id)
            raise
        logger.info("Checkout Session %s created for plan %s", session.id, body.planId)
        return ok({"checkoutUrl": session.url, "sessionId": session.id})

    async def verify(session_id: str, org: str) -> JSONBody:
        if not SESSION_ID.match(session_id):
            raise ApiError(400, "sessionId must be a Checkout Session id (cs_...)", {"sessionId": session_id[:80]})
        async with stripe_errors("reading the Checkout Session"):
            session = (
                await client.v1.checkout.sessions.retrieve_async(session_id, {"expand": ["subscription"]})
            ).to_dict()
        owner = (session.get("metadata") or {}).get(ORGANIZATION_KEY) or session.get("client_reference_id")
        if owner != org:
            raise ApiError(
                404, f"checkout session {session_id} is not one of organization {org!r}", {"sessionId": session_id}
            )
        status = session.get("status")
        if status != "complete" or session.get("mode") != "subscription":
            return ok({"status": status, "complete": False, "planId": None, "planName": None})
        subscription: Any = session.get("subscription")
        if isinstance(subscription, str):
            async with stripe_errors("reading the subscription"):
                subscription = (await client.v1.subscriptions.retrieve_async(subscription)).to_dict()
        if not subscription:
            raise ApiError(502, f"Stripe's session {session_id} is complete but names no subscription")
        catalog = provider.catalog()
        try:
            facts = subscription_facts(subscription, provider.prices(catalog), catalog)
        except ValueError as exc:
            logger.error("checkout %s: %s", session_id, exc)
            raise ApiError(502, str(exc), {"sessionId": session_id}) from exc
        claim = binding.Claim(object_id(subscription), session_id)

        def bound(current: Mapping[str, str]) -> list[BillingFact]:
            reason = binding.refusal(current, facts, claim)
            if reason is not None:
                logger.warning("checkout %s not applied to %s: %s", session_id, org, reason)
                raise ApiError(409, f"checkout session {session_id} is not bound to organization {org!r}: {reason}")
            return facts

        async with stripe_errors("writing the subscription"):
            await apply_facts(provider.kube, org, bound, created=None)
        sold = next((fact for fact in facts if isinstance(fact, Subscribed)), None)
        return ok(
            {
                "status": status,
                "complete": sold is not None,  # False while the first payment is still pending
                "planId": sold.plan_id if sold else None,
                "planName": sold.plan_name if sold else None,
                "subscriptionStatus": subscription.get("status"),
            }
        )

    @router.get("/verify-checkout", summary="Confirm a completed Checkout and apply its plan at once")
    @audited("checkout confirmed")
    async def verify_get(caller: OrgAdmin, sessionId: Annotated[str, Query(min_length=1)]) -> JSONBody:
        return await verify(sessionId, caller.org)

    @router.post("/verify-checkout", summary="Confirm a completed Checkout (the session id in the body)")
    @audited("checkout confirmed")
    async def verify_post(body: SessionRef, caller: OrgAdmin) -> JSONBody:
        return await verify(body.sessionId, caller.org)
