"""What an Organization's quota must be: a pure function of its annotations, the catalog and the settings.

This is the whole product logic (the README's "What it computes"); everything else in the operator only
gathers these inputs and makes the cluster match the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Final

from orgquota.core import annotations as ann
from orgquota.core.catalog import Catalog, LimitRangeValues, Plan
from orgquota.core.quantity import BYTE, MI, MILLI, Quantity

DEFAULT_PROJECTS_LIMIT: Final = 50


class Mode(StrEnum):
    PLAN = "plan"
    """the plan's quota with add-ons and per-project overhead"""
    FLOOR = "floor"
    """the catalog's suspendedPlan: suspended, canceled, or anything the operator cannot trust"""
    NONE = "none"
    """no plan assigned: no quota objects are managed"""


class Reason(StrEnum):
    """The reason of the QuotaReady condition when the inputs themselves decide it."""

    APPLIED = "Applied"
    NO_PLAN = "NoPlan"
    SUSPENDED = "Suspended"
    CANCELED = "Canceled"
    PLAN_NOT_FOUND = "PlanNotFound"
    UNKNOWN_SUBSCRIPTION = "UnknownSubscription"
    INVALID_ADDONS = "InvalidAddons"


READY_REASONS: Final = frozenset({Reason.APPLIED, Reason.NO_PLAN, Reason.SUSPENDED, Reason.CANCELED})
"""Reasons that mean the annotations are honoured as written; the others mean an input was rejected."""


@dataclass(frozen=True)
class QuotaSettings:
    projects_limit: int = DEFAULT_PROJECTS_LIMIT


LimitRangeItem = dict[str, object]
"""One `spec.limits` entry, with Quantity leaves (written as canonical strings)."""


@dataclass(frozen=True)
class DesiredQuota:
    mode: Mode
    reason: Reason
    message: str
    plan_id: str = ""
    """the plan named by the annotation, as given (empty when none)"""
    hard: Mapping[str, Quantity] = field(default_factory=dict)
    """`spec.hard` of the HRQ; empty in none mode"""
    limit_range: tuple[LimitRangeItem, ...] | None = None
    """`spec.limits` of the LimitRange; None leaves an existing one as it is (floor without a known plan)"""
    problems: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.reason in READY_REASONS


def desired_quota(annotations: Mapping[str, str], catalog: Catalog, settings: QuotaSettings) -> DesiredQuota:
    """The quota an Organization with these annotations gets (the README's rules, in order)."""
    plan_id = annotations.get(ann.PLAN_ID, "").strip()
    subscription = annotations.get(ann.SUBSCRIPTION, "").strip() or ann.Subscription.ACTIVE
    plan = catalog.plans.get(plan_id)

    def floor(reason: Reason, message: str) -> DesiredQuota:
        limit_range = _limit_range(plan.limitRange) if plan else None
        return DesiredQuota(Mode.FLOOR, reason, message, plan_id, _floor_hard(catalog), limit_range)

    if subscription in (ann.Subscription.SUSPENDED, ann.Subscription.CANCELED):
        reason = Reason.SUSPENDED if subscription == ann.Subscription.SUSPENDED else Reason.CANCELED
        return floor(reason, f"subscription is {subscription}: the suspended floor is enforced")
    if not plan_id:
        return DesiredQuota(Mode.NONE, Reason.NO_PLAN, f"no {ann.PLAN_ID} annotation: no quota is managed")
    if plan is None:
        return floor(
            Reason.PLAN_NOT_FOUND,
            f"plan {plan_id!r} is not in the catalog: the suspended floor is enforced until it is",
        )
    if subscription not in ann.FULL_PLAN_STATES:
        states = ", ".join(sorted(ann.Subscription))
        return floor(
            Reason.UNKNOWN_SUBSCRIPTION,
            f"subscription {subscription!r} is not one of {states}: the suspended floor is enforced",
        )

    addons, problems = _granted_addons(annotations.get(ann.ADDONS), catalog)
    hard = _plan_hard(plan, addons, catalog, settings)
    granted = ", ".join(f"{count} x {addon_id}" for addon_id, count in addons) or "no add-ons"
    if problems:
        message = f"plan {plan_id} with {granted} is enforced; ignored: " + "; ".join(problems)
        reason = Reason.INVALID_ADDONS
    else:
        message, reason = f"plan {plan_id} with {granted} is enforced", Reason.APPLIED
    return DesiredQuota(Mode.PLAN, reason, message, plan_id, hard, _limit_range(plan.limitRange), problems)


