"""POST /alerts: Alertmanager's webhook, mailed to each organization's notification addresses.

Authenticated by the bearer secret `ALERTS_WEBHOOK_SECRET` (no JWT), checked before the body is read.
Each alert state (fingerprint, startsAt, firing or resolved) is mailed once: the state is first
claimed in the Organization's `billing.kube-dc.com/notified` annotation by a conditional write
(resourceVersion), so of two replicas given the same delivery one mails and the other finds it
claimed, and a redelivery finds it there too; a failed send gives the claim back and answers 503,
so Alertmanager delivers again and nothing is lost. Mounted only with SMTP_URL.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from pydantic import ValidationError

from orgquota.api.envelope import API_PREFIX, ApiError, JSONBody, ok
from orgquota.api.history.routes import recommendation
from orgquota.api.notifications.mailer import Mailer, MailNotSent
from orgquota.api.notifications.message import AlertmanagerMessage, ReceivedAlert, alert_mail
from orgquota.api.organization import OrgFacts
from orgquota.api.providers.webhook import capped_body
from orgquota.api.schema.envelope import ERROR_RESPONSES, Success
from orgquota.api.schema.notifications import AlertsReceived
from orgquota.api.settings import ApiSettings
from orgquota.core import annotations as ann
from orgquota.core.notifications import alert_key, notified_annotation, parse_notified, parse_notify
from orgquota.core.pressure import recorded_levels
from orgquota.kube.billing_annotations import write_billing_annotations
from orgquota.kube.client import ORGANIZATION, Kube, KubeError, Manifest

logger = logging.getLogger(__name__)

router = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
MAX_BODY_BYTES: Final = 1 << 20
CLAIM_ATTEMPTS: Final = 5


def check_secret(request: Request) -> None:
    settings: ApiSettings = request.app.state.settings
    secret = settings.alerts_webhook_secret
    assert secret is not None  # required with SMTP_URL, the only way this route is mounted
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    expected = secret.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise ApiError(
            401,
            "Alertmanager's webhook needs Authorization: Bearer <ALERTS_WEBHOOK_SECRET>",
            headers={"WWW-Authenticate": 'Bearer realm="alertmanager"'},
        )


async def read_message(request: Request) -> AlertmanagerMessage:
    body = await capped_body(request, MAX_BODY_BYTES)
    if body is None:
        raise ApiError(413, f"an Alertmanager message is at most {MAX_BODY_BYTES} bytes")
    try:
        return AlertmanagerMessage.model_validate_json(body)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        raise ApiError(400, "not an Alertmanager webhook message: " + "; ".join(problems)) from exc


def superseded(alert: ReceivedAlert, status: Mapping[str, Any]) -> bool:
    """A quota alert that ended because its resource moved to the other level: the mail about that
    level says it all (only a quota that recovered is mailed as resolved)."""
    resource = alert.labels.get("resource")
    return alert.status == "resolved" and resource is not None and resource in recorded_levels(status.get("alerts"))


async def claim(kube: Kube, organization: str, alerts: Sequence[ReceivedAlert]) -> tuple[Manifest, list[str]] | None:
    """Record the alert states not mailed yet as mailed; the Organization as it was and the keys claimed
    (None: no such Organization). A conflict (another writer) is read again and decided again."""
    path = ORGANIZATION.path(organization, organization)
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        body = await kube.get(path)
        if body is None:
            return None
        meta = body["metadata"]
        known = parse_notified((meta.get("annotations") or {}).get(ann.NOTIFIED))
        keys = [
            alert_key(a.fingerprint, a.startsAt, a.status)
            for a in alerts
            if not superseded(a, body.get("status") or {})
        ]
        new = [key for key in dict.fromkeys(keys) if key not in known]
        if not new:
            return body, []
        try:
            await write_billing_annotations(
                kube,
                organization,
                organization,
                {ann.NOTIFIED: notified_annotation(known, new)},
                resource_version=meta.get("resourceVersion"),
            )
        except KubeError as exc:
            if exc.status == 404:
                return None
            if exc.status == 409 and attempt < CLAIM_ATTEMPTS:
                continue
            raise
        return body, new
    raise AssertionError("unreachable")


async def give_back(kube: Kube, organization: str, keys: Sequence[str]) -> None:
    """Remove claimed keys again after a failed send, so a redelivery mails them."""
    path = ORGANIZATION.path(organization, organization)
    for _ in range(CLAIM_ATTEMPTS):
        body = await kube.get(path)
        if body is None:
            return
        meta = body["metadata"]
        known = parse_notified((meta.get("annotations") or {}).get(ann.NOTIFIED))
        try:
            kept = notified_annotation([key for key in known if key not in keys], [])
            await write_billing_annotations(
                kube, organization, organization, {ann.NOTIFIED: kept}, resource_version=meta.get("resourceVersion")
            )
            return
        except KubeError as exc:
            if exc.status != 409:
                raise


async def advice_for(request: Request, organization: str) -> tuple[dict[str, Any] | None, str]:
    """The advice of /recommendations and the currency its money is in; no advice when Prometheus cannot help."""
    settings: ApiSettings = request.app.state.settings
    daily = getattr(request.app.state, "daily_maxima", None)
    try:
        facts = OrgFacts(request.app.state.cluster, organization, settings.quota)
    except ApiError:
        return None, ""
    currency = facts.cost_currency()
    if daily is None:
        return None, currency
    try:
        return await recommendation(daily, facts, datetime.now(UTC)), currency
    except ApiError as exc:
        logger.warning("alert mail for %s goes without advice: %s", organization, exc.message)
        return None, currency


async def notify(request: Request, kube: Kube, mailer: Mailer, organization: str, alerts: list[ReceivedAlert]) -> int:
    """Mail the organization's new alert states; how many were mailed."""
    try:
        claimed = await claim(kube, organization, alerts)
    except KubeError as exc:
        raise ApiError(503, f"the Kubernetes API failed; nothing was mailed, deliver again ({exc.status})") from exc
    if claimed is None:
        logger.info("alerts for %s: no such Organization, nothing mailed", organization)
        return 0
    body, keys = claimed
    if not keys:
        return 0
    recipients = parse_notify((body["metadata"].get("annotations") or {}).get(ann.NOTIFY))
    owner = (body.get("spec") or {}).get("email")
    recipients = recipients or ([owner] if isinstance(owner, str) and owner else [])
    if not recipients:
        logger.warning("alerts for %s: no notification address and no spec.email, nothing mailed", organization)
        return 0
    mailed = [a for a in alerts if alert_key(a.fingerprint, a.startsAt, a.status) in keys]
    advice, currency = await advice_for(request, organization)
    message = alert_mail(organization, mailed, advice, currency, mailer.sender, recipients)
    try:
        await mailer.send(message)
    except MailNotSent as exc:
        await give_back(kube, organization, keys)
        raise ApiError(503, f"the alert mail could not be sent; deliver again: {exc}") from exc
    logger.info("alerts for %s: mailed %d to %d addresses", organization, len(mailed), len(recipients))
    return len(mailed)


@router.post(
    "/alerts",
    response_model=Success[AlertsReceived],
    summary="Alertmanager's webhook (Bearer ALERTS_WEBHOOK_SECRET): mails each organization's alerts once",
)
async def alerts(request: Request) -> JSONBody:
    check_secret(request)
    message = await read_message(request)
    kube: Kube = request.app.state.cluster.kube
    mailer: Mailer = request.app.state.mailer
    by_org: dict[str, list[ReceivedAlert]] = {}
    ignored = 0
    for alert in message.alerts:
        organization = alert.labels.get("organization", "")
        if organization:
            by_org.setdefault(organization, []).append(alert)
        else:
            ignored += 1
    mailed = 0
    for organization, found in by_org.items():
        mailed += await notify(request, kube, mailer, organization, found)
    return ok({"received": len(message.alerts), "mailed": mailed, "withoutOrganization": ignored})
