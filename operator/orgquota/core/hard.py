"""The arithmetic of an HRQ's `spec.hard`: plan + add-ons + per-project overhead, x burstRatio.

Kept apart from `desired` (which decides *which* quota applies) because the catalog uses the
same arithmetic to check its worst case when it is parsed: a plan whose quota with every
add-on at its largest quantity could not be written is a bad catalog, not a bad HRQ later.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

from orgquota.core.quantity import BYTE, MI, MILLI, Quantity

if TYPE_CHECKING:  # the catalog imports this module to check itself
    from orgquota.core.catalog import Addon, Plan, SuspendedPlan, SystemOverhead


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
