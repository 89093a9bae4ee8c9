"""The Stripe provider (`BILLING_PROVIDER=stripe`): Checkout, plan and add-on changes, cancellation,
the customer portal, and the webhook that turns Stripe's events into billing annotations."""

from __future__ import annotations

from fastapi import APIRouter

from orgquota.api.providers import ProviderContext
from orgquota.api.providers.stripe import changes, checkout, webhook
from orgquota.api.providers.stripe.provider import StripeProvider


def router(context: ProviderContext) -> APIRouter:
    provider = StripeProvider.from_context(context)
    mounted = APIRouter(lifespan=provider.api.lifespan)
    mounted.include_router(checkout.build(provider))
    mounted.include_router(changes.build(provider))
    mounted.include_router(webhook.build(provider))
    return mounted
