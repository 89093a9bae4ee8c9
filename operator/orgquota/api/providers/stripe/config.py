"""The Stripe provider's settings and its API client."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar, Final

import stripe
from pydantic import AnyHttpUrl, Field, SecretStr

from orgquota.api.providers.interface import ProviderSettings

logger = logging.getLogger(__name__)

NETWORK_RETRIES: Final = 2
"""Stripe's client retries failed requests itself, with the same idempotency key"""
TIMEOUT_SECONDS: Final = 20.0
PRICE_PREFIX: Final = "STRIPE_PRICE_"


class StripeSettings(ProviderSettings):
    """`STRIPE_*`: the API keys, Stripe's address (stripe-mock in tests), and which price sells what."""

    ENVIRONMENT: ClassVar[Mapping[str, str]] = {
        "secret_key": "STRIPE_SECRET_KEY",
        "webhook_secret": "STRIPE_WEBHOOK_SECRET",
        "api_base": "STRIPE_API_BASE",
    }
    SECRETS: ClassVar[frozenset[str]] = frozenset({"secret_key", "webhook_secret"})

    secret_key: SecretStr
    webhook_secret: SecretStr
    api_base: AnyHttpUrl | None = None
    """another Stripe API endpoint than Stripe's own"""
    prices: Mapping[str, str] = Field(default_factory=dict)
    """STRIPE_PRICE_<ID> by <ID> as written (plan or add-on id upper-cased, '-' as '_')"""

    @classmethod
    def extra_values(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        return {
            "prices": {
                name.removeprefix(PRICE_PREFIX): price.strip()
                for name, price in environ.items()
                if name.startswith(PRICE_PREFIX) and price.strip()
            }
        }


class StripeApi:
    """Stripe's official client on the event loop's own HTTP stack (aiohttp), closed with the app."""

    def __init__(self, settings: StripeSettings) -> None:
        # The SDK's own request log carries response bodies (checkout and portal addresses) at DEBUG.
        logging.getLogger("stripe").setLevel(max(logging.WARNING, logging.getLogger("stripe").level))
        self.http = stripe.AIOHTTPClient(timeout=TIMEOUT_SECONDS)
        addresses: Any = {"api": str(settings.api_base).rstrip("/")} if settings.api_base else None
        self.client = stripe.StripeClient(
            settings.secret_key.get_secret_value(),
            base_addresses=addresses,
            http_client=self.http,
            max_network_retries=NETWORK_RETRIES,
        )

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.http.close_async()  # type: ignore[no-untyped-call]
