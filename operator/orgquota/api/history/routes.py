"""GET /usage-history, /forecast and /recommendations (org-admin), answered from Prometheus.

Mounted only when `PROMETHEUS_URL` is set (`/config` `features.history`); without it the paths answer
503 in the envelope, so a page that asks anyway learns why. The current usage and the enforced limit
come from the API's own informers (what HNC counts now), the past from Prometheus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request

from orgquota.api.auth import OrgAdmin
from orgquota.api.envelope import API_PREFIX, ApiError, JSONBody, ok
from orgquota.api.history.daily_maxima import DailyMaxima
from orgquota.api.history.prometheus import HistoryUnavailable, Prometheus
from orgquota.api.history.resources import (
    HARD,
    RESOURCE_UNITS,
    USED,
    current,
    in_units,
    one_series,
    promql_label,
    shown_points,
)
from orgquota.api.numbers import price
from orgquota.api.organization import OrgFacts, fit_answer, simulate
from orgquota.api.schema.envelope import ERROR_RESPONSES, Success
from orgquota.api.schema.history import Forecast, Recommendations, UsageHistory
from orgquota.api.settings import ApiSettings
from orgquota.core import annotations as ann
from orgquota.core.advice import RESOURCES, advise, monthly_cost
from orgquota.core.desired import granted_addons
from orgquota.core.forecast import WINDOW_DAYS, ResourceForecast, forecast
from orgquota.core.history_window import WindowError, history_window
from orgquota.core.timestamps import format_rfc3339

router = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
T = TypeVar("T")


def prometheus_of(request: Request) -> Prometheus:
    prometheus: Prometheus | None = getattr(request.app.state, "prometheus", None)
    if prometheus is None:
        raise ApiError(503, "usage history is not configured (PROMETHEUS_URL is not set)", {"feature": "history"})
    return prometheus


def facts_of(request: Request, caller: OrgAdmin) -> OrgFacts:
    settings: ApiSettings = request.app.state.settings
    return OrgFacts(request.app.state.cluster, caller.org, settings.quota)


async def asked(query: Awaitable[T]) -> T:
    try:
        return await query
    except HistoryUnavailable as exc:
        raise ApiError(503, f"usage history is unavailable: {exc}", {"feature": "history"}) from exc


@router.get(
    "/usage-history",
    response_model=Success[UsageHistory],
    summary="One resource's usage and limit over time, from Prometheus",
)
async def usage_history(
    caller: OrgAdmin, request: Request, resource: str = "cpu", range: str | None = None, step: str | None = None
) -> JSONBody:
    if resource not in RESOURCE_UNITS:
        raise ApiError(
            400, "resource: not a resource with history", {"resource": resource[:64], "known": list(RESOURCE_UNITS)}
        )
    try:
        window = history_window(range, step)
    except WindowError as exc:
        raise ApiError(400, str(exc), {"range": (range or "")[:64], "step": (step or "")[:64]}) from exc
    prometheus = prometheus_of(request)
    facts_of(request, caller)  # the organization exists and the caller administers it
    seconds = int(window.step.total_seconds())
    end = datetime.now(UTC).timestamp() // seconds * seconds  # points on whole steps: the same for every caller
    start = end - window.range.total_seconds()
    selector = f'{{organization="{promql_label(caller.org)}",resource="{resource}"}}[{seconds}s]'
    used, hard = await asyncio.gather(
        asked(prometheus.query_range(one_series(f"max_over_time({USED}{selector})"), start, end, seconds)),
        asked(prometheus.query_range(one_series(f"max_over_time({HARD}{selector})"), start, end, seconds)),
    )
    unit, _ = RESOURCE_UNITS[resource]
    return ok(
        {
            "resource": resource,
            "unit": unit,
            "range": f"{int(window.range.total_seconds())}s",
            "step": f"{seconds}s",
            "used": shown_points(resource, used[0].points) if used else [],
            "limit": shown_points(resource, hard[0].points) if hard else [],
        }
    )


def daily_maxima_of(request: Request) -> DailyMaxima:
    prometheus_of(request)  # 503 without PROMETHEUS_URL
    daily: DailyMaxima = request.app.state.daily_maxima
    return daily


async def forecasts(daily: DailyMaxima, facts: OrgFacts, now: datetime) -> dict[str, ResourceForecast]:
    """Every resource's forecast from its daily maxima and its usage and limit now."""
    by_resource = await asked(daily.of(facts.record.name, now))
    return {name: forecast(by_resource.get(name, ()), *current(facts, name), now=now) for name in RESOURCES}


@router.get(
    "/forecast", response_model=Success[Forecast], summary="When each resource runs out, from 30 days of daily maxima"
)
async def forecast_route(caller: OrgAdmin, request: Request) -> JSONBody:
    facts = facts_of(request, caller)
    now = datetime.now(UTC)
    found = await forecasts(daily_maxima_of(request), facts, now)
    return ok(
        {
            "generatedAt": format_rfc3339(now),
            "method": next(iter(found.values())).method,
            "windowDays": WINDOW_DAYS,
            "resources": {name: in_units(name, result) for name, result in found.items()},
        }
    )


@router.get(
    "/recommendations",
    response_model=Success[Recommendations],
    summary="A cheaper plan that fits, or the cheapest one that lasts",
)
async def recommendations(caller: OrgAdmin, request: Request) -> JSONBody:
    return ok(await recommendation(daily_maxima_of(request), facts_of(request, caller), datetime.now(UTC)))


async def recommendation(daily: DailyMaxima, facts: OrgFacts, now: datetime) -> dict[str, Any]:
    """The advice of §9 for the organization (also what an alert e-mail suggests); ApiError 503 when
    Prometheus cannot be asked."""
    found = await forecasts(daily, facts, now)
    addons, _ = granted_addons(facts.record.annotations.get(ann.ADDONS), facts.catalog)
    plan_id = facts.plan_id
    suggestion = advise(found, plan_id, addons, facts.catalog, facts.settings, facts.currency)
    cost = monthly_cost(facts.catalog, plan_id, dict(addons), facts.currency) if plan_id else None
    answer: dict[str, Any] = {
        "kind": suggestion.kind.value,
        "planId": suggestion.plan_id,
        "addons": [{"addonId": entry.addon_id, "quantity": entry.quantity} for entry in suggestion.addons],
        "monthlyCostDelta": price(suggestion.monthly_cost_delta),
        "reason": suggestion.reason,
        "simulate": None,
    }
    if suggestion.plan_id:
        answer["simulate"] = fit_answer(simulate(facts, suggestion.plan_id, suggestion.addons, facts.settings))
    current = {"planId": plan_id, "monthlyCost": price(cost), "currency": facts.cost_currency() or None}
    return {"current": current, "suggestion": answer}
