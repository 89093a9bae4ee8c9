"""What can be bought: the catalog's self-service plans and add-ons, as the billing page shows them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orgquota.api.numbers import cores, gib, number, price
from orgquota.core.catalog import Addon, Catalog, Plan


def plan_resources(plan: Plan) -> dict[str, int | float]:
    requests = plan.requests
    return {
        "cpu": cores(requests.cpu.value),
        "memory": gib(requests.memory.value),
        "storage": gib(requests.storage.value),
    }


def plan_answer(plan_id: str, plan: Plan) -> dict[str, Any]:
    return {
        "id": plan_id,
        "displayName": plan.displayName or plan_id,
        "description": plan.description,
        "price": price(plan.price),
        "currency": plan.currency,
        "recommended": plan.recommended,
        "objectStorage": str(plan.objectStorage) if plan.objectStorage is not None else None,
        "ipv4": plan.ipv4,
        "features": list(plan.features),
        "requests": {
            "cpu": str(plan.requests.cpu),
            "memory": str(plan.requests.memory),
            "storage": str(plan.requests.storage),
        },
        "pods": plan.pods,
        "servicesLB": plan.servicesLB,
        "burstRatio": number(plan.burstRatio),
        "resources": plan_resources(plan),
    }


def plans(catalog: Catalog) -> list[dict[str, Any]]:
    """Self-service plans, cheapest first (plans without a price last), then by id."""
    offered = [(plan_id, plan) for plan_id, plan in catalog.plans.items() if plan.selfService]
    offered.sort(key=lambda item: (item[1].price is None, item[1].price or Decimal(0), item[0]))
    return [plan_answer(plan_id, plan) for plan_id, plan in offered]


def addon_answer(addon_id: str, addon: Addon) -> dict[str, Any]:
    return {
        "id": addon_id,
        "displayName": addon.displayName or addon_id,
        "description": addon.description,
        "price": price(addon.price),
        "currency": addon.currency,
        "cpu": str(addon.cpu),
        "memory": str(addon.memory),
        "storage": str(addon.storage),
    }


def addons(catalog: Catalog) -> list[dict[str, Any]]:
    """Enabled self-service add-ons, cheapest first, then by id."""
    offered = [(i, a) for i, a in catalog.addons.items() if a.selfService and not a.disabled]
    offered.sort(key=lambda item: (item[1].price is None, item[1].price or Decimal(0), item[0]))
    return [addon_answer(addon_id, addon) for addon_id, addon in offered]
