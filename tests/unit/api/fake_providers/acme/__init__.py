"""A payment provider written as a third one would be: this package and nothing else.

`test_provider_interface` adds this folder to `orgquota.api.providers.__path__`, so the package is
`orgquota.api.providers.acme` there: `BILLING_PROVIDER=acme` selects it, its `ACME_*` settings are
read by the API's rules, its route is mounted, `/config` offers what it says, and its notices go
through the one webhook pipeline.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import AnyHttpUrl, SecretStr

from orgquota.api.auth import OrgAdmin
from orgquota.api.envelope import JSONBody, error_response, ok
from orgquota.api.providers.apply import KubernetesUnavailable
from orgquota.api.providers.interface import BillingProvider, Features, ProviderSettings
from orgquota.api.providers.webhook import Delivery, Settled, Webhook
from orgquota.core.billing_facts import CancelRequested
from orgquota.kube.billing_annotations import Recorded

KEY_HEADER: Final = "X-Acme-Key"


class AcmeSettings(ProviderSettings):
    ENVIRONMENT: ClassVar[Mapping[str, str]] = {"api_key": "ACME_API_KEY", "portal_url": "ACME_PORTAL_URL"}
    SECRETS: ClassVar[frozenset[str]] = frozenset({"api_key"})

    api_key: SecretStr
    portal_url: AnyHttpUrl


class AcmeWebhook(Webhook[dict[str, Any], Delivery]):
    """ACME's notices carry the API key in a header (a real provider would sign the body)."""

    provider = "acme"
    unverified = "unverified"
    max_body_bytes = 1024
    summary = "ACME's notices"

    def __init__(self, key: str) -> None:
        self.key = key

    def oversized(self) -> Settled:
        return Settled("rejected", error_response(413, "too large"))

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        if not hmac.compare_digest(headers.get(KEY_HEADER, ""), self.key):
            raise Settled("rejected", error_response(401, "not from ACME"))
        notice: dict[str, Any] = json.loads(body)
        return notice

    def kind(self, message: dict[str, Any]) -> str:
        return str(message["event"])

    async def delivery(self, message: dict[str, Any]) -> Delivery:
        if message["event"] != "cancel":
            raise Settled("ignored", ok({"ignored": message["event"]}))
        return Delivery("cancel", message["organization"], lambda current: [CancelRequested()], message["at"])

    def written(self, delivery: Delivery, recorded: Recorded) -> Response:
        return ok({"changes": recorded.changes})

    def missing(self, delivery: Delivery) -> Settled:
        return Settled("not_found", error_response(404, f"no organization {delivery.organization}"))

    def failed(self, delivery: Delivery, problem: KubernetesUnavailable) -> Response:
        return error_response(503, problem.reason)


class Acme(BillingProvider[AcmeSettings]):
    Settings = AcmeSettings

    def features(self) -> Features:
        return Features(portal=True, webhooks=True, external_billing_url=str(self.settings.portal_url))

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/acme-portal")
        async def portal(caller: OrgAdmin) -> JSONBody:
            return ok({"url": f"{self.settings.portal_url}{caller.org}"})

        return router

    def webhook(self) -> AcmeWebhook:
        return AcmeWebhook(self.settings.api_key.get_secret_value())


PROVIDER: Final = Acme
