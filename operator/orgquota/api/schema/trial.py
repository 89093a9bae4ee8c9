"""The answer of `POST /trial` (quota-only mode)."""

from __future__ import annotations

from orgquota.api.schema.envelope import AnswerModel


class TrialStarted(AnswerModel):
    organization: str
    planId: str
    status: str
    """`trialing`"""
    trialEndsAt: str
    """RFC 3339; then the operator suspends the organization unless it has subscribed"""
    currency: str | None
    """the currency the organization pays in from now on (null when the plan has no price)"""
