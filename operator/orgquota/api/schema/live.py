"""The event stream's events (GET /events): one field per event name, its data as the route answers it."""

from __future__ import annotations

from orgquota.api.schema.catalog import Addon, Plan
from orgquota.api.schema.envelope import AnswerModel
from orgquota.api.schema.organization import QuotaStatus, QuotaUsage, Subscription
from orgquota.api.schema.projects import Project


class CatalogEvent(AnswerModel):
    plans: list[Plan]
    """as /plans answers"""
    addons: list[Addon]
    """as /addons answers"""


class LiveEvents(AnswerModel):
    """Not one JSON answer: the stream's `event:` names and their `data:`. A caller gets only those it may see."""

    catalog: CatalogEvent
    subscription: Subscription | None = None
    """org-admin: as /organization-subscription answers"""
    usage: QuotaUsage | None = None
    """org-admin: as /quota-usage answers"""
    alerts: QuotaStatus | None = None
    """org-admin: as /quota-status answers"""
    projects: list[Project] | None = None
    """org-admin and project users: as /projects answers the caller"""
