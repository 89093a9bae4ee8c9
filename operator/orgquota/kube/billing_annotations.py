"""The one writer of an Organization's billing annotations (`billing.kube-dc.com/...`).

Billing systems, the billing API and the operator's grace-period clock all speak to the quota
logic through these annotations; writing them in one place keeps every write a merge patch of
`metadata.annotations` alone (other annotations and fields untouched) and keeps anything
outside the prefix from ever being written by accident.

A provider's billing fact depends on the annotations it meets (a suspension after a requested
cancellation is a cancellation), so `record_facts` reads the Organization, lets the one state
machine decide, and writes only if nothing changed the object meanwhile (resourceVersion
precondition; a conflict is read again), so two deliveries at once cannot interleave.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from orgquota.core.annotations import PREFIX, PROVIDER_EVENT_CREATED, PROVIDER_EVENT_ID, billing_annotations
from orgquota.core.billing_facts import AnnotationPatch, BillingFact, apply_in_order
from orgquota.kube.client import ORGANIZATION, Kube, KubeError, Manifest

CONFLICT_ATTEMPTS: Final = 5


class NotBillingAnnotation(ValueError):
    """A key outside `billing.kube-dc.com/`: a programming error, refused before any request."""


def billing_patch(changes: Mapping[str, str | None], resource_version: str | None = None) -> Manifest:
    """The merge patch for `changes` (a None value removes the annotation); with `resource_version`,
    the apiserver refuses it (409) unless the object is still at that version."""
    outside = sorted(key for key in changes if not key.startswith(PREFIX) or key == PREFIX)
    if outside:
        raise NotBillingAnnotation(f"not billing annotations (prefix {PREFIX}): {', '.join(outside)}")
    metadata: Manifest = {"annotations": dict(changes)}
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    return {"metadata": metadata}


async def write_billing_annotations(
    kube: Kube, namespace: str, name: str, changes: Mapping[str, str | None], *, resource_version: str | None = None
) -> Manifest:
    """Set (or, with None, remove) billing annotations of the Organization; returns it as written."""
    return await kube.merge_patch(ORGANIZATION.path(namespace, name), billing_patch(changes, resource_version))


@dataclass(frozen=True)
class Recorded:
    """What billing facts did to an Organization: `changes` empty means nothing was written."""

    changes: AnnotationPatch
    before: dict[str, str]
    """the billing annotations the facts met"""


Decide = Callable[[Mapping[str, str]], Sequence[BillingFact]]
"""The provider's message as billing facts, given the organization's current billing annotations
(none: the message does not concern the organization as it is now; it may refuse it by raising)."""
Stamp = Callable[[Mapping[str, str]], AnnotationPatch]
"""Annotations a provider writes with its message's facts, whatever they change: its record of
the message (given the current billing annotations)."""


MARK: Final = frozenset({PROVIDER_EVENT_CREATED, PROVIDER_EVENT_ID})


async def record_facts(
    kube: Kube,
    organization: str,
    decide: Decide,
    *,
    created: int | None,
    now: datetime,
    stamp: Stamp | None = None,
    event_id: str = "",
) -> Recorded | None:
    """Apply the facts `decide` makes of the Organization `organization` (in the namespace of the
    same name), with `stamp`'s record of the message in the same write; None when there is no such
    Organization. A Kubernetes failure is raised (KubeError, aiohttp.ClientError): nothing is
    half-written, since every write is one merge patch. `Recorded.changes` are the facts' alone
    (empty when they moved only the ordering mark)."""
    facts: AnnotationPatch = {}

    def change(current: Mapping[str, str]) -> AnnotationPatch:
        nonlocal facts
        facts = apply_in_order(current, decide(current), created=created, now=now, event_id=event_id)
        return facts | (stamp(current) if stamp is not None else {})

    recorded = await update_billing_annotations(kube, organization, organization, change)
    if recorded is None:
        return None
    return Recorded(facts if set(facts) - MARK else {}, recorded.before)


async def update_billing_annotations(
    kube: Kube, namespace: str, name: str, change: Callable[[Mapping[str, str]], AnnotationPatch]
) -> Recorded | None:
    """Write what `change` makes of the Organization's billing annotations as they are now, unless
    they changed meanwhile (then `change` is asked again); None when there is no such Organization.
    `change` may refuse by raising; an empty change writes nothing."""
    path = ORGANIZATION.path(namespace, name)
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        body = await kube.get(path)
        if body is None:
            return None
        current = billing_annotations(body["metadata"])
        changes = change(current)
        if not changes:
            return Recorded({}, current)
        version = body["metadata"].get("resourceVersion")
        try:
            await write_billing_annotations(kube, namespace, name, changes, resource_version=version)
        except KubeError as exc:
            if exc.status == 404:
                return None
            if exc.status == 409 and attempt < CONFLICT_ATTEMPTS:
                continue  # written meanwhile: decide again on what is there now
            raise
        return Recorded(changes, current)
    raise AssertionError("unreachable")
