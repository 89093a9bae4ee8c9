"""What can be bought: the catalog's self-service plans and add-ons, as the billing page shows them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orgquota.api.numbers import cores, gib, number, price
from orgquota.core.catalog import Addon, Catalog, Plan
from orgquota.core.prices import Priced


def plan_resources(plan: Plan) -> dict[str, int | float]:
    requests = plan.requests
    return {
        "cpu": cores(requests.cpu.value),
        "memory": gib(requests.memory.value),
        "storage": gib(requests.storage.value),
    }


def plan_answer(plan_id: str, plan: Plan, currency: str | None = None) -> dict[str, Any]:
    amount, shown_in = plan.price_in(currency)
    return {
        "id": plan_id,
        "displayName": plan.displayName or plan_id,
        "description": plan.description,
        "price": price(amount),
        "currency": shown_in,
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


def _cheapest_first(item: tuple[str, Priced], currency: str | None) -> tuple[bool, Decimal, str]:
    amount = item[1].price_in(currency)[0]
    return amount is None, amount or Decimal(0), item[0]


def plans(catalog: Catalog, currency: str | None = None) -> list[dict[str, Any]]:
    """Self-service plans, in `currency` where they are priced in it, cheapest first (unpriced last), then by id."""
    offered = [(plan_id, plan) for plan_id, plan in catalog.plans.items() if plan.selfService]
    offered.sort(key=lambda item: _cheapest_first(item, currency))
    return [plan_answer(plan_id, plan, currency) for plan_id, plan in offered]


def addon_answer(addon_id: str, addon: Addon, currency: str | None = None) -> dict[str, Any]:
    amount, shown_in = addon.price_in(currency)
    return {
        "id": addon_id,
        "displayName": addon.displayName or addon_id,
        "description": addon.description,
        "price": price(amount),
        "currency": shown_in,
        "cpu": str(addon.cpu),
        "memory": str(addon.memory),
        "storage": str(addon.storage),
    }


def addons(catalog: Catalog, currency: str | None = None) -> list[dict[str, Any]]:
    """Enabled self-service add-ons, in `currency` where they are priced in it, cheapest first, then by id."""
    offered = [(i, a) for i, a in catalog.addons.items() if a.selfService and not a.disabled]
    offered.sort(key=lambda item: _cheapest_first(item, currency))
    return [addon_answer(addon_id, addon, currency) for addon_id, addon in offered]
