"""Plan advice from the run-out forecasts: an upgrade, add-ons, a downgrade, or nothing, decided in that order.

- *upgrade* when a resource runs out within 14 days: the cheapest self-service plan (keeping the
  current add-ons) whose quota lasts at least 90 days on the forecasts;
- *addon* instead when adding add-ons to the current plan makes it last 90 days for less;
- *downgrade* when nothing runs out soon and the cheapest self-service plan cheaper than the current
  one covers 1.15 x each resource's largest daily maximum of the last 30 days (current usage when
  there is none, or when usage is higher now) and lasts 90 days;
- *none* otherwise.

A candidate's quota is computed by `desired_quota` from the annotations the organization would
carry, so advice can only name a quota the operator would enforce. Forecasts are in the units the
operator exports (cores, bytes, counts) and keyed by `RESOURCES`. Money is exact (Decimal) and in the
currency the organization pays in (`cost_currency`): a plan without a price (negotiated) is neither
advised nor compared with, and only plans and add-ons priced in that currency are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final

from orgquota.core.annotations import MAX_ADDON_QUANTITY, AddonRequest
from orgquota.core.catalog import Catalog
from orgquota.core.cheapest_addons import Offer, cheapest_addons
from orgquota.core.desired import Mode, QuotaSettings, public_ip_limit
from orgquota.core.fit import plan_quota
from orgquota.core.forecast import ResourceForecast
from orgquota.core.money import EXACT

RESOURCES: Final = {
    "cpu": "requests.cpu",
    "memory": "requests.memory",
    "storage": "requests.storage",
    "pods": "pods",
    "services_loadbalancers": "services.loadbalancers",
    "public_ipv4": None,
}
"""each resource a forecast is made for, and the HRQ key that limits it (public IPv4: the plan's eipQuota)"""
LABELS: Final = {
    "cpu": "CPU",
    "memory": "memory",
    "storage": "storage",
    "pods": "pod",
    "services_loadbalancers": "load balancer",
    "public_ipv4": "public IPv4",
}
SOON: Final = timedelta(days=14)
LASTING: Final = timedelta(days=90)
HEADROOM: Final = Fraction(115, 100)

Limits = dict[str, Fraction | None]
Addons = Mapping[str, int]
"""add-on id -> quantity"""


class Kind(StrEnum):
    NONE = "none"
    DOWNGRADE = "downgrade"
    UPGRADE = "upgrade"
    ADDON = "addon"


@dataclass(frozen=True)
class Suggestion:
    kind: Kind
    plan_id: str | None
    addons: tuple[AddonRequest, ...]
    """every add-on the organization would hold (the current ones with what is added), as `addons` lists them"""
    monthly_cost_delta: Decimal
    """suggested monthly cost - current monthly cost"""
    reason: str


def quota_of(catalog: Catalog, plan_id: str, addons: Addons, settings: QuotaSettings) -> Limits | None:
    """Each resource's limit on `plan_id` with `addons`, as the operator would enforce it (None: not a plan quota)."""
    listed = [AddonRequest(addon_id, quantity) for addon_id, quantity in sorted(addons.items()) if quantity]
    desired = plan_quota(catalog, plan_id, listed, settings)
    if desired.mode != Mode.PLAN or desired.problems:
        return None
    limits: Limits = {name: desired.hard[key].value for name, key in RESOURCES.items() if key}
    eip = public_ip_limit(desired, catalog)
    limits["public_ipv4"] = None if eip is None else Fraction(eip)  # a plan missing from eipQuota is not limited
    return limits


def monthly_cost(catalog: Catalog, plan_id: str, addons: Addons, currency: str | None = None) -> Decimal | None:
    """Plan + sum of add-on price x quantity, exactly, in the currency `cost_currency` gives; None without a
    priced plan (an add-on not priced in that currency costs 0)."""
    plan = catalog.plans.get(plan_id)
    if plan is None:
        return None
    total, paid_in = plan.cost_in(currency)
    if total is None:
        return None
    for addon_id, quantity in addons.items():
        addon = catalog.addons.get(addon_id)
        price, addon_currency = addon.cost_in(paid_in) if addon is not None else (None, "")
        if price is not None and addon_currency == paid_in:
            total = EXACT.add(total, EXACT.multiply(price, quantity))
    return total


def cost_currency(catalog: Catalog, plan_id: str, currency: str | None) -> str:
    """The currency `monthly_cost` counts in: the organization's when the plan is priced in it, else the plan's."""
    plan = catalog.plans.get(plan_id)
    return "" if plan is None else plan.cost_in(currency)[1]


def lasts(forecast: ResourceForecast, limit: Fraction | None, period: timedelta) -> bool:
    """Whether `limit` holds for `period` on `forecast`.

    A resource the organization does not use at all lasts on any quota, even 0 of 0: a plan that
    grants no public IPv4 is no reason to upgrade for an organization that holds none.
    """
    if forecast.used == 0 and not forecast.peak:
        return True
    runs_out = forecast.runs_out_against(limit)
    return runs_out is None or runs_out >= forecast.generated_at + period


def covers(forecast: ResourceForecast, limit: Fraction | None) -> bool:
    """Whether `limit` holds 1.15 x the largest daily maximum (or current usage, when higher or all there is)."""
    peak = forecast.used if forecast.peak is None else max(forecast.peak, forecast.used)
    return limit is None or HEADROOM * peak <= limit


def advise(
    forecasts: Mapping[str, ResourceForecast],
    plan_id: str | None,
    addons: Sequence[tuple[str, int]],
    catalog: Catalog,
    settings: QuotaSettings,
    currency: str | None = None,
) -> Suggestion:
    """The advice for an organization on `plan_id` holding `addons` (the granted ones, as `granted_addons`
    gives) that pays in `currency` (None: not fixed yet), with money in `cost_currency`'s currency."""
    current = dict(addons)
    known = {name: forecast for name, forecast in forecasts.items() if name in RESOURCES}
    current_cost = None if plan_id is None else monthly_cost(catalog, plan_id, current, currency)
    if plan_id is None or current_cost is None:
        return Suggestion(Kind.NONE, plan_id, _listed(current), Decimal(0), "There is no priced plan to compare with.")
    if not known:
        return Suggestion(Kind.NONE, plan_id, _listed(current), Decimal(0), "Nothing is known of the usage yet.")
    paid_in = cost_currency(catalog, plan_id, currency)
    advisor = _Advisor(known, plan_id, current, current_cost, paid_in, catalog, settings)
    soon = [name for name, forecast in known.items() if not lasts(forecast, forecast.limit, SOON)]
    return advisor.grow(soon) if soon else advisor.shrink()


@dataclass(frozen=True)
class _Advisor:
    forecasts: Mapping[str, ResourceForecast]
    plan_id: str
    current: Addons
    current_cost: Decimal
    currency: str
    catalog: Catalog
    settings: QuotaSettings

    def grow(self, soon: list[str]) -> Suggestion:
        trouble = self._trouble(min(soon, key=lambda name: (self._runs_out(name), name)))
        upgrade = next((o for o in self._offers() if o[1] != self.plan_id and self._lasting(o[1], self.current)), None)
        added = self._addons_for_less(None if upgrade is None else EXACT.subtract(upgrade[0], self.current_cost))
        if added is not None:
            quantities, cost = added
            held = {a: self.current.get(a, 0) + quantities.get(a, 0) for a in {*self.current, *quantities}}
            bought = ", ".join(f"{q} x {self._addon_name(a)}" for a, q in sorted(quantities.items()))
            reason = f"{trouble}; adding {bought} to {self._plan_name(self.plan_id)} lasts beyond {self._horizon()}"
            if upgrade is not None:
                reason += f", for less than {self._plan_name(upgrade[1])}"
            return Suggestion(Kind.ADDON, self.plan_id, _listed(held), cost, reason + ".")
        if upgrade is not None:
            cost, plan_id = upgrade
            reason = f"{trouble}; {self._plan_name(plan_id)} lasts beyond {self._horizon()}."
            delta = EXACT.subtract(cost, self.current_cost)
            return Suggestion(Kind.UPGRADE, plan_id, _listed(self.current), delta, reason)
        return self._none(f"{trouble}, and no self-service plan or add-on lasts beyond {self._horizon()}.")

    def shrink(self) -> Suggestion:
        cheaper = next((o for o in self._offers() if o[0] < self.current_cost and self._holds_peak(o[1])), None)
        if cheaper is None:
            return self._none(
                "Nothing runs out within 14 days, and no cheaper plan holds the last 30 days' peak with 15 % to spare."
            )
        cost, plan_id = cheaper
        delta = EXACT.subtract(cost, self.current_cost)
        reason = (
            f"The last 30 days' peak fits {self._plan_name(plan_id)} with 15 % to spare and lasts beyond "
            f"{self._horizon()}; it costs {-delta} {self.currency} a month less."
        )
        return Suggestion(Kind.DOWNGRADE, plan_id, _listed(self.current), delta, reason)

    def _lasting(self, plan_id: str, addons: Addons) -> bool:
        limits = quota_of(self.catalog, plan_id, addons, self.settings)
        return limits is not None and all(lasts(f, limits[name], LASTING) for name, f in self.forecasts.items())

    def _holds_peak(self, plan_id: str) -> bool:
        limits = quota_of(self.catalog, plan_id, self.current, self.settings)
        return limits is not None and all(
            covers(f, limits[name]) and lasts(f, limits[name], LASTING) for name, f in self.forecasts.items()
        )

    def _offers(self) -> list[tuple[Decimal, str]]:
        """(monthly cost with the current add-ons, plan id) of each self-service plan on sale, cheapest first."""
        found = []
        for plan_id, plan in self.catalog.plans.items():
            cost = monthly_cost(self.catalog, plan_id, self.current, self.currency)
            priced_in = cost_currency(self.catalog, plan_id, self.currency)
            if plan.selfService and priced_in == self.currency and cost is not None:
                found.append((cost, plan_id))
        return sorted(found)

    def _addons_for_less(self, below: Decimal | None) -> tuple[dict[str, int], Decimal] | None:
        """The cheapest add-ons to add to the current plan so that it lasts, if any cost less than `below`."""
        sellable = [
            Offer(addon_id, price, MAX_ADDON_QUANTITY - self.current.get(addon_id, 0))
            for addon_id, addon in sorted(self.catalog.addons.items())
            for price, currency in [addon.cost_in(self.currency)]
            if addon.selfService
            and not addon.disabled
            and currency == self.currency
            and price is not None
            and price > 0
        ]
        found = cheapest_addons(sellable, self.current, lambda addons: self._lasting(self.plan_id, addons), below)
        return found if found is not None and found[0] else None  # nothing to add: a pending change, not advice

    def _none(self, reason: str) -> Suggestion:
        return Suggestion(Kind.NONE, self.plan_id, _listed(self.current), Decimal(0), reason)

    def _runs_out(self, name: str) -> datetime:
        forecast = self.forecasts[name]
        return forecast.runs_out_against(forecast.limit) or forecast.generated_at + SOON

    def _trouble(self, name: str) -> str:
        when = self._runs_out(name)
        if when <= self.forecasts[name].generated_at:
            return f"The {LABELS[name]} quota is full"
        return f"The {LABELS[name]} quota runs out around {_day(when)}"

    def _horizon(self) -> str:
        return _day(next(iter(self.forecasts.values())).generated_at + LASTING)

    def _plan_name(self, plan_id: str) -> str:
        return self.catalog.plans[plan_id].displayName or plan_id

    def _addon_name(self, addon_id: str) -> str:
        return self.catalog.addons[addon_id].displayName or addon_id


def _listed(addons: Addons) -> tuple[AddonRequest, ...]:
    return tuple(AddonRequest(addon_id, quantity) for addon_id, quantity in sorted(addons.items()) if quantity)


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"
