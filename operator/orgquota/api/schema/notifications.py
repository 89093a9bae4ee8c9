"""Alerts, budgets and notifications: `/alerts` (Alertmanager's webhook), `/notification-settings`, `/budget`."""

from __future__ import annotations

from orgquota.api.schema.envelope import AnswerModel


class AlertsReceived(AnswerModel):
    received: int
    """alerts in the message"""
    mailed: int
    """alert states mailed now (those already mailed, by this replica or another, are not again)"""
    withoutOrganization: int
    """alerts without an `organization` label (nobody to mail)"""


class NotificationSettings(AnswerModel):
    emails: list[str]
    """where the organization's alerts are mailed (at most 10); empty: the Organization's spec.email"""


class Budget(AnswerModel):
    monthly: float | None
    """the monthly budget in major units; null when none is set"""
    currency: str
    """the budget's currency (the plan's)"""
    current: float | None
    """the monthly cost now (plan and add-ons); null without a priced plan"""
    percent: float | None
    """current in percent of monthly (one decimal); null without a budget or a cost"""
