"""Project caps (org-admins): `PUT` and `DELETE /project/{namespace}/cap`, and each project's cap and
share in `/projects`.

A cap is written into the Organization's `project-caps` annotation through the one annotation
writer (read, change, write at that resourceVersion); the operator enforces it. Every check is
made before anything is written: the namespace (404, 403), the body (400; 413 past the API's bound), what already runs
above the cap (409 with the pods, unless `belowUsage`), the annotation as it is (409 when it cannot
be read) and the projects limit (400). `?dryRun=true` answers the same and writes nothing. Every
call leaves an audit line (`audit.audited`), a dry run too (its `dryRun` input says so).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from orgquota.api.audit import audited, noted
from orgquota.api.auth import OrgAdmin
from orgquota.api.cluster import Cluster
from orgquota.api.envelope import API_PREFIX, ApiError, JSONBody, ok
from orgquota.api.numbers import number, parsed
from orgquota.api.schema.caps import CapChange
from orgquota.api.schema.envelope import ERROR_RESPONSES, Success
from orgquota.core.cap_usage import Consumer, below_usage, claim_consumer, pod_consumer, share
from orgquota.core.manifests import HRQ_NAME
from orgquota.core.organization import Organization
from orgquota.core.project_caps import (
    CAP_KEYS,
    PROJECT_CAPS,
    CapsError,
    ProjectCap,
    caps_total,
    namespace_problem,
    parse_cap,
    parse_caps,
    with_cap,
)
from orgquota.core.quantity import Quantity
from orgquota.kube.billing_annotations import update_billing_annotations

router = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
ROUTE: Final = "/project/{namespace}/cap"


class CapRequest(BaseModel):
    """A project's cap, at least one field (documentation of the body: the route reads it itself, so
    that every bad value answers 400 with the problem named)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    cpu: str | int | float | None = None
    """cores, a Kubernetes quantity (`"2"`, `"500m"`); a JSON number is taken exactly (`0.5` is `500m`)"""
    memory: str | int | None = None
    """bytes, a Kubernetes quantity (`"4Gi"`)"""
    storage: str | int | None = None
    """bytes of PersistentVolumeClaims, a Kubernetes quantity (`"10Gi"`)"""
    pods: int | None = None
    belowUsage: bool = False
    """accept a cap below what the project already uses: nothing running is evicted, what comes next is refused"""


BODY_DOCUMENT: Final = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": CapRequest.model_json_schema()}}}
}
DryRun = Annotated[bool, Query(description="answer as the change would, and write nothing")]


@router.put(
    ROUTE,
    response_model=Success[CapChange],
    summary="Cap what one project of the organization may take of the plan",
    openapi_extra=BODY_DOCUMENT,
)
@audited("project cap set")
async def put_cap(namespace: str, caller: OrgAdmin, request: Request, dryRun: DryRun = False) -> JSONBody:
    cluster: Cluster = request.app.state.cluster
    org = _project_of(cluster, caller.org, namespace, removing=False)
    body = await _body(request)
    accept_below = body.pop("belowUsage", False)
    if not isinstance(accept_below, bool):
        raise ApiError(400, "belowUsage must be true or false", {"problems": ["belowUsage must be true or false"]})
    try:
        cap = parse_cap(body, "cap")
    except CapsError as exc:
        raise ApiError(400, "invalid cap: " + "; ".join(exc.problems), {"problems": exc.problems}) from exc
    noted(request, cap={key: value for key, value in cap.shown().items() if value is not None}, belowUsage=accept_below)
    violations = below_usage(cap, consumers(cluster, namespace))
    if violations and not accept_below:
        raise ApiError(
            409,
            f"the cap is below what {namespace} already uses ({', '.join(v.resource for v in violations)}); "
            'send "belowUsage": true to set it anyway (nothing running is evicted)',
            {"namespace": namespace, "violations": [v.answer() for v in violations]},
        )
    return await _change(request, org, namespace, cap, dryRun, [v.answer() for v in violations])


