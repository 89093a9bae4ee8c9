"""Which currency an answer is in: the organization's (fixed at its first subscription), else `?currency=`."""

from __future__ import annotations

from fastapi import Request

from orgquota.api.auth import Caller
from orgquota.api.cluster import Cluster
from orgquota.api.envelope import ApiError
from orgquota.core import annotations as ann
from orgquota.core.catalog import Catalog
from orgquota.core.trials import Refused, paying_currency


def organization_currency(cluster: Cluster, org: str) -> str | None:
    """The currency `org` pays in; None before its first subscription (or without an organization)."""
    if not org:
        return None
    record = cluster.orgs.get(org, org)
    return None if record is None else record.annotations.get(ann.CURRENCY) or None


def answer_currency(request: Request, caller: Caller, cluster: Cluster, catalog: Catalog) -> str | None:
    """The caller's organization's currency, else the one asked for; 400 for one the catalog does not sell in."""
    try:
        asked = paying_currency({}, request.query_params.get("currency"), catalog)
    except Refused as exc:
        raise refusal(exc) from exc
    return organization_currency(cluster, caller.org) or asked


def refusal(exc: Refused) -> ApiError:
    return ApiError(exc.kind.value, exc.message, exc.details)
