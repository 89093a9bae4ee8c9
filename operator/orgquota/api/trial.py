"""`POST /trial {planId}`: an org-admin starts the organization's one trial (quota-only mode only).

With a payment provider the provider's checkout sets trials (the route is not mounted: 404). The
write is one conditional merge patch of the billing annotations, decided on what the apiserver
holds at that moment, so two requests at once cannot both start a trial; a refused one writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from orgquota.api.audit import audited
from orgquota.api.auth import OrgAdmin
from orgquota.api.currency import refusal
from orgquota.api.envelope import ApiError, JSONBody, ok
from orgquota.api.organization import catalog_in_force
from orgquota.api.schema.envelope import Success
from orgquota.api.schema.trial import TrialStarted
from orgquota.core import annotations as ann
from orgquota.core.trials import Refused, start_trial
from orgquota.kube.billing_annotations import update_billing_annotations
from orgquota.kube.client import KubeError

router = APIRouter()


class TrialRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    planId: Annotated[str, Field(min_length=1, max_length=253)]
    currency: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    """ISO 4217, one the plans are sold in; the organization's own once it has one"""


@router.post("/trial", response_model=Success[TrialStarted], summary="Start the organization's one trial of a plan")
@audited("trial")
async def start(body: TrialRequest, caller: OrgAdmin, request: Request) -> JSONBody:
    cluster = request.app.state.cluster
    catalog = catalog_in_force(cluster)
    org = caller.org
    cluster.organization(org)  # 404 for an organization the API has never seen
    now = datetime.now(UTC)
    try:
        recorded = await update_billing_annotations(
            cluster.kube, org, org, lambda current: start_trial(current, body.planId, catalog, now, body.currency)
        )
    except Refused as exc:
        raise refusal(exc) from exc
    except KubeError as exc:
        raise ApiError(503, f"the Kubernetes API failed; nothing was changed ({exc.status})") from exc
    if recorded is None:
        raise ApiError(404, f"organization {org!r} not found", {"organization": org})
    after = {**recorded.before, **recorded.changes}
    return ok(
        {
            "organization": org,
            "planId": body.planId,
            "status": ann.Subscription.TRIALING.value,
            "trialEndsAt": after[ann.TRIAL_ENDS_AT],
            "currency": after.get(ann.CURRENCY),
        }
    )
