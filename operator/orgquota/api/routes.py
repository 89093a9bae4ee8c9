"""The routes every provider mode has (quota-only mode is exactly these)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import aiohttp
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from orgquota.api import offers, organization, project_caps
from orgquota.api.answers import AnswerCache
from orgquota.api.auth import AnyCaller, Caller, OrgAdmin, Role
from orgquota.api.cluster import Cluster
from orgquota.api.currency import answer_currency
from orgquota.api.envelope import API_PREFIX, ApiError, JSONBody, ok
from orgquota.api.numbers import cores, gib
from orgquota.api.providers.interface import BillingProvider
from orgquota.api.schema.catalog import Addon, Plan
from orgquota.api.schema.envelope import ERROR_RESPONSES, Success
from orgquota.api.schema.organization import QuotaStatus, QuotaUsage, Simulation, Subscription
from orgquota.api.schema.projects import Overview, Project
from orgquota.api.schema.service import ConfigAnswer, Health
from orgquota.api.settings import ApiSettings
from orgquota.core.annotations import MAX_ADDON_QUANTITY, AddonRequest

# Every route returns its JSON ready-made (a Response, which FastAPI sends as is): each
# `response_model` documents the answer, and tests/unit/api/test_answer_models.py holds the
# answers to it.
router = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
PROXY_TIMEOUT_SECONDS = 5.0


# The application's parts are read from `request.app.state` in each route rather than injected as
# dependencies: FastAPI solves dependencies on every request, and these never vary.


def cluster_of(request: Request) -> Cluster:
    cluster: Cluster = request.app.state.cluster
    return cluster


def settings_of(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def answers_of(request: Request) -> AnswerCache:
    answers: AnswerCache = request.app.state.answers
    return answers


def provider_of(request: Request) -> BillingProvider[Any]:
    provider: BillingProvider[Any] = request.app.state.provider
    return provider


@router.get("/config", response_model=ConfigAnswer, summary="The active billing provider and what the page may offer")
async def config(caller: AnyCaller, request: Request) -> JSONBody:
    answer = provider_of(request).config()
    answer["features"]["history"] = settings_of(request).prometheus_url is not None  # the API's, not the provider's
    answer["features"]["notifications"] = settings_of(request).notifications
    return JSONBody({"success": True, "config": answer})


@router.get(
    "/health",
    response_model=Success[Health],
    summary="Whether the API can answer: the Kubernetes API and a plan catalog",
)
async def health(caller: AnyCaller, request: Request) -> JSONBody:
    cluster, settings = cluster_of(request), settings_of(request)
    cluster.require()
    catalog = organization.catalog_in_force(cluster)
    view = cluster.catalog
    answer: dict[str, Any] = {"valid": view.valid, "plans": len(catalog.plans)}
    if not view.valid:
        answer["problem"] = view.problem
    return ok({"status": "ok", "provider": settings.provider, "catalog": answer})


@router.get("/plans", response_model=Success[list[Plan]], summary="Self-service plans, cheapest first")
async def plans(caller: AnyCaller, request: Request) -> JSONBody:
    cluster = cluster_of(request)
    catalog = organization.catalog_in_force(cluster)
    return ok(offers.plans(catalog, answer_currency(request, caller, cluster, catalog)))


@router.get("/addons", response_model=Success[list[Addon]], summary="Enabled self-service add-ons")
async def addons(caller: AnyCaller, request: Request) -> JSONBody:
    cluster = cluster_of(request)
    catalog = organization.catalog_in_force(cluster)
    return ok(offers.addons(catalog, answer_currency(request, caller, cluster, catalog)))


@router.get(
    "/organization-subscription",
    response_model=Success[Subscription],
    summary="The caller's organization: plan, cost, resources, usage",
)
async def organization_subscription(caller: OrgAdmin, request: Request) -> Response:
    return org_answer(request, caller, "subscription", organization.subscription)


@router.get(
    "/quota-usage", response_model=Success[QuotaUsage], summary="The organization's usage against its enforced quota"
)
async def quota_usage(caller: OrgAdmin, request: Request) -> Response:
    return org_answer(request, caller, "usage", organization.usage)


@router.get(
    "/quota-status", response_model=Success[QuotaStatus], summary="Whether and how the organization's quota is enforced"
)
async def quota_status(caller: OrgAdmin, request: Request) -> Response:
    return org_answer(request, caller, "status", organization.status)


def org_answer(request: Request, caller: Caller, route: str, build: Callable[[organization.OrgFacts], Any]) -> Response:
    facts = organization.OrgFacts(cluster_of(request), caller.org, settings_of(request).quota)
    return answers_of(request).answer(route, facts, build)


class AddonEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    addonId: Annotated[str, Field(min_length=1)]
    quantity: Annotated[int, Field(ge=1, le=MAX_ADDON_QUANTITY, strict=True)] = 1

    @property
    def request(self) -> AddonRequest:
        return AddonRequest(self.addonId, self.quantity)


class DowngradeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    planId: Annotated[str, Field(min_length=1)]
    addons: list[AddonEntry] | None = None
    """the add-ons to count with the plan; omitted: the organization's current ones"""