@router.delete(ROUTE, response_model=Success[CapChange], summary="Remove a project's cap")
@audited("project cap removed")
async def delete_cap(namespace: str, caller: OrgAdmin, request: Request, dryRun: DryRun = False) -> JSONBody:
    org = _project_of(request.app.state.cluster, caller.org, namespace, removing=True)
    return await _change(request, org, namespace, None, dryRun, [])


def _project_of(cluster: Cluster, org_name: str, namespace: str, *, removing: bool) -> Organization:
    """The caller's Organization, once `namespace` is known to be one of its projects."""
    cluster.require(cluster.orgs, cluster.hrqs, cluster.namespaces, cluster.pods, cluster.claims)
    org = cluster.organization(org_name)
    if cluster.namespaces.get("", namespace) is None:
        stale = removing and namespace in _stored_caps(org, cluster, quiet=True)
        if not stale:  # a cap left by a deleted project can still be removed
            raise ApiError(404, f"namespace {namespace!r} not found", {"namespace": namespace})
    elif namespace not in cluster.members(org.namespace):
        raise ApiError(
            403, f"namespace {namespace!r} is not a project of organization {org.name!r}", {"namespace": namespace}
        )
    problem = namespace_problem(namespace, org.namespace)
    if problem:
        raise ApiError(400, problem, {"namespace": namespace})
    return org


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object sent (bounded before it is read: `guard.RequestGuard`), numbers kept exact."""
    try:
        body = json.loads(await request.body() or b"{}", parse_float=Decimal, parse_constant=_not_a_number)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object: {cpu, memory, storage, pods, belowUsage}")
    return body


def _not_a_number(name: str) -> Any:
    raise ValueError(name)


def consumers(cluster: Cluster, namespace: str) -> list[Consumer]:
    """The pods and claims a cap in `namespace` covers: its own and those of namespaces below it."""
    found = []
    for member in cluster.members(namespace) or [namespace]:
        prefix = "" if member == namespace else f"{member}/"
        for name, pod in cluster.pods.in_namespace(member).items():
            found.append(pod_consumer(prefix + name, pod.created, pod.cpu, pod.memory))
        for name, claim in cluster.claims.in_namespace(member).items():
            found.append(claim_consumer(prefix + name, claim.created, claim.storage))
    return found


def _stored_caps(org: Organization, cluster: Cluster, *, quiet: bool = False) -> dict[str, ProjectCap]:
    """The organization's caps as stored; 409 when they cannot be read (unless `quiet`: none)."""
    return _readable(org.annotations, org, cluster.settings.quota.projects_limit, quiet=quiet)


def _readable(
    annotations: Mapping[str, str], org: Organization, limit: int, *, quiet: bool = False
) -> dict[str, ProjectCap]:
    try:
        return parse_caps(annotations.get(PROJECT_CAPS), organization=org.namespace, projects_limit=limit)
    except CapsError as exc:
        if quiet:
            return {}
        raise ApiError(
            409,
            f"the organization's {PROJECT_CAPS} annotation cannot be read, so no cap is changed through it; "
            "it must be corrected first: " + "; ".join(exc.problems),
            {"problems": exc.problems},
        ) from exc


