"""Changes to a live Stripe subscription: plan, add-ons, cancellation, and the customer portal.

Each change is made in Stripe, and the annotations follow Stripe's confirming webhook; only a
cancellation is written at once (`canceling`, the plan kept), because the page shows it right away.
A change that lowers the quota is refused before Stripe is called when current usage would not fit.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from stripe.params import SubscriptionUpdateParamsItem

from orgquota.api.audit import audited
from orgquota.api.auth import OrgAdmin
from orgquota.api.budget_guard import added_addon, refuse_over_budget
from orgquota.api.envelope import ApiError, JSONBody, ok
from orgquota.api.providers.apply import apply_facts
from orgquota.api.providers.stripe.events import object_id, period_end
from orgquota.api.providers.stripe.prices import Kind
from orgquota.api.providers.stripe.provider import (
    StripeProvider,
    idempotency_key,
    require_live,
    stripe_errors,
)
from orgquota.core import annotations as ann
from orgquota.core.annotations import AddonRequest
from orgquota.core.billing_facts import CancelRequested
from orgquota.core.desired import granted_addons

logger = logging.getLogger(__name__)


class PlanChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    planId: Annotated[str, Field(min_length=1)]
    overBudget: bool = False
    """go ahead although the new monthly cost is above the organization's budget"""


class AddonChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    addonId: Annotated[str, Field(min_length=1)]
    overBudget: bool = False
    """go ahead although the new monthly cost is above the organization's budget"""


