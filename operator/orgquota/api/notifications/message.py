"""The e-mail of an organization's alerts: what fired (or ended), what a full quota means, and the
cheapest fix (the advice of `/recommendations`), in plain text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from orgquota.core.pressure import CONSEQUENCES

MAX_ALERTS: Final = 1000
"""Alertmanager's `max_alerts` in deploy/alertmanager/ is far lower; more is not a delivery of ours"""
MAX_TEXT: Final = 500
"""a label or annotation is cut to this in a mail"""


class ReceivedAlert(BaseModel):
    """One alert of Alertmanager's webhook (version 4); fields we do not read are allowed and ignored."""

    model_config = ConfigDict(extra="ignore")

    status: str = Field(pattern="^(firing|resolved)$")
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str = Field(min_length=1, max_length=64)
    fingerprint: str = Field(min_length=1, max_length=64)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "alert")[:MAX_TEXT]

    @property
    def summary(self) -> str:
        fallback = f"{self.name} ({self.labels.get('resource') or self.labels.get('currency') or ''})"
        return (self.annotations.get("summary") or fallback)[:MAX_TEXT]


class AlertmanagerMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = "4"
    alerts: list[ReceivedAlert] = Field(max_length=MAX_ALERTS)


def _advice_lines(advice: Mapping[str, Any] | None, currency: str) -> list[str]:
    if advice is None:
        return ["Advice: not available now (usage history cannot be read); see the billing page."]
    suggestion = advice["suggestion"]
    kind = suggestion["kind"]
    if kind == "none":
        return [f"Advice: {suggestion['reason']}"]
    what = {"upgrade": "upgrade to", "downgrade": "move to", "addon": "add to plan"}.get(kind, kind)
    target = suggestion["planId"] or ""
    addons = ", ".join(f"{entry['quantity']} x {entry['addonId']}" for entry in suggestion["addons"])
    delta = suggestion["monthlyCostDelta"]
    cost = f" ({'+' if delta and delta > 0 else ''}{delta} {currency} a month)" if delta is not None else ""
    return [
        f"Cheapest fix: {what} {target}{' with ' + addons if addons else ''}{cost}.",
        f"Why: {suggestion['reason']}",
    ]


def alert_lines(alert: ReceivedAlert) -> list[str]:
    state = "RESOLVED" if alert.status == "resolved" else "FIRING"
    severity = alert.labels.get("severity", "")
    lines = [f"{state} {alert.name}{f' ({severity})' if severity else ''} since {alert.startsAt}", f"  {alert.summary}"]
    if alert.annotations.get("description"):
        lines.append(f"  {alert.annotations['description'][:MAX_TEXT]}")
    resource = alert.labels.get("resource", "")
    if alert.status == "firing" and resource in CONSEQUENCES:
        lines.append(f"  When the quota is full, {CONSEQUENCES[resource]}.")
    return lines


def alert_mail(
    organization: str,
    alerts: Sequence[ReceivedAlert],
    advice: Mapping[str, Any] | None,
    currency: str,
    sender: str,
    recipients: Sequence[str],
) -> EmailMessage:
    message = EmailMessage()
    subject = alerts[0].summary if len(alerts) == 1 else f"{organization}: {len(alerts)} alerts"
    message["Subject"] = f"[orgquota] {subject}"[:200]
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    body = [f"Organization {organization}", ""]
    for alert in alerts:
        body += [*alert_lines(alert), ""]
    body += [*_advice_lines(advice, currency), "", "This mail is sent once per alert state by orgquota's billing API."]
    message.set_content("\n".join(body) + "\n")
    return message