def _granted_addons(raw: str | None, catalog: Catalog) -> tuple[list[tuple[str, int]], tuple[str, ...]]:
    parsed = ann.parse_addons(raw)
    problems = list(parsed.problems)
    counts: dict[str, int] = {}
    for request in parsed.requests:
        addon = catalog.addons.get(request.addon_id)
        if addon is None:
            problems.append(f"add-on {request.addon_id!r} is not in the catalog; ignored")
        elif addon.disabled:
            problems.append(f"add-on {request.addon_id!r} is disabled; ignored")
        else:
            counts[request.addon_id] = counts.get(request.addon_id, 0) + request.quantity
    return sorted(counts.items()), tuple(problems)


def _plan_hard(
    plan: Plan, addons: list[tuple[str, int]], catalog: Catalog, settings: QuotaSettings
) -> dict[str, Quantity]:
    overhead = catalog.systemOverhead
    cpu, memory, storage = plan.requests.cpu, plan.requests.memory, plan.requests.storage
    for addon_id, count in addons:
        addon = catalog.addons[addon_id]
        cpu, memory, storage = (
            cpu + addon.cpu * count,
            memory + addon.memory * count,
            storage + addon.storage * count,
        )
    cpu += Quantity(Fraction(overhead.cpuPerProject * settings.projects_limit) * MILLI)
    memory += Quantity(overhead.memPerProject * settings.projects_limit * MI, binary=True)
    burst = Fraction(plan.burstRatio)
    return {
        "requests.cpu": cpu,
        "limits.cpu": (cpu * burst).ceil(MILLI),
        "requests.memory": memory,
        "limits.memory": (memory * burst).ceil(BYTE),
        "requests.storage": storage,
        "pods": Quantity.count(plan.pods),
        "services.loadbalancers": Quantity.count(plan.servicesLB),
    }


def _floor_hard(catalog: Catalog) -> dict[str, Quantity]:
    floor = catalog.suspendedPlan
    return {
        "requests.cpu": floor.cpu,
        "limits.cpu": floor.cpu,
        "requests.memory": floor.memory,
        "limits.memory": floor.memory,
        "requests.storage": floor.storage,
        "pods": Quantity.count(floor.pods),
        "services.loadbalancers": Quantity.count(floor.servicesLB),
    }


def _limit_range(values: LimitRangeValues) -> tuple[LimitRangeItem, ...]:
    """Container, Pod and PersistentVolumeClaim items, in that order; absent values (and items) are left out.

    The Container item is written with the defaults the apiserver would fill in (default from
    max, defaultRequest from default or min), so a stored LimitRange equals this one exactly.
    """

    def constraint(**resources: Quantity | None) -> dict[str, Quantity]:
        return {name: value for name, value in resources.items() if value is not None}

    maximum = constraint(cpu=values.maxCPU, memory=values.maxMemory)
    minimum = constraint(cpu=values.minCPU, memory=values.minMemory)
    default = maximum | constraint(cpu=values.defaultCPU, memory=values.defaultMemory)
    default_request = minimum | default | constraint(cpu=values.defaultRequestCPU, memory=values.defaultRequestMem)
    container: LimitRangeItem = {
        "type": "Container",
        "default": default,
        "defaultRequest": default_request,
        "max": maximum,
        "min": minimum,
    }
    pod: LimitRangeItem = {"type": "Pod", "max": constraint(cpu=values.maxPodCPU, memory=values.maxPodMemory)}
    pvc: LimitRangeItem = {
        "type": "PersistentVolumeClaim",
        "max": constraint(storage=values.maxPVCStorage),
        "min": constraint(storage=values.minPVCStorage),
    }
    items = ({key: value for key, value in item.items() if value} for item in (container, pod, pvc))
    return tuple(item for item in items if len(item) > 1)  # an item without limits is invalid
