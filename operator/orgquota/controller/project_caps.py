"""Each organization's project caps, enforced as an HRQ `project-cap` in each capped namespace.

The caps come from the `project-caps` annotation (`core.project_caps`); a cap is enforced only in
a namespace of the organization's own tree (`namespace_trees`), and removed when it leaves the
annotation, when its namespace leaves the tree, and when the organization is deleted. An HRQ
cannot name its Organization as owner (owners must share the namespace; the garbage collector
deletes a dependent whose owner it cannot find there), so each carries the label
`billing.kube-dc.com/organization`, and the operator removes what a deleted organization left,
also when that happened while it was down (`orphans`, swept after the start-up listing).

Like the organization's own quota objects, the caps are compared with a memory of them (primed
by one LIST, kept by the watch) and only differences are written: a restart writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from orgquota.controller.apply import hnc_missing, write_object
from orgquota.controller.inventory import Inventory, OrgKey, OrgLog, OrgView, org_log
from orgquota.controller.model import HRQ_KIND, Change, Issue
from orgquota.controller.namespace_trees import NamespaceTrees
from orgquota.controller.quota_cache import QuotaObjectCache, Slot
from orgquota.controller.settings import Settings
from orgquota.core import manifests
from orgquota.core.annotations import MANAGED_LABEL
from orgquota.core.project_caps import (
    CAP_NAME,
    ORGANIZATION_LABEL,
    PROJECT_CAPS,
    CapsError,
    ProjectCap,
    cap_labels,
    cap_manifest,
    parse_caps,
)
from orgquota.core.quantity import Quantity
from orgquota.kube.client import HRQ, NAMESPACE_PATH, Kube, KubeError

SLOT: Final[Slot] = "cap"
INVALID: Final = "InvalidProjectCaps"
NOT_MANAGED: Final = "ProjectCapNotManaged"


def _gone(exc: KubeError) -> bool:
    """The namespace is gone or going: nothing can (or needs to) be written in it."""
    return (exc.status == 404 and 'namespaces "' in exc.message) or (
        exc.status == 403 and "being terminated" in exc.message
    )


class ProjectCaps:
    def __init__(self, kube: Kube, settings: Settings, inventory: Inventory, enqueue: Callable[[OrgKey], None]) -> None:
        self._kube = kube
        self._settings = settings
        self._inventory = inventory
        self._enqueue = enqueue
        self.trees = NamespaceTrees()
        self._cache = QuotaObjectCache()
        self._named: dict[str, set[OrgKey]] = {}
        """capped namespace -> the organizations whose annotation names it"""
        self._names: dict[OrgKey, frozenset[str]] = {}
        self._owner: dict[str, str] = {}
        """namespace -> the organization (its namespace) whose managed project-cap HRQ is there"""
        self._owned: dict[str, set[str]] = {}
        self._applied: dict[tuple[OrgKey, str], Mapping[str, Quantity]] = {}
        self._unenforced: dict[OrgKey, frozenset[str]] = {}

    # -- observations -------------------------------------------------------------------------

    def observe_namespace(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        if self.trees.observe(body, deleted=deleted):
            self._touch(body["metadata"]["name"])

    def observe_object(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        """A watched HRQ `project-cap`: anything but the echo of the operator's own write is looked at."""
        namespace = body["metadata"]["namespace"]
        changed = self._cache.forget(namespace, SLOT) if deleted else self._cache.put(namespace, SLOT, body)
        if changed:
            self._touch(namespace, self._reindex(namespace))

    def orgs_of(self, namespace: str) -> set[OrgKey]:
        """The organizations a change in `namespace` may concern: those capping it, and its cap's owner."""
        found = set(self._named.get(namespace, ()))
        owner = self._owner.get(namespace)
        return found | self._inventory.in_namespace(owner) if owner else found

    def _touch(self, namespace: str, previous_owner: str | None = None) -> None:
        keys = self.orgs_of(namespace)
        if previous_owner:
            keys |= self._inventory.in_namespace(previous_owner)
        for key in keys:
            self._enqueue(key)

    def _reindex(self, namespace: str) -> str | None:
        """Follow the cache's object in `namespace` in the owner index; returns the previous owner."""
        previous = self._owner.pop(namespace, None)
        if previous is not None:
            self._owned.get(previous, set()).discard(namespace)
        actual = self._cache.get(namespace, SLOT)
        labels = (actual or {}).get("metadata", {}).get("labels") or {}
        owner = labels.get(ORGANIZATION_LABEL) if labels.get(MANAGED_LABEL) == "true" else None
        if owner:
            self._owner[namespace] = owner
            self._owned.setdefault(owner, set()).add(namespace)
        return previous

    async def prime(self) -> None:
        """Read the namespaces and every `project-cap` HRQ anew; check whoever a difference concerns."""
        for namespace in self.trees.replace(await self._kube.list(NAMESPACE_PATH)):
            self._touch(namespace)
        listed: set[str] = set()
        try:
            async for page in self._kube.pages(HRQ.path(""), fieldSelector=f"metadata.name={CAP_NAME}"):
                for obj in page:
                    namespace = obj["metadata"]["namespace"]
                    listed.add(namespace)
                    if self._cache.put(namespace, SLOT, obj):
                        self._touch(namespace, self._reindex(namespace))
        except KubeError as exc:
            if exc.status != 404:  # 404: HNC is not installed (yet); reconciles say so
                raise
        for namespace in self._cache.namespaces(SLOT) - listed:
            self._cache.forget(namespace, SLOT)
            self._touch(namespace, self._reindex(namespace))

    def orphans(self) -> set[OrgKey]:
        """Organizations (named like their namespace) whose caps exist but who do not: deleted while
        the operator was down."""
        gone = [owner for owner, owned in self._owned.items() if owned and not self._inventory.in_namespace(owner)]
        return {(owner, owner) for owner in gone}

    # -- the reconcile ------------------------------------------------------------------------

    async def sync(self, view: OrgView, plan_id: str, changes: list[Change]) -> Issue | None:
        """Make the organization's `project-cap` HRQs match its annotation; a problem to report, if any.

        An annotation that does not parse changes nothing: the caps in force stay as they are.
        """
        try:
            caps = parse_caps(
                view.annotations.get(PROJECT_CAPS),
                organization=view.namespace,
                projects_limit=self._settings.quota.projects_limit,
            )
        except CapsError as exc:
            return Issue(INVALID, "; ".join(exc.problems) + "; no project cap was changed")
        self._name(view.key, frozenset(caps))
        enforced = {ns: cap for ns, cap in caps.items() if self.trees.under(ns, view.namespace)}
        self._say_unenforced(view, frozenset(caps) - frozenset(enforced))
        issue = None
        for namespace in sorted(enforced):
            issue = await self._enforce(view, namespace, enforced[namespace], plan_id, changes) or issue
        for namespace in sorted(self._owned.get(view.namespace, set()) - enforced.keys()):
            why = "the cap was removed" if namespace not in caps else "the namespace left the organization's tree"
            await self._delete(namespace, why, changes)
        return issue

    async def _enforce(
        self, view: OrgView, namespace: str, cap: ProjectCap, plan_id: str, changes: list[Change]
    ) -> Issue | None:
        actual = self._cache.get(namespace, SLOT)
        if actual is not None and not manifests.is_managed(actual):
            return Issue(
                NOT_MANAGED,
                f"HierarchicalResourceQuota {namespace}/{CAP_NAME} has no {MANAGED_LABEL}=true label, so it belongs "
                "to its author and is left alone (delete it to have the project's cap applied)",
            )
        labels = cap_labels(plan_id, view.namespace)
        try:
            _, verb, before = await write_object(
                self._kube,
                self._cache,
                namespace,
                SLOT,
                HRQ,
                CAP_NAME,
                lambda: cap_manifest(cap, labels),
                lambda obj: manifests.hard_patch(obj, cap.hard, labels),
            )
        except KubeError as exc:
            if _gone(exc):
                self.trees.forget(namespace)
                self._cache.forget(namespace, SLOT)
                self._reindex(namespace)
                return None
            if exc.status == 404:
                raise hnc_missing() from exc
            raise
        self._reindex(namespace)
        name = f"{namespace}/{CAP_NAME}"
        if verb == "created":
            written = ", ".join(f"{key}={value}" for key, value in cap.hard.items())
            changes.append(Change("Created", HRQ_KIND, written, name))
        elif verb == "patched":
            change = manifests.describe_hard_change(before or {}, cap.hard) or "labels"
            restored = self._applied.get((view.key, namespace)) == cap.hard
            if restored:
                changes.append(Change("Restored", HRQ_KIND, f"{change} (it was changed outside the operator)", name))
            else:
                changes.append(Change("Updated", HRQ_KIND, change, name))
        self._applied[(view.key, namespace)] = cap.hard
        return None

    async def _delete(self, namespace: str, why: str, changes: list[Change]) -> None:
        self._cache.forget(namespace, SLOT)
        self._reindex(namespace)
        self._applied = {key: hard for key, hard in self._applied.items() if key[1] != namespace}
        if await self._kube.delete(HRQ.path(namespace, CAP_NAME)):
            changes.append(Change("Deleted", HRQ_KIND, why, f"{namespace}/{CAP_NAME}"))

    async def remove(self, key: OrgKey, log: OrgLog) -> None:
        """The organization is gone: remove its caps (nothing else would: they have no owner reference)."""
        self._name(key, frozenset())
        self._unenforced.pop(key, None)
        changes: list[Change] = []
        for namespace in sorted(self._owned.get(key[0], set())):
            await self._delete(namespace, "the organization was deleted", changes)
        for change in changes:
            log.info("%s", change)

    def _name(self, key: OrgKey, namespaces: frozenset[str]) -> None:
        """Remember which namespaces the organization's caps name (a change there concerns it)."""
        for namespace in self._names.pop(key, frozenset()) - namespaces:
            named = self._named.get(namespace, set())
            named.discard(key)
            if not named:
                self._named.pop(namespace, None)
        if namespaces:
            self._names[key] = namespaces
            for namespace in namespaces:
                self._named.setdefault(namespace, set()).add(key)

    def _say_unenforced(self, view: OrgView, namespaces: frozenset[str]) -> None:
        if self._unenforced.get(view.key, frozenset()) == namespaces:
            return
        self._unenforced[view.key] = namespaces
        if namespaces:
            org_log(*view.key).info(
                "caps of %s are not enforced: not namespaces of the organization's tree", ", ".join(sorted(namespaces))
            )
