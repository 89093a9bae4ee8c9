"""The one writer of an Organization's billing annotations (`billing.kube-dc.com/...`).

Billing systems, the billing API and the operator's grace-period clock all speak to the quota
logic through these annotations; writing them in one place keeps every write a merge patch of
`metadata.annotations` alone (other annotations and fields untouched, no read-modify-write
race) and keeps anything outside the prefix from ever being written by accident.
"""

from __future__ import annotations

from collections.abc import Mapping

from orgquota.core.annotations import PREFIX
from orgquota.kube.client import ORGANIZATION, Kube, Manifest


class NotBillingAnnotation(ValueError):
    """A key outside `billing.kube-dc.com/`: a programming error, refused before any request."""


def billing_patch(changes: Mapping[str, str | None], resource_version: str | None = None) -> Manifest:
    """The merge patch for `changes` (a None value removes the annotation); with `resource_version`,
    the apiserver applies it only to that version of the object (409 Conflict otherwise)."""
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
    """Set (or, with None, remove) billing annotations of the Organization; returns it as written.

    `resource_version` makes the write conditional: a decision taken on what the object was is
    never written over what it has become since (read-decide-write callers retry on 409)."""
    return await kube.merge_patch(ORGANIZATION.path(namespace, name), billing_patch(changes, resource_version))
