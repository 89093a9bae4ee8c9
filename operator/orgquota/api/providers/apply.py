"""Billing facts applied to an Organization, with the errors a provider's routes answer by.

The read-decide-write itself is `orgquota.kube.billing_annotations.record_facts` (one conditional
merge patch, decided again on a conflict), shared with every provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import aiohttp

from orgquota.core.billing_facts import BillingFact
from orgquota.kube.billing_annotations import Recorded, record_facts
from orgquota.kube.client import Kube, KubeError


class OrganizationNotFound(LookupError):
    pass


class KubernetesUnavailable(RuntimeError):
    """The apiserver failed the read or the write: nothing was written."""


Guard = Callable[[Mapping[str, str]], bool]
"""Whether the facts concern the organization as it is now (False: nothing is written)."""


async def apply_facts(
    kube: Kube,
    organization: str,
    facts: Sequence[BillingFact],
    *,
    created: int | None,
    guard: Guard | None = None,
) -> Recorded:
    """Apply `facts` (created at `created`, provider time) to the Organization `organization`."""

    def decide(current: Mapping[str, str]) -> Sequence[BillingFact]:
        return facts if guard is None or guard(current) else ()

    try:
        recorded = await record_facts(kube, organization, decide, created=created, now=datetime.now(UTC))
    except (KubeError, aiohttp.ClientError) as exc:
        raise KubernetesUnavailable(f"Organization {organization}: {exc}") from exc
    if recorded is None:
        raise OrganizationNotFound(organization)
    return recorded
