"""An organization's subscription, quota usage and quota status, from the informers' memory.

Limits shown are read from the HRQ the operator wrote (what HNC enforces), never recomputed here:
an API with other settings than the operator's (its projects limit) must not show another quota.
While the operator has not yet enforced the Organization's billing annotations (`status.applied`
differs from them), the answer says so (`pending`) and gives the quota they will get (`pendingLimit`,
computed with the operator's own `desired_quota`); usage is what HNC reports in the HRQ's status.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from orgquota.api.cluster import Cluster
from orgquota.api.envelope import ApiError
from orgquota.api.numbers import PEOPLE_UNITS, gib, number, parsed
from orgquota.core import annotations as ann
from orgquota.core.advice import cost_currency
from orgquota.core.annotations import AddonRequest
from orgquota.core.catalog import Catalog
from orgquota.core.desired import DesiredQuota, Mode, QuotaSettings, desired_quota, granted_addons, public_ip_limit
from orgquota.core.fit import PUBLIC_IPV4, Fit, fit, plan_limits
from orgquota.core.lifecycle import grace_ends
from orgquota.core.manifests import HRQ_NAME, LIMIT_RANGE_NAME
from orgquota.core.money import EXACT
from orgquota.core.organization import Organization
from orgquota.core.quantity import Quantity, QuantityError
from orgquota.core.status import USAGE_KEYS, over_quota, quota_usage
from orgquota.core.timestamps import format_rfc3339, parse_rfc3339


def catalog_in_force(cluster: Cluster) -> Catalog:
    catalog = cluster.catalog.catalog
    if catalog is None:
        cluster.require(cluster.catalog.live)
        raise ApiError(
            503,
            f"no valid plan catalog has been read: {cluster.catalog.problem}",
            {"catalog": cluster.settings.catalog_name},
        )
    return catalog


class OrgFacts:
    """What every organization route starts from, read once per request.

    `inputs` are everything an answer is made of; the informers replace an object on every change,
    so answers can be reused while each input is the very same object (`answers.AnswerCache`).
    """

    def __init__(self, cluster: Cluster, org: str, settings: QuotaSettings) -> None:
        cluster.require(cluster.orgs, cluster.hrqs, cluster.limit_ranges, cluster.namespaces, cluster.eips)
        self.cluster = cluster
        self.settings = settings
        self.record: Organization = cluster.organization(org)
        self.catalog = catalog_in_force(cluster)
        self.hrq = cluster.hrqs.get(org, HRQ_NAME)
        self.limit_range = cluster.limit_ranges.get(org, LIMIT_RANGE_NAME)
        self.public_ips = cluster.public_ips(org)
        self.inputs: tuple[object, ...] = (self.record, self.catalog, self.hrq, self.limit_range, self.public_ips)
        self._desired: DesiredQuota | None = None

    @property
    def desired(self) -> DesiredQuota:
        if self._desired is None:
            self._desired = desired_quota(self.record.annotations, self.catalog, self.settings)
        return self._desired

    @property
    def plan_id(self) -> str | None:
        return self.record.annotations.get(ann.PLAN_ID)

    @property
    def currency(self) -> str | None:
        """The currency the organization pays in (fixed at its first subscription); None before one."""
        return self.record.annotations.get(ann.CURRENCY) or None

    def cost_currency(self) -> str:
        """The currency its monthly cost is counted in (see `advice.cost_currency`); "" without a plan."""
        return cost_currency(self.catalog, self.plan_id, self.currency) if self.plan_id else ""

    def public_ip_limit(self) -> int | None:
        return public_ip_limit(self.desired, self.catalog)

    def limit(self, key: str) -> Fraction | None:
        """What the HRQ enforces for `key` (None: no HRQ, or no such limit in it)."""
        raw = self.hrq.hard.get(key) if self.hrq else None
        return None if raw is None else parsed(raw)

    @property
    def pending(self) -> bool:
        """Whether the billing annotations have changed since the operator last enforced them."""
        return self.record.status.get("applied") != ann.applied_inputs(self.record.annotations)

    def pending_limit(self) -> dict[str, Any] | None:
        """The limits the current annotations will get once enforced (people's units); None unless pending."""
        if not self.pending:
            return None
        answer: dict[str, Any] = {}
        for name in ("cpu", "memory", "storage", "pods"):
            quantity = self.desired.hard.get(USAGE_KEYS[name])
            answer[name] = None if quantity is None else PEOPLE_UNITS[name](quantity.value)
        answer["publicIPv4"] = self.public_ip_limit()
        return answer

    def used(self, key: str) -> Fraction:
        return parsed(self.hrq.used.get(key)) if self.hrq else Fraction(0)


def subscription(facts: OrgFacts) -> dict[str, Any]:
    record, catalog, desired = facts.record, facts.catalog, facts.desired
    annotations = record.annotations
    plan_id = facts.plan_id
    plan = catalog.plans.get(plan_id.strip()) if plan_id is not None else None
    addons, _ = granted_addons(annotations.get(ann.ADDONS), catalog)
    resources = cost = None
    if plan is not None:
        cpu, memory, storage = plan.requests.cpu.value, plan.requests.memory.value, plan.requests.storage.value
        for addon_id, quantity in addons:
            addon = catalog.addons[addon_id]
            cpu += addon.cpu.value * quantity
            memory += addon.memory.value * quantity
            storage += addon.storage.value * quantity
        resources = {"cpu": number(cpu), "memory": gib(memory), "storage": gib(storage)}
        cost = monthly_cost_answer(catalog, plan.cost_in(annotations.get(ann.CURRENCY)), addons)
    usage: dict[str, Any] = {}
    for name in ("cpu", "memory", "storage", "pods"):
        key, shown = USAGE_KEYS[name], PEOPLE_UNITS[name]
        limit = facts.limit(key)
        usage[name] = {"used": shown(facts.used(key)), "limit": None if limit is None else shown(limit)}
    usage["publicIPv4"] = {"used": facts.public_ips, "limit": facts.public_ip_limit()}
    subscription_state = annotations.get(ann.SUBSCRIPTION) or (ann.Subscription.ACTIVE.value if plan_id else None)
    return {
        "organization": record.name,
        "planId": plan_id,
        "planName": annotations.get(ann.PREFIX + "plan-name") or (plan.displayName or plan_id if plan else None),
        "status": subscription_state,
        "mode": record.status.get("mode") or desired.mode.value,
        "ready": record.status.get("ready", desired.ready),
        "since": record.condition.get("lastTransitionTime") or record.created or None,
        "providerSubscriptionId": annotations.get(ann.PREFIX + "provider-subscription-id"),
        "providerCustomerId": annotations.get(ann.PREFIX + "provider-customer-id"),
        "addons": [{"addonId": addon_id, "quantity": quantity} for addon_id, quantity in addons],
        "resources": resources,
        "monthlyCost": cost,
        "usage": usage,
        "pending": facts.pending,
        "pendingLimit": facts.pending_limit(),
        "trialEndsAt": annotations.get(ann.TRIAL_ENDS_AT) if subscription_state == ann.Subscription.TRIALING else None,
        **dates(facts, subscription_state),
    }


def dates(facts: OrgFacts, subscription_state: str | None) -> dict[str, str | None]:
    """`periodEnd` while a subscription runs (the provider's last word, kept in `period-end`) and
    `graceEndsAt` while suspended (`suspended-at` + the grace period); null when they do not apply."""
    annotations = facts.record.annotations
    ends = grace_ends(annotations, facts.cluster.settings.grace_period)
    period_end = None
    if subscription_state in ann.FULL_PLAN_STATES:
        with contextlib.suppress(ValueError):  # unreadable: unknown, not a guess
            period_end = format_rfc3339(parse_rfc3339(annotations.get(ann.PERIOD_END) or ""))
    return {"periodEnd": period_end, "graceEndsAt": None if ends is None else format_rfc3339(ends)}


def monthly_cost_answer(
    catalog: Catalog, plan_price: tuple[Decimal | None, str], addons: Sequence[tuple[str, int]]
) -> dict[str, Any]:
    """`{plan, addons, total, currency}`, exact Decimals (an add-on not priced in the plan's currency costs 0)."""
    plan_cost, currency = plan_price[0] or Decimal(0), plan_price[1]
    addon_cost = Decimal(0)
    for addon_id, quantity in addons:
        amount, addon_currency = catalog.addons[addon_id].cost_in(currency)
        if amount is not None and addon_currency == currency:
            addon_cost = EXACT.add(addon_cost, EXACT.multiply(amount, quantity))
    return {"plan": plan_cost, "addons": addon_cost, "total": EXACT.add(plan_cost, addon_cost), "currency": currency}


def usage(facts: OrgFacts) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for name, key in USAGE_KEYS.items():
        shown = PEOPLE_UNITS[name]
        used, limit = facts.used(key), facts.limit(key)
        answer[name] = {
            "used": shown(used),
            "limit": None if limit is None else shown(limit),
            "percent": percent(used, limit),
        }
    ip_limit = facts.public_ip_limit()
    answer["publicIPv4"] = {
        "used": facts.public_ips,
        "limit": ip_limit,
        "percent": percent(Fraction(facts.public_ips), None if ip_limit is None else Fraction(ip_limit)),
    }
    answer["lastUpdated"] = facts.record.status.get("lastUpdated")
    return answer


def status(facts: OrgFacts) -> dict[str, Any]:
    record, desired, hrq = facts.record, facts.desired, facts.hrq
    condition = record.condition
    enforced = None if hrq is None else {"spec": {"hard": hrq.hard}, "status": {"hard": hrq.hard, "used": hrq.used}}
    observed = quota_usage(enforced, facts.public_ips, facts.public_ip_limit())
    names = {key: name for name, key in USAGE_KEYS.items()}
    over = [line.split(" ", 1)[0] for line in over_quota(observed)]
    return {
        "quotaEnforced": hrq is not None and desired.mode != Mode.NONE,
        "planId": facts.plan_id,
        "mode": record.status.get("mode") or desired.mode.value,
        "hrqExists": hrq is not None,
        "limitRangeExists": bool(facts.limit_range),
        "ready": record.status.get("ready", desired.ready),
        "reason": condition.get("reason") or desired.reason.value,
        "message": condition.get("message") or desired.message,
        "overQuota": [names.get(name, name) for name in over],
        "alerts": [dict(alert) for alert in record.status.get("alerts") or []],
    }


def simulate(facts: OrgFacts, plan_id: str, addons: Sequence[AddonRequest] | None, settings: QuotaSettings) -> Fit:
    """Whether the organization's current usage fits the quota `plan_id` (and `addons`, else the
    organization's own) would get; 400 for a plan or an add-on the catalog does not offer."""
    catalog = facts.catalog
    if plan_id not in catalog.plans:
        raise ApiError(400, f"unknown plan {plan_id!r}", {"planId": plan_id, "availablePlans": sorted(catalog.plans)})
    for entry in addons or []:
        addon = catalog.addons.get(entry.addon_id)
        if addon is None or addon.disabled:
            raise ApiError(
                400,
                f"unknown add-on {entry.addon_id!r}",
                {
                    "addonId": entry.addon_id,
                    "availableAddons": sorted(i for i, a in catalog.addons.items() if not a.disabled),
                },
            )
    if addons is None:
        addons = ann.parse_addons(facts.record.annotations.get(ann.ADDONS)).requests
    return fit(plan_limits(catalog, plan_id, addons, settings), current_usage(facts))


def fit_answer(result: Fit) -> dict[str, Any]:
    """The answer of /simulate-downgrade (and a refused change's details): quantities as Kubernetes writes them."""
    violations = [
        {"resource": v.resource, "used": str(v.used), "newLimit": str(v.new_limit)} for v in result.violations
    ]
    return {"fits": result.fits, "violations": violations}


def current_usage(facts: OrgFacts) -> dict[str, Quantity]:
    """What the organization uses: the HRQ's `used`, or its pods' requests without an HRQ; and its public IPs."""
    if facts.hrq is None:
        used = pod_usage(facts)
    else:
        used = {}
        for key, value in facts.hrq.used.items():
            with contextlib.suppress(QuantityError):  # unreadable: no known use, so no violation
                used[key] = Quantity.parse(value)
    used[PUBLIC_IPV4] = Quantity.count(facts.public_ips)
    return used


def pod_usage(facts: OrgFacts) -> dict[str, Quantity]:
    """Usage summed from the pods of the organization's namespaces, for one without an HRQ (no plan yet)."""
    pods, cpu, memory = 0, Fraction(0), Fraction(0)
    for namespace in facts.cluster.members(facts.record.name):
        n, c, m = facts.cluster.namespace_usage(namespace)
        pods, cpu, memory = pods + n, cpu + c, memory + m
    return {
        "pods": Quantity.count(pods),
        "requests.cpu": Quantity(cpu),
        "requests.memory": Quantity(memory, binary=True),
    }


def percent(used: Fraction, limit: Fraction | None) -> float | int | None:
    if limit is None or (limit == 0 and used > 0):
        return None
    return 0 if limit == 0 else number(round(used / limit * 100, 1))
