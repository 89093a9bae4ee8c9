"""`POST /api/billing/webhook` for WHMCS: its half of the one webhook pipeline (`providers.webhook`).

Answers: 200 with the annotations written (or none); 401 for a request that is not signed with
the shared secret, not fresh or already applied; 400 naming what is wrong with the body; 404
`ORG_NOT_FOUND`; 503 when the Kubernetes API fails (nothing is written then, WHMCS may retry).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi.responses import Response

from orgquota.api.cluster import Cluster
from orgquota.api.envelope import JSONBody, error_body, error_response, ok
from orgquota.api.organization import catalog_in_force
from orgquota.api.providers.apply import KubernetesUnavailable
from orgquota.api.providers.webhook import Delivery, Settled, Webhook
from orgquota.api.providers.whmcs import calls
from orgquota.api.providers.whmcs.openapi import WEBHOOK_OPENAPI
from orgquota.api.providers.whmcs.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ReplayGuard,
    SignatureRejected,
    verify,
)
from orgquota.core.billing_facts import BillingFact
from orgquota.kube.billing_annotations import Decide, Recorded

logger = logging.getLogger(__name__)

PROVIDER: Final = "whmcs"
UNKNOWN: Final = "unknown"
"""the type label of a call whose action was not read"""
NOT_FOUND_CODE: Final = "ORG_NOT_FOUND"
MAX_BODY_BYTES: Final = 64 * 1024
"""far above any module call; the signature is only computed over bodies up to this size"""


@dataclass(frozen=True)
class Signed:
    """A call signed with the shared secret, fresh, and claimed against a replay: `sent` is when it
    was signed (provider time, Unix seconds, its ordering key), `digest` its signature."""

    body: bytes
    sent: int
    digest: bytes


@dataclass(frozen=True)
class CallDelivery(Delivery):
    checked: calls.Checked

    @property
    def log(self) -> dict[str, Any]:
        return call_log(self.checked.call, self.created)


def call_log(call: calls.Call, sent: int | None) -> dict[str, Any]:
    """What a log line of the call says besides its message."""
    return {
        "provider": PROVIDER,
        "action": call.action.value,
        "organization": call.organization,
        "serviceId": call.service_id,
        "providerTime": sent,
    }


class WhmcsWebhook(Webhook[Signed, CallDelivery]):
    provider = PROVIDER
    unverified = UNKNOWN
    max_body_bytes = MAX_BODY_BYTES
    summary = (
        "A WHMCS module call (signed with WHMCS_WEBHOOK_SECRET): activate, unsuspend, suspend, "
        "terminate, change or renew a service"
    )
    openapi = WEBHOOK_OPENAPI

    def __init__(self, secret: bytes, cluster: Cluster) -> None:
        self.secret = secret
        self.cluster = cluster
        self.replays = ReplayGuard()

    def oversized(self) -> Settled:
        return Settled("invalid", error_response(413, f"the request body is larger than {MAX_BODY_BYTES} bytes"))

    def verify(self, headers: Mapping[str, str], body: bytes) -> Signed:
        now = time.time()
        try:
            sent, digest = verify(self.secret, headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER), body, now)
        except SignatureRejected as exc:
            logger.warning("WHMCS call refused: %s", exc, extra={"provider": PROVIDER})
            answer = error_response(401, f"WHMCS signature rejected: {exc}", {"reason": str(exc)})
            raise Settled("unauthorized", answer) from exc
        if not self.replays.claim(digest, sent, now):
            logger.warning("WHMCS call refused: a replay of an applied call", extra={"provider": PROVIDER})
            raise Settled(
                "replayed", error_response(401, "WHMCS signature rejected: this signed call was already applied")
            )
        return Signed(body, sent, digest)

    def finished(self, message: Signed, answer: Response | None) -> None:
        """A call that was not applied may be sent again as it was."""
        if answer is None or answer.status_code != 200:
            self.replays.release(message.digest)

    async def delivery(self, message: Signed) -> CallDelivery:
        action = None
        try:
            call = calls.parse_call(message.body)
            action = call.action.value
            checked = calls.check(call, catalog_in_force(self.cluster))
        except calls.CallRejected as exc:
            logger.warning("WHMCS call refused: %s", exc.message, extra={"provider": PROVIDER, "action": action})
            answer = error_response(exc.status, exc.message, exc.details)
            raise Settled("invalid", answer, kind=action or UNKNOWN) from exc
        decide = _decision(checked, call_log(call, message.sent))
        return CallDelivery(call.action.value, call.organization, decide, message.sent, checked)

    def written(self, delivery: CallDelivery, recorded: Recorded) -> Response:
        call, checked = delivery.checked.call, delivery.checked
        outcome = "applied" if recorded.changes else "unchanged"
        logger.info("WHMCS %s %s: %s", delivery.kind, outcome, sorted(recorded.changes), extra=delivery.log)
        data: dict[str, Any] = {"organization": call.organization, "action": delivery.kind, "changes": recorded.changes}
        if checked.ignored_options:
            data["ignoredOptions"] = checked.ignored_options
        return ok(data)

    def missing(self, delivery: CallDelivery) -> Settled:
        logger.warning("WHMCS %s for an unknown organization", delivery.kind, extra=delivery.log)
        answer = error_body("Organization not found", {"organization": delivery.organization})
        return Settled("not_found", JSONBody({**answer, "code": NOT_FOUND_CODE}, status_code=404))

    def failed(self, delivery: CallDelivery, problem: KubernetesUnavailable) -> Response:
        logger.error("WHMCS %s: the Kubernetes API failed: %s", delivery.kind, problem.reason, extra=delivery.log)
        message = "the Kubernetes API failed; nothing was written, try again"
        return error_response(503, message, {"reason": problem.reason})


def _decision(checked: calls.Checked, log: dict[str, Any]) -> Decide:
    """The call's fact, unless the call is about another service than the organization's own: then
    it is answered 200 and nothing is written."""
    call = checked.call

    def decide(current: Mapping[str, str]) -> list[BillingFact]:
        own = calls.other_service(call, current)
        if own is None:
            return [calls.fact_of(checked, current)]
        message = "WHMCS %s of %s ignored: the organization's subscription is %s"
        logger.info(message, call.action.value, call.subscription_id, own, extra=log)
        ignored = f"{call.subscription_id} is not the organization's subscription ({own})"
        answer: dict[str, Any] = {"organization": call.organization, "action": call.action.value, "changes": {}}
        raise Settled("other_service", ok({**answer, "ignored": ignored}))

    return decide
