"""An organization's quota as the time series of its usage history (docs/history.md).

The series mirror `status.quotaUsage` (what HNC counts in the HRQ, and the public EIps) in base
units: cores, bytes and counts, so PromQL compares `used` with `hard` without parsing quantities.
Values stay exact here (Fraction, Decimal); they become floats only where they are exported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from orgquota.core import advice
from orgquota.core import annotations as ann
from orgquota.core.advice import RESOURCES
from orgquota.core.budget import parse_budget
from orgquota.core.catalog import Catalog
from orgquota.core.desired import DesiredQuota, granted_addons
from orgquota.core.quantity import Quantity, QuantityError
from orgquota.core.status import USAGE_KEYS

RESOURCE_OF_KEY: Final = {key: name for name, key in RESOURCES.items() if key is not None}
"""HRQ keys and the `resource` label of their series (`requests.cpu` -> `cpu`: label values hold no dots)"""
PUBLIC_IPV4: Final = "public_ipv4"
"""the `resource` of public EIps, which HNC does not count (the operator does)"""
_RESOURCE_OF_USAGE: Final = {name: RESOURCE_OF_KEY[key] for name, key in USAGE_KEYS.items()} | {
    "publicIPv4": PUBLIC_IPV4
}
LABEL_LENGTH: Final = 63
"""annotation values are cut to this in labels: a label value stays short whatever a billing system writes"""


@dataclass(frozen=True)
class MonthlyCost:
    amount: Decimal
    """plan + add-ons, major units, exact"""
    currency: str


@dataclass(frozen=True)
class OrgSeries:
    """What one organization's series say, as the last reconcile found it."""

    used: Mapping[str, Fraction]
    """by `resource`; empty without an HRQ"""
    hard: Mapping[str, Fraction]
    """by `resource`; `public_ipv4` only when the plan limits public EIps"""
    plan: str
    subscription: str
    mode: str
    cost: MonthlyCost | None
    """None unless the plan named is in the catalog and has a price"""
    budget: MonthlyCost | None = None
    """the monthly budget (`billing.kube-dc.com/budget`), when one is set and readable"""
    alerts: Mapping[str, str] = field(default_factory=dict)
    """the level of each `resource` under pressure (`core.pressure`)"""


def in_base_units(
    quota_usage: Mapping[str, Mapping[str, str]] | None,
) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """`used` and `hard` of a `status.quotaUsage`, by `resource`."""
    if not quota_usage:
        return {}, {}
    return _by_resource(quota_usage["used"]), _by_resource(quota_usage["hard"])


def _by_resource(values: Mapping[str, str]) -> dict[str, Fraction]:
    """A value that is not a quantity (an outside edit of the HRQ) has no sample rather than a wrong one."""
    found: dict[str, Fraction] = {}
    for name, raw in values.items():
        resource = _RESOURCE_OF_USAGE.get(name)
        if resource is None:
            continue
        try:
            found[resource] = Quantity.parse(raw).value
        except QuantityError:
            continue
    return found


def monthly_cost(annotations: Mapping[str, str], catalog: Catalog) -> MonthlyCost | None:
    """The plan's price plus the granted add-ons' prices times their quantities; None without a priced plan."""
    plan_id = annotations.get(ann.PLAN_ID)
    if plan_id is None:
        return None
    addons, _ = granted_addons(annotations.get(ann.ADDONS), catalog)
    currency = annotations.get(ann.CURRENCY)
    amount = advice.monthly_cost(catalog, plan_id, dict(addons), currency)
    return None if amount is None else MonthlyCost(amount, advice.cost_currency(catalog, plan_id, currency))


def org_series(
    desired: DesiredQuota, annotations: Mapping[str, str], catalog: Catalog, quota_usage: Mapping[str, Any] | None
) -> OrgSeries:
    """The series of an organization whose reconcile decided `desired` and found `quota_usage`."""
    used, hard = in_base_units(quota_usage)
    plan_id = annotations.get(ann.PLAN_ID)
    default = ann.Subscription.ACTIVE.value if plan_id is not None else ""
    subscription = annotations.get(ann.SUBSCRIPTION, default)
    budget = parse_budget(annotations.get(ann.BUDGET))
    return OrgSeries(
        used,
        hard,
        (plan_id or "")[:LABEL_LENGTH],
        subscription[:LABEL_LENGTH],
        desired.mode.value,
        monthly_cost(annotations, catalog),
        None if budget is None else MonthlyCost(budget.monthly, budget.currency[:LABEL_LENGTH]),
    )
