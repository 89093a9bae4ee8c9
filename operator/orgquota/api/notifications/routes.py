"""The org-admin's notification addresses and monthly budget, kept in Organization annotations
(`billing.kube-dc.com/notify`, `billing.kube-dc.com/budget`) through the API's one annotation writer.

Bodies are read here, bounded and with numbers as exact decimals, so that a bad value is a 400 that
says which (never a budget rounded through a float).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request

from orgquota.api.audit import audited, noted
from orgquota.api.auth import OrgAdmin
from orgquota.api.envelope import API_PREFIX, ApiError, JSONBody, ok
from orgquota.api.guard import MAX_JSON_BODY_BYTES
from orgquota.api.numbers import price
from orgquota.api.organization import OrgFacts
from orgquota.api.providers.webhook import capped_body
from orgquota.api.schema.envelope import ERROR_RESPONSES, Success
from orgquota.api.schema.notifications import Budget as BudgetAnswer
from orgquota.api.schema.notifications import NotificationSettings
from orgquota.api.settings import ApiSettings
from orgquota.core import annotations as ann
from orgquota.core.budget import Budget, BudgetError, monthly_amount, parse_budget
from orgquota.core.notifications import AddressError, notify_annotation, parse_notify, valid_addresses
from orgquota.core.usage_series import monthly_cost
from orgquota.kube.billing_annotations import write_billing_annotations
from orgquota.kube.client import KubeError

router = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)


def facts_of(request: Request, caller: OrgAdmin) -> OrgFacts:
    settings: ApiSettings = request.app.state.settings
    return OrgFacts(request.app.state.cluster, caller.org, settings.quota)


async def json_object(request: Request, fields: set[str]) -> dict[str, Any]:
    """The body: a JSON object of exactly `fields` at most (numbers as Decimal); 400 or 413 otherwise."""
    body = await capped_body(request, MAX_JSON_BODY_BYTES)
    if body is None:
        raise ApiError(413, f"the request body is larger than {MAX_JSON_BODY_BYTES} bytes")
    try:
        data = json.loads(body, parse_float=Decimal, parse_int=Decimal)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "the request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object")
    unknown = sorted(str(key)[:64] for key in data if key not in fields)
    if unknown:
        raise ApiError(400, f"unknown fields: {', '.join(unknown)}", {"allowed": sorted(fields)})
    return data


async def write(request: Request, organization: str, changes: dict[str, str | None]) -> None:
    try:
        await write_billing_annotations(request.app.state.cluster.kube, organization, organization, changes)
    except KubeError as exc:
        if exc.status == 404:
            raise ApiError(404, f"organization {organization!r} not found", {"organization": organization}) from exc
        raise ApiError(503, f"the Kubernetes API failed; nothing was changed ({exc.status})") from exc


@router.get(
    "/notification-settings",
    response_model=Success[NotificationSettings],
    summary="Where the organization's alerts are mailed",
)
async def get_notification_settings(caller: OrgAdmin, request: Request) -> JSONBody:
    record = facts_of(request, caller).record
    return ok({"emails": parse_notify(record.annotations.get(ann.NOTIFY))})


@router.put(
    "/notification-settings",
    response_model=Success[NotificationSettings],
    summary="Set where the organization's alerts are mailed (at most 10 addresses)",
)
@audited("notification settings")
async def put_notification_settings(caller: OrgAdmin, request: Request) -> JSONBody:
    facts_of(request, caller)
    data = await json_object(request, {"emails"})
    try:
        emails = valid_addresses(data.get("emails"))
    except AddressError as exc:
        raise ApiError(400, f"emails: {exc}", {"field": "emails"}) from exc
    await write(request, caller.org, {ann.NOTIFY: notify_annotation(emails) if emails else None})
    return ok({"emails": emails})


def budget_answer(facts: OrgFacts, budget: Budget | None) -> dict[str, Any]:
    cost = monthly_cost(facts.record.annotations, facts.catalog)
    current = None if cost is None else cost.amount
    percent = None
    if budget is not None and current is not None:
        percent = float(round(current / budget.monthly * 100, 1))
    currency = budget.currency if budget else (cost.currency if cost else "")
    return {
        "monthly": price(budget.monthly) if budget else None,
        "currency": currency,
        "current": None if current is None else price(current),
        "percent": percent,
    }


@router.get("/budget", response_model=Success[BudgetAnswer], summary="The monthly budget and the cost against it")
async def get_budget(caller: OrgAdmin, request: Request) -> JSONBody:
    facts = facts_of(request, caller)
    return ok(budget_answer(facts, parse_budget(facts.record.annotations.get(ann.BUDGET))))


@router.put(
    "/budget",
    response_model=Success[BudgetAnswer],
    summary="Set the monthly budget (in the plan's currency): purchases above it need overBudget",
)
@audited("budget set")
async def put_budget(caller: OrgAdmin, request: Request) -> JSONBody:
    facts = facts_of(request, caller)
    data = await json_object(request, {"monthly", "currency"})
    try:
        amount = monthly_amount(data.get("monthly"))
    except BudgetError as exc:
        raise ApiError(400, f"monthly: {exc}", {"field": "monthly"}) from exc
    cost = monthly_cost(facts.record.annotations, facts.catalog)
    currency = data.get("currency", cost.currency if cost else None)
    if not isinstance(currency, str) or not currency.strip():
        raise ApiError(400, "currency: required (the organization has no priced plan to take it from)")
    if cost is not None and currency != cost.currency:
        raise ApiError(
            400,
            f"currency: the organization pays in {cost.currency}, not {currency[:16]}",
            {"field": "currency", "currency": cost.currency},
        )
    budget = Budget(amount, currency[:16])
    noted(request, monthly=str(budget.monthly), currency=budget.currency)
    await write(request, caller.org, {ann.BUDGET: budget.annotation()})
    return ok(budget_answer(facts, budget))


@router.delete("/budget", response_model=Success[BudgetAnswer], summary="Remove the monthly budget")
@audited("budget removed")
async def delete_budget(caller: OrgAdmin, request: Request) -> JSONBody:
    facts = facts_of(request, caller)
    await write(request, caller.org, {ann.BUDGET: None})
    return ok(budget_answer(facts, None))
