"""Billing facts applied to an Organization: read, decide with the state machine, one conditional write.

The decision is taken on the object as the apiserver has it now (not on the informers' memory,
which may lag behind a write made a moment ago), and written as one merge patch that names the
version it was decided on: a concurrent write makes the apiserver answer 409 and the decision is
taken again. So a fact is applied whole or not at all, and two deliveries racing each other are
ordered by the apiserver. Any other Kubernetes failure is raised for the route to answer 5xx
(a provider then retries the delivery).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import aiohttp

from orgquota.core.annotations import billing_annotations
from orgquota.core.billing_facts import AnnotationPatch, BillingFact, apply_in_order
from orgquota.kube.billing_annotations import write_billing_annotations
from orgquota.kube.client import ORGANIZATION, Kube, KubeError

logger = logging.getLogger(__name__)

CONFLICT_RETRIES: Final = 5


class OrganizationNotFound(LookupError):
    pass


class KubernetesUnavailable(RuntimeError):
    """The apiserver failed the read or the write: nothing was written."""


@dataclass(frozen=True)
class Applied:
    organization: str
    changes: AnnotationPatch
    """what was written (empty: the facts changed nothing, or were older than the last applied)"""
    before: Mapping[str, str]
    """the billing annotations the decision was taken on"""


Guard = Callable[[Mapping[str, str]], bool]
"""Whether the facts concern the organization as it is now (False: nothing is written)."""


async def apply_facts(
    kube: Kube,
    organization: str,
    facts: Sequence[BillingFact],
    *,
    created: int | None,
    guard: Guard | None = None,
) -> Applied:
    """Apply `facts` (created at `created`, provider time) to the Organization `organization`."""
    path = ORGANIZATION.path(organization, organization)
    for _ in range(CONFLICT_RETRIES):
        try:
            body = await kube.get(path)
        except (KubeError, aiohttp.ClientError) as exc:
            raise KubernetesUnavailable(f"reading Organization {organization}: {exc}") from exc
        if body is None:
            raise OrganizationNotFound(organization)
        metadata = body.get("metadata") or {}
        current = billing_annotations(metadata)
        if guard is not None and not guard(current):
            return Applied(organization, {}, current)
        patch = apply_in_order(current, facts, created=created, now=datetime.now(UTC))
        if not patch:
            return Applied(organization, {}, current)
        try:
            await write_billing_annotations(
                kube, organization, organization, patch, resource_version=metadata.get("resourceVersion")
            )
        except KubeError as exc:
            if exc.status == 409:
                logger.info("Organization %s changed while a billing fact was applied; deciding again", organization)
                continue
            if exc.status == 404:
                raise OrganizationNotFound(organization) from exc
            raise KubernetesUnavailable(f"writing Organization {organization}: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise KubernetesUnavailable(f"writing Organization {organization}: {exc}") from exc
        return Applied(organization, patch, current)
    raise KubernetesUnavailable(
        f"Organization {organization} kept changing during {CONFLICT_RETRIES} attempts to apply a billing fact"
    )
