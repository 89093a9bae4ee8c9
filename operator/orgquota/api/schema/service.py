"""What the service says about itself: `/config` (the provider and what the page may offer) and `/health`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from orgquota.api.schema.envelope import AnswerModel

Provider = Annotated[str, Field(description="BILLING_PROVIDER: none, or the payment provider (stripe, whmcs, ...)")]


class Features(AnswerModel):
    quotas: bool
    plans: bool
    checkout: bool
    """a Stripe Checkout can be started"""
    portal: bool
    """a Stripe customer portal can be opened"""
    webhooks: bool
    """the provider reports changes by webhook"""
    addons: bool
    """add-ons can be bought and removed here"""
    history: bool
    """usage history, forecast and recommendations can be asked (PROMETHEUS_URL is set)"""


class BillingConfig(AnswerModel):
    provider: Provider
    features: Features
    externalBillingUrl: str | None
    """where the organization's billing is managed instead (WHMCS' client area); null for other providers"""


class ConfigAnswer(AnswerModel):
    """`/config` names its payload `config` rather than `data`."""

    success: Literal[True]
    config: BillingConfig


class CatalogHealth(AnswerModel):
    valid: bool
    """whether the live catalog ConfigMap is valid (when not, the last good catalog stays in force)"""
    plans: int
    """how many plans the catalog in force has"""
    problem: str | SkipJsonSchema[None] = None
    """what is wrong with the live catalog; present only when it is not valid"""


class Health(AnswerModel):
    status: Literal["ok"]
    provider: Provider
    catalog: CatalogHealth
