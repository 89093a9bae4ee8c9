"""`POST /api/billing/webhook` for WHMCS: verify, read, check, apply; every outcome counted and logged.

Answers: 200 with the annotations written (or none); 401 for a request that is not signed with
the shared secret, not fresh or already applied; 400 naming what is wrong with the body; 404
`ORG_NOT_FOUND`; 503 when the Kubernetes API fails (nothing is written then, WHMCS may retry).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
from fastapi import APIRouter, Request
from fastapi.responses import Response

from orgquota.api.envelope import JSONBody, error_body, error_response, ok
from orgquota.api.metrics import WEBHOOK_EVENTS
from orgquota.api.organization import catalog_in_force
from orgquota.api.providers import ProviderContext
from orgquota.api.providers.whmcs import calls
from orgquota.api.providers.whmcs.openapi import WEBHOOK_OPENAPI
from orgquota.api.providers.whmcs.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ReplayGuard,
    SignatureRejected,
    verify,
)
from orgquota.api.settings import ENVIRONMENT
from orgquota.core.billing_facts import BillingFact
from orgquota.kube.billing_annotations import record_facts
from orgquota.kube.client import KubeError

logger = logging.getLogger(__name__)

PROVIDER: Final = "whmcs"
NOT_FOUND_CODE: Final = "ORG_NOT_FOUND"
MAX_BODY_BYTES: Final = 64 * 1024
"""far above any module call; the signature is only computed over bodies up to this size"""


class OtherService(Exception):
    """The call is about a service that is not (or no longer) the organization's own."""

    def __init__(self, own: str) -> None:
        super().__init__(own)
        self.own = own


def _count(action: str, outcome: str) -> None:
    kind = action if action in set(calls.Action) else "unknown"
    WEBHOOK_EVENTS.labels(PROVIDER, kind, outcome).inc()


def router(context: ProviderContext) -> APIRouter:
    secret = context.settings.whmcs_webhook_secret
    if secret is None:
        variable = ENVIRONMENT["whmcs_webhook_secret"]
        raise SystemExit(f"orgquota api: {variable}: required with BILLING_PROVIDER=whmcs (the module's shared secret)")
    key = secret.get_secret_value().encode()
    guard = ReplayGuard()
    routes = APIRouter()

    @routes.post(
        "/webhook",
        summary="A WHMCS module call (signed with WHMCS_WEBHOOK_SECRET): activate, unsuspend, suspend, "
        "terminate, change or renew a service",
        openapi_extra=WEBHOOK_OPENAPI,
    )
    async def webhook(request: Request) -> Response:
        body = await _read_capped(request)
        if body is None:
            _count("", "invalid")
            return error_response(413, f"the request body is larger than {MAX_BODY_BYTES} bytes", {})
        now = time.time()
        try:
            sent, digest = verify(
                key, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), body, now
            )
        except SignatureRejected as exc:
            _count("", "unauthorized")
            logger.warning("WHMCS call refused: %s", exc, extra={"provider": PROVIDER})
            return error_response(401, f"WHMCS signature rejected: {exc}", {"reason": str(exc)})
        if not guard.claim(digest, sent, now):
            _count("", "replayed")
            logger.warning("WHMCS call refused: a replay of an applied call", extra={"provider": PROVIDER})
            return error_response(401, "WHMCS signature rejected: this signed call was already applied", {})
        applied = False
        try:
            answer = await _apply(context, body, sent)
            applied = answer.status_code == 200
            return answer
        finally:
            if not applied:
                guard.release(digest)

    return routes


async def _read_capped(request: Request) -> bytes | None:
    """The raw body, or None once it exceeds MAX_BODY_BYTES (read no further: nobody is verified yet)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


async def _apply(context: ProviderContext, body: bytes, sent: int) -> Response:
    action = ""
    try:
        call = calls.parse_call(body)
        action = call.action.value
        checked = calls.check(call, catalog_in_force(context.cluster))
    except calls.CallRejected as exc:
        _count(action, "invalid")
        logger.warning("WHMCS call refused: %s", exc.message, extra={"provider": PROVIDER, "action": action or None})
        return error_response(exc.status, exc.message, exc.details)

    def decide(current: Mapping[str, str]) -> list[BillingFact]:
        own = calls.other_service(call, current)
        if own is not None:
            raise OtherService(own)
        return [calls.fact_of(checked, current)]

    log: dict[str, Any] = {"provider": PROVIDER, "action": action, "organization": call.organization}
    log |= {"serviceId": call.service_id, "providerTime": sent}
    try:
        recorded = await record_facts(context.kube, call.organization, decide, created=sent, now=datetime.now(UTC))
    except OtherService as exc:
        _count(action, "other_service")
        logger.info(
            "WHMCS %s of %s ignored: the organization's subscription is %s",
            action,
            call.subscription_id,
            exc.own,
            extra=log,
        )
        return ok(
            {
                "organization": call.organization,
                "action": action,
                "changes": {},
                "ignored": f"{call.subscription_id} is not the organization's subscription ({exc.own})",
            }
        )
    except (KubeError, aiohttp.ClientError, TimeoutError) as exc:
        _count(action, "error")
        logger.error("WHMCS %s: the Kubernetes API failed: %s", action, exc, extra=log)
        reason = str(exc) or type(exc).__name__
        return error_response(503, "the Kubernetes API failed; nothing was written, try again", {"reason": reason})
    if recorded is None:
        _count(action, "not_found")
        logger.warning("WHMCS %s for an unknown organization", action, extra=log)
        answer = error_body("Organization not found", {"organization": call.organization})
        return JSONBody({**answer, "code": NOT_FOUND_CODE}, status_code=404)
    outcome = "applied" if recorded.changes else "unchanged"
    _count(action, outcome)
    logger.info("WHMCS %s %s: %s", action, outcome, sorted(recorded.changes), extra=log)
    data: dict[str, Any] = {"organization": call.organization, "action": action, "changes": recorded.changes}
    if checked.ignored_options:
        data["ignoredOptions"] = checked.ignored_options
    return ok(data)