def items_by_price(subscription: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in (subscription.get("items") or {}).get("data") or []:
        price = object_id(item.get("price"))
        if price:
            found[price] = item
    return found


def add_routes(router: APIRouter, provider: StripeProvider) -> None:
    client = provider.client

    @router.put("/organization-subscription", summary="Change the plan (refused when current usage would not fit)")
    @audited("plan change")
    async def change_plan(body: PlanChange, caller: OrgAdmin) -> JSONBody:
        org = caller.org
        facts = provider.org_facts(org)
        subscription_id = require_live(facts.record.annotations, org)
        price = provider.plan_price(facts.catalog, body.planId)
        refuse_over_budget(facts, body.planId, None, body.overBudget)
        if body.planId == facts.plan_id:
            raise ApiError(409, f"organization {org!r} is already on plan {body.planId!r}", {"planId": body.planId})
        provider.require_fit(
            facts,
            body.planId,
            None,
            f"current usage does not fit plan {body.planId!r}: free resources first",
            {"planId": body.planId},
        )
        async with stripe_errors("changing the plan"):
            subscription = (await client.v1.subscriptions.retrieve_async(subscription_id)).to_dict()
            book = provider.prices(facts.catalog)
            plan_items = [
                item
                for price_id, item in items_by_price(subscription).items()
                if (priced := book.item_of(price_id)) is not None and priced.kind == Kind.PLAN
            ]
            if len(plan_items) != 1:
                raise ApiError(
                    409,
                    f"subscription {subscription_id} has {len(plan_items)} items with a plan's price; "
                    "change it in Stripe's dashboard",
                    {"subscriptionId": subscription_id},
                )
            await client.v1.subscriptions.update_async(
                subscription_id,
                {"items": [{"id": plan_items[0]["id"], "price": price}], "proration_behavior": "create_prorations"},
                idempotency_key("plan", org),
            )
        logger.info("subscription %s: plan change to %s requested", subscription_id, body.planId)
        return ok({"subscriptionId": subscription_id, "planId": body.planId, "pending": True})

    @router.delete("/organization-subscription", summary="Cancel at the end of the paid period")
    @audited("cancel")
    async def cancel(caller: OrgAdmin) -> JSONBody:
        org = caller.org
        record = provider.cluster.organization(org)
        subscription_id = require_live(record.annotations, org)
        async with stripe_errors("canceling the subscription"):
            subscription = (
                await client.v1.subscriptions.update_async(
                    subscription_id, {"cancel_at_period_end": True}, idempotency_key("cancel", org)
                )
            ).to_dict()
            ends = period_end(subscription)
            await apply_facts(provider.kube, org, [CancelRequested(ends)], created=None)
        logger.info("subscription %s: cancellation at period end requested (ends %s)", subscription_id, ends)
        return ok(
            {
                "status": ann.Subscription.CANCELING.value,
                "periodEnd": ends,
                "planId": record.annotations.get(ann.PLAN_ID),
            }
        )

    @router.post("/organization-subscription/addons", summary="Add one of an add-on to the subscription")
    @audited("add-on added")
    async def add_addon(body: AddonChange, caller: OrgAdmin) -> JSONBody:
        org = caller.org
        record = provider.cluster.organization(org)
        subscription_id = require_live(record.annotations, org)
        price = provider.addon_price(provider.catalog(), body.addonId)
        facts = provider.org_facts(org)
        refuse_over_budget(facts, facts.plan_id, added_addon(facts, body.addonId), body.overBudget)
        async with stripe_errors("adding an add-on"):
            subscription = (await client.v1.subscriptions.retrieve_async(subscription_id)).to_dict()
            item = items_by_price(subscription).get(price)
            quantity = (item.get("quantity") or 0) + 1 if item else 1
            if quantity > ann.MAX_ADDON_QUANTITY:
                raise ApiError(
                    409, f"at most {ann.MAX_ADDON_QUANTITY} of add-on {body.addonId!r}", {"addonId": body.addonId}
                )
            change: SubscriptionUpdateParamsItem = (
                {"id": item["id"], "quantity": quantity} if item else {"price": price, "quantity": 1}
            )
            await client.v1.subscriptions.update_async(
                subscription_id,
                {"items": [change], "proration_behavior": "create_prorations"},
                idempotency_key("addon", org),
            )
        return ok({"subscriptionId": subscription_id, "addonId": body.addonId, "quantity": quantity, "pending": True})

    @router.delete("/organization-subscription/addons/{addonId}", summary="Remove one of an add-on")
    @audited("add-on removed")
    async def remove_addon(addonId: str, caller: OrgAdmin) -> JSONBody:
        org = caller.org
        facts = provider.org_facts(org)
        subscription_id = require_live(facts.record.annotations, org)
        granted, _ = granted_addons(facts.record.annotations.get(ann.ADDONS), facts.catalog)
        if addonId not in dict(granted):
            raise ApiError(404, f"the subscription has no add-on {addonId!r}", {"addonId": addonId})
        price = provider.addon_price(facts.catalog, addonId)
        remaining = [AddonRequest(a, q - (a == addonId)) for a, q in granted if q - (a == addonId) > 0]
        if facts.plan_id in facts.catalog.plans:
            provider.require_fit(
                facts,
                facts.plan_id or "",
                remaining,
                f"current usage does not fit without one {addonId!r}: free resources first",
                {"addonId": addonId},
            )
        async with stripe_errors("removing an add-on"):
            subscription = (await client.v1.subscriptions.retrieve_async(subscription_id)).to_dict()
            item = items_by_price(subscription).get(price)
            if item is None:
                raise ApiError(404, f"the subscription has no add-on {addonId!r}", {"addonId": addonId})
            quantity = (item.get("quantity") or 1) - 1
            change: SubscriptionUpdateParamsItem = (
                {"id": item["id"], "quantity": quantity} if quantity > 0 else {"id": item["id"], "deleted": True}
            )
            await client.v1.subscriptions.update_async(
                subscription_id,
                {"items": [change], "proration_behavior": "create_prorations"},
                idempotency_key("addon", org),
            )
        return ok({"subscriptionId": subscription_id, "addonId": addonId, "quantity": quantity, "pending": True})

    @router.post("/customer-portal", summary="A Stripe customer portal session for the organization's customer")
    @audited("customer portal")
    async def portal(caller: OrgAdmin) -> JSONBody:
        record = provider.cluster.organization(caller.org)
        customer = record.annotations.get(ann.PROVIDER_CUSTOMER_ID)
        if not customer:
            raise ApiError(409, f"organization {caller.org!r} has no Stripe customer yet: subscribe first")
        async with stripe_errors("opening the customer portal"):
            session = await client.v1.billing_portal.sessions.create_async(
                {"customer": customer, "return_url": f"{provider.console_url}/"}, idempotency_key("portal", caller.org)
            )
        return ok({"url": session.url})
