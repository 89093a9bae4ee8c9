"""`POST /api/billing/webhook` for WHMCS: its half of the one webhook pipeline (`providers.webhook`).

Answers: 200 with the annotations written (or none); 401 for a request that is not signed with
the shared secret, not fresh or already applied; 400 naming what is wrong with the body; 404
`ORG_NOT_FOUND`; 503 when the Kubernetes API fails (nothing is written then, WHMCS may retry).

A call applied to an organization (its facts written, or found already true) is recorded in the
Organization itself (`core.call_records`), in the same conditional write, so a copy is refused
by every API replica, and after a restart; each process also remembers the calls it answered.
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
    TOLERANCE_SECONDS,
    ReplayGuard,
    SignatureRejected,
    verify,
)
from orgquota.core import call_records
from orgquota.core.annotations import APPLIED_CALLS, WHMCS_CLIENT
from orgquota.core.billing_facts import BillingFact
from orgquota.kube.billing_annotations import Decide, Recorded, Stamp

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


REPLAYED: Final = "WHMCS signature rejected: this signed call was already applied"


@dataclass(frozen=True)
class CallDelivery(Delivery):
    checked: calls.Checked
    call_id: str
    """how the organization records the call once applied (`core.call_records`)"""

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
            raise Settled("replayed", error_response(401, REPLAYED))
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
        call_id = call_records.call_id(message.digest)
        decide = _decision(checked, call_id, call_log(call, message.sent))
        return CallDelivery(call.action.value, call.organization, decide, message.sent, checked, call_id)

    def stamp(self, delivery: CallDelivery) -> Stamp:
        """The call recorded in the organization until it is too old to pass the signature check."""
        assert delivery.created is not None
        until = delivery.created + TOLERANCE_SECONDS

        def record(current: Mapping[str, str]) -> dict[str, str | None]:
            recorded: dict[str, str | None] = {
                APPLIED_CALLS: call_records.with_call(current, delivery.call_id, until, time.time())
            }
            if calls.bound_client(current) is None:  # the first activation binds its client (refusal)
                recorded[WHMCS_CLIENT] = delivery.checked.call.customer_id
            return recorded

        return record

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


def _decision(checked: calls.Checked, call_id: str, log: dict[str, Any]) -> Decide:
    """The call's fact, unless the organization has it recorded as applied (a copy, maybe received
    by another replica: 401), or the organization is bound to another WHMCS client or service
    (409, nothing written)."""
    call = checked.call

    def decide(current: Mapping[str, str]) -> list[BillingFact]:
        if call_records.applied(current, call_id):
            logger.warning("WHMCS call refused: a replay of a call the organization recorded", extra=log)
            raise Settled("replayed", error_response(401, REPLAYED))
        reason = calls.refusal(call, current)
        if reason is None:
            return [calls.fact_of(checked, current)]
        logger.warning("WHMCS %s refused: %s", call.action.value, reason, extra=log)
        details = {"organization": call.organization, "serviceId": call.service_id, "clientId": call.client_id}
        raise Settled("not_bound", error_response(409, reason, details))

    return decide
