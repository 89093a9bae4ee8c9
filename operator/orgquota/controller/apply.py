"""Writes an organization's HRQ and LimitRange: only the difference from what the cache holds.

A converged organization costs no request. The cache may lag the apiserver: a create that
meets an object, or a patch that meets none, is retried the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from orgquota.controller.inventory import OrgKey, OrgLog, OrgView
from orgquota.controller.model import HRQ_KIND, Change, Issue
from orgquota.controller.quota_cache import QuotaObjectCache, Slot
from orgquota.controller.workqueue import RetryLater
from orgquota.core import manifests
from orgquota.core.annotations import MANAGED_LABEL
from orgquota.core.desired import DesiredQuota, Mode
from orgquota.kube.client import HRQ, LIMIT_RANGE, Kube, KubeError, Resource

HNC_RETRY_SECONDS: Final = 30.0
MANAGED: Final[tuple[tuple[Slot, Resource, str], ...]] = (
    ("hrq", HRQ, manifests.HRQ_NAME),
    ("lr", LIMIT_RANGE, manifests.LIMIT_RANGE_NAME),
)
"""the objects the operator makes in an organization's namespace: cache slot, API resource, name"""


class QuotaWriter:
    def __init__(self, kube: Kube, cache: QuotaObjectCache) -> None:
        self._kube = kube
        self._cache = cache
        self._applied: dict[tuple[OrgKey, str], Any] = {}
        """what each organization's objects were last written to: an update to the same is a restore"""

    async def sync(
        self, view: OrgView, desired: DesiredQuota, changes: list[Change]
    ) -> tuple[dict[str, Any] | None, Issue | None]:
        """Make the HRQ and LimitRange match `desired`; (the HRQ as it now is, a problem with the
        LimitRange). What was written is appended to `changes`, also when a later write fails."""
        hrq = await self._sync_hrq(view, desired, changes)
        issue = await self._sync_limit_range(view, desired, changes)
        return hrq, issue

    async def _sync_hrq(self, view: OrgView, desired: DesiredQuota, changes: list[Change]) -> dict[str, Any] | None:
        """Make the HRQ match; returns it as it now is (None when there is none)."""
        actual = self._cache.get(view.namespace, "hrq")
        if desired.mode == Mode.NONE:
            if actual is not None and manifests.is_managed(actual):
                await self._delete(view, "hrq", HRQ, manifests.HRQ_NAME, HRQ_KIND, changes)
            return None
        labels = manifests.managed_labels(desired.plan_id)
        try:
            current, verb, before = await write_object(
                self._kube,
                self._cache,
                view.namespace,
                "hrq",
                HRQ,
                manifests.HRQ_NAME,
                lambda: manifests.hrq_manifest(desired.hard, labels, manifests.owner_reference(view.name, view.uid)),
                lambda obj: manifests.hard_patch(obj, desired.hard, labels),
            )
        except KubeError as exc:
            if exc.status == 404:
                raise hnc_missing() from exc
            raise
        if verb == "created":
            changes.append(Change("Created", HRQ_KIND, ", ".join(f"{k}={v}" for k, v in desired.hard.items())))
        elif verb == "patched":
            change = manifests.describe_hard_change(before or {}, desired.hard) or "labels"
            changes.append(self._updated(view, "hrq", HRQ_KIND, desired.hard, change))
        self._applied[(view.key, "hrq")] = desired.hard
        return current

    async def _sync_limit_range(self, view: OrgView, desired: DesiredQuota, changes: list[Change]) -> Issue | None:
        actual = self._cache.get(view.namespace, "lr")
        if actual is not None and not manifests.is_managed(actual):
            if desired.limit_range is None or desired.mode == Mode.NONE:
                return None
            return Issue(
                "LimitRangeNotManaged",
                f"LimitRange {manifests.LIMIT_RANGE_NAME} has no {MANAGED_LABEL}=true label, so it "
                "belongs to its author and is left alone (label it or delete it to have the plan's applied)",
            )
        if desired.mode == Mode.NONE:
            if actual is not None:
                await self._delete(view, "lr", LIMIT_RANGE, manifests.LIMIT_RANGE_NAME, "LimitRange", changes)
            return None
        if desired.limit_range is None:
            return None
        items = desired.limit_range
        labels = manifests.managed_labels(desired.plan_id)
        current, verb, _ = await write_object(
            self._kube,
            self._cache,
            view.namespace,
            "lr",
            LIMIT_RANGE,
            manifests.LIMIT_RANGE_NAME,
            lambda: manifests.limit_range_manifest(items, labels, manifests.owner_reference(view.name, view.uid)),
            lambda obj: manifests.limit_range_patch(obj, items, labels),
        )
        if not manifests.is_managed(current):  # it was someone else's after all (the watch had not said yet)
            return await self._sync_limit_range(view, desired, changes)
        if verb == "created":
            changes.append(Change("Created", "LimitRange", f"plan {desired.plan_id}"))
        elif verb == "patched":
            changes.append(self._updated(view, "lr", "LimitRange", items, f"plan {desired.plan_id}"))
        self._applied[(view.key, "lr")] = items
        return None

    def _updated(self, view: OrgView, slot: str, kind: str, desired: Any, change: str) -> Change:
        """An update either follows a new desired state, or restores ours after someone else's edit."""
        if self._applied.get((view.key, slot)) == desired:
            return Change("Restored", kind, f"{change} (it was changed outside the operator)")
        return Change("Updated", kind, change)

    async def _delete(
        self, view: OrgView, slot: Slot, resource: Resource, name: str, kind: str, changes: list[Change]
    ) -> None:
        self._cache.forget(view.namespace, slot)
        if await self._kube.delete(resource.path(view.namespace, name)):
            changes.append(Change("Deleted", kind, "the organization has no plan"))

    async def remove(self, namespace: str, log: OrgLog) -> None:
        """The organization is gone: remove what the operator made for it (the GC does too, via owners)."""
        for slot, resource, name in MANAGED:
            actual = await self._kube.get(resource.path(namespace, name))
            self._cache.forget(namespace, slot)
            if (
                actual is not None
                and manifests.is_managed(actual)
                and await self._kube.delete(resource.path(namespace, name))
            ):
                log.info("deleted %s %s: the organization was deleted", actual.get("kind"), name)


