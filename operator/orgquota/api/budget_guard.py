"""The monthly budget as a guard on purchases: a plan change or an add-on that would put the monthly
cost above the organization's budget is refused (409 `BUDGET_EXCEEDED`) unless the caller says
`overBudget: true`. One call from each purchase route of a provider."""

from __future__ import annotations

from collections.abc import Mapping

from orgquota.api.envelope import ApiError
from orgquota.api.numbers import price
from orgquota.api.organization import OrgFacts
from orgquota.core import annotations as ann
from orgquota.core.advice import monthly_cost
from orgquota.core.budget import parse_budget
from orgquota.core.desired import granted_addons

BUDGET_EXCEEDED = "BUDGET_EXCEEDED"


def added_addon(facts: OrgFacts, addon_id: str) -> dict[str, int]:
    """The organization's add-ons with one more of `addon_id`."""
    addons = dict(granted_addons(facts.record.annotations.get(ann.ADDONS), facts.catalog)[0])
    return {**addons, addon_id: addons.get(addon_id, 0) + 1}


def refuse_over_budget(
    facts: OrgFacts, plan_id: str | None, addons: Mapping[str, int] | None, over_budget: bool
) -> None:
    """409 when `plan_id` with `addons` (None: the current ones) would cost more a month than the budget."""
    budget = parse_budget(facts.record.annotations.get(ann.BUDGET))
    if budget is None or over_budget or not plan_id or plan_id not in facts.catalog.plans:
        return
    if addons is None:
        addons = dict(granted_addons(facts.record.annotations.get(ann.ADDONS), facts.catalog)[0])
    cost = monthly_cost(facts.catalog, plan_id, dict(addons), facts.currency)
    if cost is None or not budget.exceeded_by(cost):
        return
    raise ApiError(
        409,
        f"this would cost {cost} {budget.currency} a month, above the budget of {budget.monthly} {budget.currency}; "
        'send "overBudget": true to go ahead anyway, or raise the budget',
        {"monthlyCost": price(cost), "budget": price(budget.monthly), "currency": budget.currency},
        code=BUDGET_EXCEEDED,
    )
