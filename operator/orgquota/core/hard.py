"""The arithmetic of an HRQ's `spec.hard`: plan + add-ons + per-project overhead, x burstRatio.

Kept apart from `desired` (which decides *which* quota applies) because the catalog uses the
same arithmetic to check its worst case when it is parsed: a plan whose quota with every
add-on at its largest quantity could not be written is a bad catalog, not a bad HRQ later.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, Final

from orgquota.core.annotations import MAX_ADDON_QUANTITY
from orgquota.core.limits import MAX_PROJECTS_LIMIT, hard_out_of_range
from orgquota.core.quantity import BYTE, MI, MILLI, Quantity

if TYPE_CHECKING:  # the catalog imports this module to check itself
    from orgquota.core.catalog import Addon, Catalog, Plan, SuspendedPlan, SystemOverhead

_PLAN_FIELD: Final = {
    "requests.cpu": "requests.cpu",
    "limits.cpu": "requests.cpu",
    "requests.memory": "requests.memory",
    "limits.memory": "requests.memory",
    "requests.storage": "requests.storage",
    "pods": "pods",
    "services.loadbalancers": "servicesLB",
}
"""The plan field each HRQ key grows from, to name it in a message."""
_FLOOR_FIELD: Final = {
    "requests.cpu": "cpu",
    "limits.cpu": "cpu",
    "requests.memory": "memory",
    "limits.memory": "memory",
    "requests.storage": "storage",
    "pods": "pods",
    "services.loadbalancers": "servicesLB",
}


def plan_hard(
    plan: Plan, addons: Iterable[tuple[Addon, int]], overhead: SystemOverhead, projects_limit: int
) -> dict[str, Quantity]:
    """`spec.hard` in plan mode; `addons` are (add-on, quantity) pairs already judged to grant."""
    cpu, memory, storage = plan.requests.cpu, plan.requests.memory, plan.requests.storage
    for addon, count in addons:
        cpu, memory, storage = (
            cpu + addon.cpu * count,
            memory + addon.memory * count,
            storage + addon.storage * count,
        )
    cpu += Quantity(Fraction(overhead.cpuPerProject * projects_limit) * MILLI)
    memory += Quantity(overhead.memPerProject * projects_limit * MI, binary=True)
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


def floor_hard(floor: SuspendedPlan) -> dict[str, Quantity]:
    """`spec.hard` on the suspended floor: the catalog's values as they are, no add-ons, no overhead."""
    return {
        "requests.cpu": floor.cpu,
        "limits.cpu": floor.cpu,
        "requests.memory": floor.memory,
        "limits.memory": floor.memory,
        "requests.storage": floor.storage,
        "pods": Quantity.count(floor.pods),
        "services.loadbalancers": Quantity.count(floor.servicesLB),
    }


def worst_case_problems(catalog: Catalog) -> list[str]:
    """Each plan field whose quota could go beyond what Kubernetes holds exactly.

    The worst case is every enabled add-on at `MAX_ADDON_QUANTITY` (the annotation can ask for
    no more of each) and the overhead of `MAX_PROJECTS_LIMIT` projects (the operator accepts no
    larger setting), times burstRatio; everything only adds, so any real HRQ is at most this.
    """
    enabled = sorted(addon_id for addon_id, addon in catalog.addons.items() if not addon.disabled)
    worst = f"with {MAX_ADDON_QUANTITY} x each enabled add-on ({', '.join(enabled) or 'none'})"
    worst += f" and the overhead of {MAX_PROJECTS_LIMIT} projects"
    addons = [(catalog.addons[addon_id], MAX_ADDON_QUANTITY) for addon_id in enabled]
    problems: dict[str, str] = {}
    for plan_id, plan in catalog.plans.items():
        hard = plan_hard(plan, addons, catalog.systemOverhead, MAX_PROJECTS_LIMIT)
        for key, why in hard_out_of_range(hard).items():  # one message per field
            field = f"plans.{plan_id}.{_PLAN_FIELD[key]}"
            problems[field] = f"{field}: {worst}, {key} (burstRatio {plan.burstRatio}) would be {why}"
    return list(problems.values())


def floor_problems(catalog: Catalog) -> list[str]:
    """Each floor value above what some plan gives on its own (no add-ons, no overhead).

    The floor is what a mistyped plan id or subscription falls to; were it above a plan, a
    typo would loosen that plan's quota.
    """
    floor = floor_hard(catalog.suspendedPlan)
    problems: dict[str, str] = {}
    for plan_id, plan in catalog.plans.items():
        least = plan_hard(plan, (), catalog.systemOverhead, 0)
        for key, value in floor.items():
            field = f"suspendedPlan.{_FLOOR_FIELD[key]}"
            if value > least[key] and field not in problems:
                problems[field] = (
                    f"{field}: {value} is more than plan {plan_id} gives ({key} {least[key]}); the floor must be "
                    "the least quota, or a mistyped plan id would get more than its plan"
                )
    return list(problems.values())