def hnc_missing() -> RetryLater:
    """What a 404 for an HRQ means: the CRD is not there (the namespace of the organization always is)."""
    return RetryLater(
        "HNC is not installed: the HierarchicalResourceQuota API (hnc.x-k8s.io/v1alpha2) is missing", HNC_RETRY_SECONDS
    )


async def write_object(
    kube: Kube,
    cache: QuotaObjectCache,
    namespace: str,
    slot: Slot,
    resource: Resource,
    name: str,
    body_of: Callable[[], dict[str, Any]],
    patch_of: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[dict[str, Any], str, dict[str, Any] | None]:
    """Create `body_of()`, or patch what is cached into it; (the object now, what was done, the object
    before). The whole manifest is built only for a create: most reconciles patch or write nothing."""
    actual = cache.get(namespace, slot)
    path = resource.path(namespace, name)
    current: dict[str, Any]
    verb = ""
    if actual is None:
        try:
            current, verb = await kube.create(resource.path(namespace), body_of()), "created"
        except KubeError as exc:
            if exc.status != 409:
                raise
            actual = await kube.get(path)
            if actual is None:
                raise
    if actual is not None:
        patch = patch_of(actual)
        if not patch:
            cache.put(namespace, slot, actual)
            return actual, "", actual
        try:
            current, verb = await kube.merge_patch(path, patch), "patched"
        except KubeError as exc:
            if exc.status != 404:
                raise
            current, verb = await kube.create(resource.path(namespace), body_of()), "created"
    cache.put(namespace, slot, current)
    return current, verb, actual
