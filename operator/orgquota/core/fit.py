"""Whether usage fits a plan's quota: the rule behind a downgrade's simulation, a refused plan
change and plan advice.

The limits are the ones the operator would enforce (`desired_quota` of an organization whose
annotations say that plan and those add-ons), so a plan is never judged by a formula other
than the one that will hold the organization to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from orgquota.core import annotations as ann
from orgquota.core.annotations import AddonRequest
from orgquota.core.catalog import Catalog
from orgquota.core.desired import DesiredQuota, QuotaSettings, desired_quota, public_ip_limit
from orgquota.core.quantity import Quantity

PUBLIC_IPV4: Final = "publicIPv4"
"""the resource name of public addresses (counted from EIps; limited by the catalog's eipQuota)"""


@dataclass(frozen=True)
class Violation:
    """A resource whose current use is above the limit it would get."""

    resource: str
    """an HRQ key (`requests.cpu`) or `publicIPv4`"""
    used: Quantity
    new_limit: Quantity


@dataclass(frozen=True)
class Fit:
    fits: bool
    violations: tuple[Violation, ...]


def plan_quota(catalog: Catalog, plan_id: str, addons: Sequence[AddonRequest], settings: QuotaSettings) -> DesiredQuota:
    """The quota of an organization whose annotations say `plan_id` (active) and `addons`, exactly as
    the operator decides it (entries it would ignore grant nothing, and are in `problems`)."""
    listed = [{"addonId": addon.addon_id, "quantity": addon.quantity} for addon in addons]
    annotations = {
        ann.PLAN_ID: plan_id,
        ann.SUBSCRIPTION: ann.Subscription.ACTIVE.value,
        ann.ADDONS: json.dumps(listed),
    }
    return desired_quota(annotations, catalog, settings)


def plan_limits(
    catalog: Catalog, plan_id: str, addons: Sequence[AddonRequest], settings: QuotaSettings
) -> dict[str, Quantity]:
    """The limits an organization on `plan_id` with `addons` gets: the HRQ's `hard` as the operator
    computes it, and `publicIPv4` when the plan limits public addresses.

    ValueError for a plan the catalog lacks: the operator would give such an organization the floor,
    which says nothing about the plan.
    """
    if plan_id not in catalog.plans:
        raise ValueError(f"{plan_id!r} is not a plan of the catalog")
    desired = plan_quota(catalog, plan_id, addons, settings)
    limits = dict(desired.hard)
    public_ips = public_ip_limit(desired, catalog)
    if public_ips is not None:
        limits[PUBLIC_IPV4] = Quantity.count(public_ips)
    return limits


def fit(limits: Mapping[str, Quantity], used: Mapping[str, Quantity]) -> Fit:
    """Whether each resource's use is within its limit; a resource without a limit, or without a
    known use, is no violation."""
    violations = tuple(
        Violation(resource, used[resource], limit)
        for resource, limit in limits.items()
        if resource in used and limit < used[resource]
    )
    return Fit(not violations, violations)
