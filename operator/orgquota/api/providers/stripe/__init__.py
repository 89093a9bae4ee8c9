"""The Stripe provider (`BILLING_PROVIDER=stripe`): Checkout, plan and add-on changes, cancellation,
the customer portal, and the webhook that turns Stripe's events into billing annotations."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter

from orgquota.api.providers.stripe import changes, checkout
from orgquota.api.providers.stripe.provider import StripeProvider
from orgquota.api.providers.stripe.webhook import StripeWebhook


class Stripe(StripeProvider):
    def router(self) -> APIRouter:
        router = APIRouter(lifespan=self.api.lifespan)
        checkout.add_routes(router, self)
        changes.add_routes(router, self)
        return router

    def webhook(self) -> StripeWebhook:
        return StripeWebhook(self)


PROVIDER: Final = Stripe
