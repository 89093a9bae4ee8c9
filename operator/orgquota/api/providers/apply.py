"""Billing facts applied to an Organization, with the errors a provider's routes answer by.

The read-decide-write itself is `orgquota.kube.billing_annotations.record_facts` (one conditional
merge patch, decided again on a conflict), shared with every provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiohttp

from orgquota.core.billing_facts import BillingFact
from orgquota.kube.billing_annotations import Decide, Recorded, Stamp, record_facts
from orgquota.kube.client import Kube, KubeError


class OrganizationNotFound(LookupError):
    pass


class KubernetesUnavailable(RuntimeError):
    """The apiserver failed the read or the write: nothing was written."""

    def __init__(self, organization: str, cause: Exception) -> None:
        super().__init__(f"Organization {organization}: {cause}")
        self.reason = str(cause) or type(cause).__name__
        """the apiserver's (or the connection's) own words"""


async def apply_facts(
    kube: Kube,
    organization: str,
    facts: Sequence[BillingFact] | Decide,
    *,
    created: int | None,
    stamp: Stamp | None = None,
    event_id: str = "",
) -> Recorded:
    """Apply `facts` (of message `event_id`, created at `created`, provider time) to the Organization
    `organization`, with `stamp`'s record of the message in the same write.

    `facts` may be a decision on the organization's current billing annotations (`Decide`): a
    message that does not concern the organization as it is now makes no facts, or is refused by
    raising (the exception passes through, nothing is written).
    """
    decide: Decide = facts if callable(facts) else lambda current: facts
    try:
        now = datetime.now(UTC)
        recorded = await record_facts(
            kube, organization, decide, created=created, now=now, stamp=stamp, event_id=event_id
        )
    except (KubeError, aiohttp.ClientError, TimeoutError) as exc:
        raise KubernetesUnavailable(organization, exc) from exc
    if recorded is None:
        raise OrganizationNotFound(organization)
    return recorded