async def _change(
    request: Request,
    org: Organization,
    namespace: str,
    cap: ProjectCap | None,
    dry_run: bool,
    violations: list[dict[str, Any]],
) -> JSONBody:
    cluster: Cluster = request.app.state.cluster
    limit = cluster.settings.quota.projects_limit

    def changed(annotations: Mapping[str, str]) -> dict[str, str | None]:
        """The annotation's change; 409 when it cannot be read as it is now, 400 past the projects limit."""
        current = annotations.get(PROJECT_CAPS)
        _readable(annotations, org, limit)
        try:
            new = with_cap(current, namespace, cap, organization=org.namespace, projects_limit=limit)
        except CapsError as exc:
            raise ApiError(400, "; ".join(exc.problems), {"problems": exc.problems}) from exc
        return {} if new == current or (new is None and current is None) else {PROJECT_CAPS: new}

    if dry_run:
        patch = changed(org.annotations)
        after = patch.get(PROJECT_CAPS, org.annotations.get(PROJECT_CAPS))
    else:
        if cluster.kube is None:
            raise ApiError(503, "the API has no Kubernetes client")
        recorded = await update_billing_annotations(cluster.kube, org.namespace, org.name, changed)
        if recorded is None:
            raise ApiError(404, f"organization {org.name!r} not found", {"organization": org.name})
        patch = recorded.changes
        after = patch.get(PROJECT_CAPS, recorded.before.get(PROJECT_CAPS))
    caps = parse_caps(after, organization=org.namespace, projects_limit=limit)
    return ok(_answer(cluster, org, namespace, caps, dry_run, bool(patch), violations))


def _answer(
    cluster: Cluster,
    org: Organization,
    namespace: str,
    caps: Mapping[str, ProjectCap],
    dry_run: bool,
    changed: bool,
    violations: list[dict[str, Any]],
) -> dict[str, Any]:
    total = caps_total(caps)
    hrq = cluster.hrqs.get(org.namespace, HRQ_NAME)
    quota = {key: parsed(value) for key, value in (hrq.hard if hrq else {}).items()}
    excess = [
        {"resource": key, "capsTotal": str(_spelled(key, total[key])), "quota": str(_spelled(key, quota[key]))}
        for key in CAP_KEYS.values()
        if key in total and key in quota and total[key] > quota[key]
    ]
    cap = caps.get(namespace)
    verb = "would be" if dry_run else "is"
    message = f"{namespace} {verb} capped" if cap else f"{namespace} {verb} not capped"
    if excess:
        message += (
            "; the caps add up to more than the organization's quota for "
            + ", ".join(e["resource"] for e in excess)
            + ": allowed, a cap bounds one project and reserves nothing"
        )
    return {
        "namespace": namespace,
        "cap": cap.shown() if cap else None,
        "dryRun": dry_run,
        "changed": changed,
        "violations": violations,
        "capsTotal": {field: _total_shown(field, total.get(key)) for field, key in CAP_KEYS.items()},
        "exceedsPlan": excess,
        "message": message,
    }


def _spelled(key: str, value: Fraction) -> Quantity:
    return Quantity(value, binary=key in ("requests.memory", "requests.storage"), plain=key == "pods")


def _total_shown(field: str, value: Fraction | None) -> str | int | None:
    if value is None:
        return None
    return value.numerator if field == "pods" else str(_spelled(CAP_KEYS[field], value))


def cap_and_share(cluster: Cluster, namespace: str, org_name: str, caps_of: dict[str, Any]) -> dict[str, Any]:
    """`cap` and `share` of a project in `/projects`; `caps_of` remembers each organization's caps
    for the rest of the request (several projects, one parse)."""
    if org_name not in caps_of:
        org = cluster.orgs.get(org_name, org_name)
        caps_of[org_name] = _stored_caps(org, cluster, quiet=True) if org else {}
    cap = caps_of[org_name].get(namespace)
    pods, cpu, memory = cluster.namespace_usage(namespace)
    used = {
        "requests.cpu": cpu,
        "requests.memory": memory,
        "requests.storage": cluster.namespace_storage(namespace),
        "pods": Fraction(pods),
    }
    hrq = cluster.hrqs.get(org_name, HRQ_NAME)
    quota = {key: parsed(value) for key, value in (hrq.hard if hrq else {}).items()}
    shares = share(used, quota)
    return {
        "cap": cap.shown() if cap else None,
        "share": {field: None if value is None else number(round(value, 4)) for field, value in shares.items()},
    }
