"""What an Organization's quota must be: a pure function of its annotations, the catalog and the settings.

This is the whole product logic (docs/operator.md, "What the plan mode computes"); everything else in the operator only
gathers these inputs and makes the cluster match the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from orgquota.core import annotations as ann
from orgquota.core.catalog import Catalog, LimitRangeValues
from orgquota.core.hard import floor_hard, plan_hard
from orgquota.core.limits import hard_out_of_range
from orgquota.core.quantity import Quantity

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
    OUT_OF_RANGE = "QuotaOutOfRange"
    """the plan's quota would exceed what Kubernetes holds exactly (see `limits`)"""


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


def public_ip_limit(desired: DesiredQuota, catalog: Catalog) -> int | None:
    """How many public EIps the organization may hold (None: not limited).

    The plan's `eipQuota`; none on the floor; not limited without a plan or for a plan the map omits.
    """
    if desired.mode == Mode.FLOOR:
        return 0
    return catalog.eipQuota.get(desired.plan_id) if desired.mode == Mode.PLAN else None


def desired_quota(annotations: Mapping[str, str], catalog: Catalog, settings: QuotaSettings) -> DesiredQuota:
    """The quota an Organization with these annotations gets (docs/operator.md's rules, in order).

    Values are taken exactly as written: only an absent annotation means "not set", and
    `' pro-pool'`, `''` or `' active'` are unknown values (the floor), never a guess.
    """
    plan_id = annotations.get(ann.PLAN_ID)
    subscription = annotations.get(ann.SUBSCRIPTION, ann.Subscription.ACTIVE)
    plan = catalog.plans.get(plan_id) if plan_id is not None else None

    def floor(reason: Reason, message: str) -> DesiredQuota:
        limit_range = _limit_range(plan.limitRange) if plan else None
        return DesiredQuota(Mode.FLOOR, reason, message, plan_id or "", floor_hard(catalog.suspendedPlan), limit_range)

    if subscription in (ann.Subscription.SUSPENDED, ann.Subscription.CANCELED):
        reason = Reason.SUSPENDED if subscription == ann.Subscription.SUSPENDED else Reason.CANCELED
        return floor(reason, f"subscription is {subscription}: the suspended floor is enforced")
    unknown_subscription = subscription_problem(subscription)
    if unknown_subscription:  # before "no plan": a mistyped `suspended` must not remove the floor
        return floor(Reason.UNKNOWN_SUBSCRIPTION, f"{unknown_subscription}: the suspended floor is enforced")
    if plan_id is None:
        return DesiredQuota(Mode.NONE, Reason.NO_PLAN, f"no {ann.PLAN_ID} annotation: no quota is managed")
    if plan is None:
        return floor(
            Reason.PLAN_NOT_FOUND, f"{plan_problem(plan_id, catalog)}: the suspended floor is enforced until it is"
        )

    addons, problems = granted_addons(annotations.get(ann.ADDONS), catalog)
    hard = plan_hard(
        plan,
        ((catalog.addons[addon_id], count) for addon_id, count in addons),
        catalog.systemOverhead,
        settings.projects_limit,
    )
    granted = ", ".join(f"{count} x {addon_id}" for addon_id, count in addons) or "no add-ons"
    too_large = hard_out_of_range(hard)
    if too_large:  # the catalog's own check makes this unreachable unless the settings exceed their bounds
        found = "; ".join(f"{key} would be {why}" for key, why in too_large.items())
        return floor(
            Reason.OUT_OF_RANGE,
            f"plan {plan_id} with {granted} cannot be enforced ({found}): the suspended floor is enforced",
        )
    if problems:
        message = f"plan {plan_id} with {granted} is enforced; ignored: " + "; ".join(problems)
        reason = Reason.INVALID_ADDONS
    else:
        message, reason = f"plan {plan_id} with {granted} is enforced", Reason.APPLIED
    return DesiredQuota(Mode.PLAN, reason, message, plan_id, hard, _limit_range(plan.limitRange), problems)


def plan_problem(plan_id: str, catalog: Catalog) -> str | None:
    """Why a present `plan-id` names no plan (shared with admission, so both say the same)."""
    if plan_id in catalog.plans:
        return None
    return f"{ann.PLAN_ID}: {plan_id!r} is not a plan of the catalog (plans: {', '.join(sorted(catalog.plans))})"


def subscription_problem(subscription: str) -> str | None:
    """Why a present `subscription` is none of the known states (shared with admission)."""
    if subscription in set(ann.Subscription):
        return None
    return f"{ann.SUBSCRIPTION}: {subscription!r} is not one of {', '.join(s.value for s in ann.Subscription)}"


def addon_problem(addon_id: str, catalog: Catalog) -> str | None:
    """Why an add-on of the `addons` annotation grants nothing (shared with admission)."""
    addon = catalog.addons.get(addon_id)
    if addon is None:
        known = ", ".join(sorted(catalog.addons)) or "none"
        return f"{ann.ADDONS}: add-on {addon_id!r} is not in the catalog (add-ons: {known})"
    if addon.disabled:
        return f"{ann.ADDONS}: add-on {addon_id!r} is disabled"
    return None


def granted_addons(raw: str | None, catalog: Catalog) -> tuple[list[tuple[str, int]], tuple[str, ...]]:
    """(add-on id, total quantity) of each add-on the `addons` annotation grants, and why the rest grant nothing."""
    parsed = ann.parse_addons(raw)
    problems = list(parsed.problems)
    counts: dict[str, int] = {}
    for request in parsed.requests:
        problem = addon_problem(request.addon_id, catalog)
        if problem:
            problems.append(f"{problem}; ignored")
        else:
            counts[request.addon_id] = counts.get(request.addon_id, 0) + request.quantity
    return sorted(counts.items()), tuple(problems)


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
