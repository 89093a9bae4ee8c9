"""The Stripe provider's settings and its API client, checked once at start."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import stripe

from orgquota.api.settings import ENVIRONMENT, ApiSettings

logger = logging.getLogger(__name__)

NETWORK_RETRIES: Final = 2
"""Stripe's client retries failed requests itself, with the same idempotency key"""
TIMEOUT_SECONDS: Final = 20.0


@dataclass(frozen=True)
class StripeConfig:
    secret_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_base: str | None
    console_url: str
    prices: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> StripeConfig:
        """The provider's settings; SystemExit naming each missing one."""
        missing = [
            ENVIRONMENT[name]
            for name in ("stripe_secret_key", "stripe_webhook_secret")
            if getattr(settings, name) is None
        ]
        if missing:
            raise SystemExit(
                "orgquota api: BILLING_PROVIDER=stripe needs "
                + " and ".join(f"{name} (or {name}_FILE)" for name in missing)
            )
        key, secret = settings.stripe_secret_key, settings.stripe_webhook_secret
        assert key is not None
        assert secret is not None
        return cls(
            secret_key=key.get_secret_value(),
            webhook_secret=secret.get_secret_value(),
            api_base=str(settings.stripe_api_base).rstrip("/") if settings.stripe_api_base else None,
            console_url=str(settings.console_url).rstrip("/"),
            prices=dict(settings.stripe_prices),
        )


class StripeApi:
    """Stripe's official client on the event loop's own HTTP stack (aiohttp), closed with the app."""

    def __init__(self, config: StripeConfig) -> None:
        # The SDK's own request log carries response bodies (checkout and portal addresses) at DEBUG.
        logging.getLogger("stripe").setLevel(max(logging.WARNING, logging.getLogger("stripe").level))
        self.http = stripe.AIOHTTPClient(timeout=TIMEOUT_SECONDS)
        addresses: Any = {"api": config.api_base} if config.api_base else None
        self.client = stripe.StripeClient(
            config.secret_key, base_addresses=addresses, http_client=self.http, max_network_retries=NETWORK_RETRIES
        )

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.http.close_async()  # type: ignore[no-untyped-call]
