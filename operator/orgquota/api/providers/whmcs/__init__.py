"""The WHMCS provider (`BILLING_PROVIDER=whmcs`): the module's signed calls at `POST /webhook`.

WHMCS is the billing system; the page only links to its client area. The module calls this API on
each service event; the call is verified (`signature`), read (`calls`) and applied to the
Organization through the one webhook pipeline, state machine and annotation writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

from pydantic import AnyHttpUrl, SecretStr, field_validator

from orgquota.api.providers.interface import BillingProvider, Features, ProviderSettings
from orgquota.api.providers.whmcs.webhook import WhmcsWebhook

MIN_SECRET_LENGTH: Final = 32


class WhmcsSettings(ProviderSettings):
    ENVIRONMENT: ClassVar[Mapping[str, str]] = {
        "webhook_secret": "WHMCS_WEBHOOK_SECRET",
        "client_area_url": "WHMCS_CLIENT_AREA_URL",
    }
    SECRETS: ClassVar[frozenset[str]] = frozenset({"webhook_secret"})

    webhook_secret: SecretStr
    """the secret the module signs its calls with"""
    client_area_url: AnyHttpUrl | None = None
    """where people manage their WHMCS services (the page links there)"""

    @field_validator("webhook_secret")
    @classmethod
    def _strong(cls, secret: SecretStr) -> SecretStr:
        """The secret is all that makes a call WHMCS's (it moves quotas): one short enough to guess
        offline from a captured signature is refused at start."""
        if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters (a random one, e.g. `openssl rand -hex 32`)"
            )
        return secret


class Whmcs(BillingProvider[WhmcsSettings]):
    Settings = WhmcsSettings

    def features(self) -> Features:
        url = self.settings.client_area_url
        return Features(webhooks=True, external_billing_url=str(url) if url else None)

    def webhook(self) -> WhmcsWebhook:
        return WhmcsWebhook(self.settings.webhook_secret.get_secret_value().encode(), self.context.cluster)


PROVIDER: Final = Whmcs