@router.post(
    "/simulate-downgrade", response_model=Success[Simulation], summary="Whether current usage fits another plan's quota"
)
async def simulate_downgrade(body: DowngradeRequest, caller: OrgAdmin, request: Request) -> JSONBody:
    cluster, settings = cluster_of(request), settings_of(request)
    facts = organization.OrgFacts(cluster, caller.org, settings.quota)
    addons = None if body.addons is None else [entry.request for entry in body.addons]
    return ok(organization.fit_answer(organization.simulate(facts, body.planId, addons, settings.quota)))


def visible_namespaces(caller: Caller, cluster: Cluster) -> list[str]:
    """The namespaces the caller may see: its organization's tree (org-admin), else those of its
    token's namespaces that exist in that tree. The token's list is the identity provider's word
    about projects, not about organizations: a namespace of another organization is never shown."""
    cluster.require(cluster.namespaces)
    tree = set(cluster.members(caller.org)) if caller.org else set()
    if caller.role == Role.ORG_ADMIN:
        return sorted(tree)
    return sorted(namespace for namespace in set(caller.namespaces) if namespace in tree)


def compute(cluster: Cluster, namespace: str) -> dict[str, Any]:
    pods, cpu, memory = cluster.namespace_usage(namespace)
    return {"pods": pods, "cpu": cores(cpu), "memory": gib(memory)}


@router.get(
    "/projects",
    response_model=Success[list[Project]],
    summary="The namespaces the caller may see: usage, cap, and share of the organization's quota",
)
async def projects(caller: AnyCaller, request: Request) -> JSONBody:
    return ok(project_list(caller, cluster_of(request)))


def project_list(caller: Caller, cluster: Cluster) -> list[dict[str, Any]]:
    """What /projects answers the caller (also its `projects` event)."""
    if caller.role == Role.GUEST:
        raise ApiError(403, "no organization or project rights in the token", {"role": caller.role.value})
    cluster.require(cluster.namespaces, cluster.pods, cluster.claims, cluster.orgs, cluster.hrqs)
    caps_of: dict[str, Any] = {}
    answer = []
    for namespace in visible_namespaces(caller, cluster):
        org = cluster.root_of(namespace) or caller.org
        usage = {**compute(cluster, namespace), "storage": gib(cluster.namespace_storage(namespace))}
        entry = {"namespace": namespace, "organization": org, "usage": usage}
        answer.append(entry | project_caps.cap_and_share(cluster, namespace, org, caps_of))
    return answer


@router.get(
    "/project/{namespace}/overview",
    response_model=Success[Overview],
    summary="One project's compute usage and billing data",
)
async def project_overview(namespace: str, request: Request, caller: AnyCaller) -> Response:
    cluster, settings = cluster_of(request), settings_of(request)
    allowed = visible_namespaces(caller, cluster)
    if namespace not in allowed:  # nor proxied: a name that does not exist is in no tree
        raise ApiError(
            403, f"access denied to namespace {namespace!r}", {"namespace": namespace, "availableNamespaces": allowed}
        )
    if settings.billing_api_url is not None:
        return await proxy_overview(request, str(settings.billing_api_url).rstrip("/"), namespace)
    cluster.require(cluster.pods)
    return ok({"namespace": namespace, "compute": compute(cluster, namespace), "billing": None})


async def proxy_overview(request: Request, base: str, namespace: str) -> Response:
    """The billing-dashboard service's answer, passed through (wrapped when it has no envelope)."""
    session: aiohttp.ClientSession = request.app.state.http
    url = f"{base}/api/project/{namespace}/overview"
    headers = {"Accept": "application/json"}
    if "authorization" in request.headers:
        headers["Authorization"] = request.headers["authorization"]
    try:
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=PROXY_TIMEOUT_SECONDS)) as got:
            payload = await got.json(content_type=None)
            status = got.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise ApiError(
            503, "Billing service unreachable", {"namespace": namespace, "reason": str(exc) or type(exc).__name__}
        ) from exc
    if status >= 400:
        message = payload.get("error") if isinstance(payload, dict) else None
        raise ApiError(
            status if status < 500 else 502,
            str(message or f"the billing service answered {status}"),
            {"namespace": namespace},
        )
    if isinstance(payload, dict) and "success" in payload:
        return JSONBody(payload)
    return ok(payload)
