"""An organization's answers: `/organization-subscription`, `/quota-usage`, `/quota-status`, `/simulate-downgrade`.

Figures for people are numbers (cores, GiB, counts); limits are what the operator enforces
(the HRQ's hard, per-project overhead included), null when no quota applies.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from orgquota.api.schema.catalog import Resources
from orgquota.api.schema.envelope import AnswerModel
from orgquota.core.desired import Mode


class AddonQuantity(AnswerModel):
    addonId: str
    quantity: int


class MonthlyCost(AnswerModel):
    plan: float
    addons: float
    total: float
    currency: str
    """the plan's currency"""


class Figure(AnswerModel):
    used: float
    limit: float | None


class Count(AnswerModel):
    used: int
    limit: int | None


class SubscriptionUsage(AnswerModel):
    cpu: Figure
    """cores"""
    memory: Figure
    """GiB"""
    storage: Figure
    """GiB"""
    pods: Figure
    publicIPv4: Count
    """public IPv4 addresses (EIPs) in the organization's namespaces"""


class PendingLimit(AnswerModel):
    """The limits the current billing annotations give, once the operator enforces them (null: no limit)."""

    cpu: float | None
    """cores"""
    memory: float | None
    """GiB"""
    storage: float | None
    """GiB"""
    pods: float | None
    publicIPv4: int | None


class Subscription(AnswerModel):
    organization: str
    planId: str | None
    planName: str | None
    status: str | None
    """the subscription annotation as written (`active`, `trialing`, `canceling`, `past_due`, `suspended`,
    `canceled`); `active` when a plan is set without it; null without a plan"""
    mode: Mode
    """what the operator enforces"""
    ready: bool
    since: AwareDatetime | None
    """when the quota last changed state, else when the organization was created"""
    providerSubscriptionId: str | None
    providerCustomerId: str | None
    addons: list[AddonQuantity]
    """the add-ons the catalog grants (unknown or disabled ones are left out)"""
    resources: Resources | None
    """what was sold (plan + add-ons, no overhead); null without a known plan"""
    monthlyCost: MonthlyCost | None
    """null without a known plan"""
    usage: SubscriptionUsage
    """`limit`: what the HRQ enforces now (per-project overhead included; null without an HRQ)"""
    pending: bool
    """true while the operator has not yet enforced the current billing annotations (plan, add-ons,
    subscription): `usage.*.limit` is still the quota before the change"""
    pendingLimit: PendingLimit | None
    """what the limits will be once the change is enforced; null when nothing is pending"""
    trialEndsAt: str | None
    """RFC 3339 end of the trial while the organization is trialing; null otherwise"""
    periodEnd: str | None
    """RFC 3339 end of the period paid for while a subscription runs (`active`, `trialing`, `canceling`:
    the day it ends, `past_due`), as the provider's messages last said; null when none said it"""
    graceEndsAt: str | None
    """RFC 3339 end of the grace period while `suspended` (then the subscription is canceled and
    workloads stop); null otherwise, or until the operator has started the clock"""


class Share(AnswerModel):
    used: float
    limit: float | None
    percent: float | None
    """used / limit in percent (one decimal); null without a limit, or with a limit of 0 exceeded"""


class QuotaUsage(AnswerModel):
    cpu: Share
    """cores"""
    memory: Share
    """GiB"""
    storage: Share
    """GiB"""
    pods: Share
    loadBalancers: Share
    publicIPv4: Share
    lastUpdated: AwareDatetime | None
    """when the operator last recorded the usage"""


class QuotaAlert(AnswerModel):
    resource: str
    """`cpu`, `memory`, `storage`, `pods`, `services_loadbalancers` or `public_ipv4`"""
    level: Literal["warning", "critical"]
    percent: float
    """usage in percent of the hard limit, rounded down to a tenth"""
    since: AwareDatetime
    """when the resource reached this level"""


class QuotaStatus(AnswerModel):
    quotaEnforced: bool
    planId: str | None
    mode: Mode
    hrqExists: bool
    limitRangeExists: bool
    ready: bool
    reason: str
    """the QuotaReady condition's reason (e.g. `Applied`, `NoPlan`, `Suspended`)"""
    message: str
    overQuota: list[str]
    """resources whose usage exceeds the enforced limit (`cpu`, `memory`, `pods`, `publicIPv4`, ...)"""
    alerts: list[QuotaAlert]
    """the quotas at their warning or critical level, as the operator records them (status.alerts)"""


class Violation(AnswerModel):
    resource: str
    """an HRQ resource (`requests.cpu`, `pods`, ...) or `publicIPv4`"""
    used: str
    """a Kubernetes quantity"""
    newLimit: str
    """a Kubernetes quantity"""


class Simulation(AnswerModel):
    fits: bool
    """whether current usage fits the quota the plan (and add-ons) would get"""
    violations: list[Violation]
