"""Makes each Organization's HRQ, LimitRange and status match `desired_quota`, level-triggered.

The Kopf handlers only feed observations in (`observe_*`); every change of an input enqueues
the affected organizations, and `reconcile` compares what is observed with what must exist,
writes only the difference and decides the status, which a second queue writes once no
reconcile is waiting. A converged organization costs no request, so restarts and catalog
edits that change nothing write nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from orgquota.controller.observed import ObservedObjects, Slot
from orgquota.controller.settings import Settings
from orgquota.controller.suspension import Suspension
from orgquota.controller.workqueue import RetryLater, WorkQueue
from orgquota.core import manifests as objects
from orgquota.core.annotations import MANAGED_LABEL, billing_annotations
from orgquota.core.catalog import Catalog
from orgquota.core.desired import DesiredQuota, Mode, desired_quota
from orgquota.core.status import Observed, Verdict, quota_condition, quota_status, quota_usage, without_usage
from orgquota.core.topology import Topology, is_public
from orgquota.kube.client import HRQ, LIMIT_RANGE, NAMESPACE_PATH, ORGANIZATION, Kube, KubeError, Resource
from orgquota.kube.events import NORMAL, WARNING, EventRecorder

logger = logging.getLogger(__name__)

OrgKey = tuple[str, str]
"""(namespace, name) of an Organization"""

HNC_RETRY_SECONDS: Final = 30.0
DESIRED_CACHE_SIZE: Final = 4096
STARTUP_LIST_TRUSTED_SECONDS: Final = 30.0
"""Kopf's first listing of organizations later than this after the start-up LIST re-reads the
quota objects: the replica was paused (a standby taking over) and its memory is old"""
MANAGED: Final[tuple[tuple[Slot, Resource, str], ...]] = (
    ("hrq", HRQ, objects.HRQ_NAME),
    ("lr", LIMIT_RANGE, objects.LIMIT_RANGE_NAME),
)


@dataclass
class OrgView:
    """The little the operator keeps in memory of an Organization."""

    namespace: str
    name: str
    uid: str
    annotations: dict[str, str]
    status: dict[str, Any]
    """the status as the operator means it to be: what it decides from (written soon after)"""
    written: dict[str, Any] = field(default_factory=dict)
    """the status as the apiserver last had it from us"""

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> OrgView:
        meta = body["metadata"]
        status = dict(body.get("status") or {})
        return cls(meta["namespace"], meta["name"], meta["uid"], billing_annotations(meta), status, status)

    @property
    def key(self) -> OrgKey:
        return (self.namespace, self.name)

    @property
    def ref(self) -> dict[str, str]:
        return {
            "apiVersion": "kube-dc.com/v1",
            "kind": "Organization",
            "namespace": self.namespace,
            "name": self.name,
            "uid": self.uid,
        }


@dataclass(frozen=True)
class Change:
    """One managed object written by a reconcile: `Created LimitRange default-resource-limits: plan pro`."""

    verb: str
    kind: str
    detail: str

    def __str__(self) -> str:
        name = objects.HRQ_NAME if self.kind == "HierarchicalResourceQuota" else objects.LIMIT_RANGE_NAME
        return f"{self.verb} {self.kind} {name}: {self.detail}"


@dataclass(frozen=True)
class Issue:
    """Something outside the annotations that keeps an organization from being ready."""

    reason: str
    message: str


@dataclass
class CatalogState:
    """The catalog in force: the last good one, and what is wrong with the newest, if anything."""

    catalog: Catalog | None = None
    problem: Issue | None = None


OrgLog = logging.LoggerAdapter[logging.Logger]


def org_log(namespace: str, name: str) -> OrgLog:
    """A logger whose every line names the organization (Kopf's formatters prefix it, or add it to JSON)."""
    ref = {"apiVersion": "kube-dc.com/v1", "kind": "Organization", "namespace": namespace, "name": name}
    return logging.LoggerAdapter(logger, {"k8s_ref": ref, "k8s_skip": True})


@dataclass
class Reconciler:
    kube: Kube
    settings: Settings
    events: EventRecorder
    orgs: dict[OrgKey, OrgView] = field(default_factory=dict)
    catalog: CatalogState = field(default_factory=CatalogState)
    _by_namespace: dict[str, set[OrgKey]] = field(default_factory=dict)
    _deleted: set[OrgKey] = field(default_factory=set)
    _applied: dict[tuple[OrgKey, str], Any] = field(default_factory=dict)
    _initial: set[OrgKey] = field(default_factory=set)
    _started: float = 0.0
    _usage_written: dict[OrgKey, float] = field(default_factory=dict)
    _listings: dict[OrgKey, int] = field(default_factory=dict)
    """how many of Kopf's listings of organizations each one was in"""
    _newest_listing: int = 0
    _started_at: dict[OrgKey, str] = field(default_factory=dict)
    """the resourceVersion of each organization in the start-up LIST, until Kopf lists it"""
    _background: set[asyncio.Task[None]] = field(default_factory=set)
    _desired: dict[tuple[tuple[str, str], ...], DesiredQuota] = field(default_factory=dict)
    topology: Topology = field(default_factory=Topology)
    observed: ObservedObjects = field(default_factory=ObservedObjects)
    queue: WorkQueue[OrgKey] = field(init=False)
    statuses: WorkQueue[OrgKey] = field(init=False)
    suspension: Suspension = field(init=False)

    def __post_init__(self) -> None:
        workers = self.settings.workers
        self.queue = WorkQueue(self.reconcile, workers=workers, logger=logger)
        self.statuses = WorkQueue(
            self._write_status,
            workers=max(1, workers // 4),
            logger=logger,
            after=self.queue.drained,
            metrics=None,
            work="status write",
        )
        self.suspension = Suspension(self.kube, self.events, self.settings, self.queue.add_after)

    async def run(self) -> None:
        """Reconcile, and write the statuses reconciles decide, until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.queue.run())
            group.create_task(self.statuses.run())

    # -- observations -------------------------------------------------------------------------

    def observe_org(self, body: Mapping[str, Any], *, deleted: bool = False, listed: bool = False) -> None:
        """Take in an Organization event; a change of its billing annotations needs a reconcile, and so
        does every listing (after a watch reconnect or a peering takeover nothing may be assumed)
        but Kopf's first one of an organization unchanged since the operator's own start-up LIST.

        The status is taken from the first sighting only: the operator is its only writer, and
        an event still in flight may carry an older status than the one it has just written.
        """
        view = OrgView.from_body(body)
        key = view.key
        if deleted:
            self.orgs.pop(key, None)
            self._listings.pop(key, None)
            self._started_at.pop(key, None)
            self._by_namespace.get(view.namespace, set()).discard(key)
            self._deleted.add(key)
            self.queue.add(key)
            return
        if listed:
            listing = self._listings[key] = self._listings.get(key, 0) + 1
            started_rv = self._started_at.pop(key, None)
            recent = time.monotonic() - self._started < STARTUP_LIST_TRUSTED_SECONDS
            if listing > self._newest_listing:  # the first organization of a new listing by Kopf
                self._newest_listing = listing
                if listing > 1 or not recent:  # the watch was down, or Kopf was paused: memory may be stale
                    self._prime_soon()
            if listing == 1 and recent and started_rv == body["metadata"].get("resourceVersion"):
                return  # Kopf's first listing of what the start-up LIST has just seen: nothing new
        known = self.orgs.get(key)
        if known is not None and known.uid == view.uid:
            if known.annotations != view.annotations or listed:
                known.annotations = view.annotations
                self.queue.add(key)
            return
        self.orgs[key] = view
        self._by_namespace.setdefault(view.namespace, set()).add(key)
        self._deleted.discard(key)
        self.queue.add(key)

    def count_by_mode(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for view in list(self.orgs.values()):
            mode = view.status.get("mode") or "unknown"
            counts[mode] = counts.get(mode, 0) + 1
        return counts

    async def observe_initial_list(self, pages: AsyncIterable[list[dict[str, Any]]]) -> None:
        """The organizations that exist at start; when all are reconciled, the operator says so."""
        self._started = time.monotonic()
        async for page in pages:
            for body in page:
                self.observe_org(body)
                meta = body["metadata"]
                key = (meta["namespace"], meta["name"])
                self._initial.add(key)
                self._started_at[key] = meta["resourceVersion"]
        if not self._initial:
            self._announce_converged()

    def _reconciled(self, key: OrgKey) -> None:
        if key in self._initial:
            self._initial.discard(key)
            if not self._initial:
                self._announce_converged()

    def _announce_converged(self) -> None:
        elapsed = time.monotonic() - self._started
        logger.info("startup: %d organizations reconciled in %.2fs", len(self.orgs), elapsed)

    async def observe_eip(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        """A public EIp came or went: the usage of the organizations above it changed.

        The first public EIp of a namespace has that namespace read, for its place in the tree.
        """
        namespace = body["metadata"].get("namespace", "")
        if not deleted and is_public(body) and not self.topology.knows(namespace):
            found = await self.kube.get(f"{NAMESPACE_PATH}/{namespace}")
            if found is not None:
                self.topology.observe_namespace(found)
        for affected in self.topology.observe_eip(body, deleted=deleted):
            self.observe_managed_object(affected)

    def observe_object(self, slot: Slot, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        """A watched HRQ or LimitRange: anything but the echo of the operator's own write is looked at."""
        namespace = body["metadata"]["namespace"]
        changed = self.observed.forget(namespace, slot) if deleted else self.observed.put(namespace, slot, body)
        if changed:
            self.observe_managed_object(namespace)

    def observe_managed_object(self, namespace: str) -> None:
        """Something the organizations of `namespace` depend on changed: check them."""
        for key in self._by_namespace.get(namespace, ()):
            self.queue.add(key)

    def set_catalog(self, catalog: Catalog | None, problem: Issue | None) -> None:
        """A new catalog (or a problem with it, keeping the last good one): every organization is checked."""
        if catalog is not None:
            self.catalog.catalog = catalog
            self._desired.clear()
        self.catalog.problem = problem
        for key in self.orgs:
            self.queue.add(key)

    def _desired_of(self, annotations: Mapping[str, str], catalog: Catalog) -> DesiredQuota:
        """`desired_quota`, computed once per distinct set of annotations: organizations on one plan
        share one result (and its Quantities, in memory too)."""
        key = tuple(sorted(annotations.items()))
        desired = self._desired.get(key)
        if desired is None:
            if len(self._desired) >= DESIRED_CACHE_SIZE:
                self._desired.clear()
            desired = self._desired[key] = desired_quota(annotations, catalog, self.settings.quota)
        return desired

    # -- the reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: OrgKey) -> None:
        await self._reconcile(key)
        self._reconciled(key)

    async def _reconcile(self, key: OrgKey) -> None:
        view = self.orgs.get(key)
        log = org_log(*key)
        if view is None:
            if key in self._deleted:
                await self._remove_managed(key[0], log)
                self._deleted.discard(key)
            return
        catalog = self.catalog.catalog
        if catalog is None:
            problem = self.catalog.problem or Issue("CatalogMissing", "no plan catalog has been read yet")
            current = view.status
            await self._report(
                view,
                Verdict(
                    False,
                    current.get("mode") or "none",
                    current.get("plan") or "",
                    problem.reason,
                    problem.message + "; no quota was changed",
                ),
                log,
            )
            return
        desired = self._desired_of(view.annotations, catalog)
        issues: list[Issue] = []
        changes: list[Change] = []
        try:
            try:
                hrq = await self._sync_hrq(view, desired, changes)
                issue = await self._sync_limit_range(view, desired, changes)
            finally:
                await self._announce(view, changes, log)
            stopped = await self.suspension.run(view, desired, log)
        except RetryLater as exc:
            await self._report(view, self._verdict(desired, [Issue("HNCNotInstalled", str(exc))]), log)
            raise
        except KubeError as exc:
            if exc.status in (400, 403, 422):  # the apiserver refuses what we wrote: say so where admins look
                await self._report(view, self._verdict(desired, [Issue("ApplyFailed", str(exc))]), log)
            raise
        if issue:
            issues.append(issue)
        if self.catalog.problem:
            issues.append(self.catalog.problem)
        limit = 0 if desired.mode == Mode.FLOOR else catalog.eipQuota.get(desired.plan_id)
        usage = quota_usage(hrq, self.topology.public_ips(view.namespace), limit)
        await self._report(view, self._verdict(desired, issues), log, Observed(usage, stopped))

    def _verdict(self, desired: DesiredQuota, issues: list[Issue]) -> Verdict:
        if not issues:
            return Verdict(desired.ready, desired.mode, desired.plan_id, desired.reason, desired.message)
        message = "; ".join([issue.message for issue in issues] + [desired.message])
        return Verdict(False, desired.mode, desired.plan_id, issues[0].reason, message)

    async def _sync_hrq(self, view: OrgView, desired: DesiredQuota, changes: list[Change]) -> dict[str, Any] | None:
        """Make the HRQ match; returns it as it now is (None when there is none)."""
        actual = self.observed.get(view.namespace, "hrq")
        kind = "HierarchicalResourceQuota"
        if desired.mode == Mode.NONE:
            if actual is not None and objects.is_managed(actual):
                await self._delete(view, "hrq", HRQ, objects.HRQ_NAME, kind, changes)
            return None
        labels = objects.managed_labels(desired.plan_id)
        body = objects.hrq_manifest(desired.hard, labels, objects.owner_reference(view.name, view.uid))
        try:
            current, verb, before = await self._write(
                view, "hrq", HRQ, objects.HRQ_NAME, body, lambda obj: objects.hard_patch(obj, desired.hard, labels)
            )
        except KubeError as exc:
            if exc.status == 404:
                raise RetryLater(
                    "HNC is not installed: the HierarchicalResourceQuota API (hnc.x-k8s.io/v1alpha2) is missing",
                    HNC_RETRY_SECONDS,
                ) from exc
            raise
        if verb == "created":
            changes.append(Change("Created", kind, ", ".join(f"{k}={v}" for k, v in desired.hard.items())))
        elif verb == "patched":
            change = objects.describe_hard_change(before or {}, desired.hard) or "labels"
            changes.append(self._updated(view, "hrq", kind, desired.hard, change))
        self._applied[(view.key, "hrq")] = desired.hard
        return current

    async def _sync_limit_range(self, view: OrgView, desired: DesiredQuota, changes: list[Change]) -> Issue | None:
        actual = self.observed.get(view.namespace, "lr")
        if actual is not None and not objects.is_managed(actual):
            if desired.limit_range is None or desired.mode == Mode.NONE:
                return None
            return Issue(
                "LimitRangeNotManaged",
                f"LimitRange {objects.LIMIT_RANGE_NAME} has no {MANAGED_LABEL}=true label, so it "
                "belongs to its author and is left alone (label it or delete it to have the plan's applied)",
            )
        if desired.mode == Mode.NONE:
            if actual is not None:
                await self._delete(view, "lr", LIMIT_RANGE, objects.LIMIT_RANGE_NAME, "LimitRange", changes)
            return None
        if desired.limit_range is None:
            return None
        items = desired.limit_range
        labels = objects.managed_labels(desired.plan_id)
        body = objects.limit_range_manifest(items, labels, objects.owner_reference(view.name, view.uid))
        current, verb, _ = await self._write(
            view,
            "lr",
            LIMIT_RANGE,
            objects.LIMIT_RANGE_NAME,
            body,
            lambda obj: objects.limit_range_patch(obj, items, labels),
        )
        if not objects.is_managed(current):  # it was someone else's after all (the watch had not said yet)
            return await self._sync_limit_range(view, desired, changes)
        if verb == "created":
            changes.append(Change("Created", "LimitRange", f"plan {desired.plan_id}"))
        elif verb == "patched":
            changes.append(self._updated(view, "lr", "LimitRange", items, f"plan {desired.plan_id}"))
        self._applied[(view.key, "lr")] = items
        return None

    async def _write(
        self,
        view: OrgView,
        slot: Slot,
        resource: Resource,
        name: str,
        body: dict[str, Any],
        patch_of: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> tuple[dict[str, Any], str, dict[str, Any] | None]:
        """Create `body`, or patch what is observed into it; (the object now, what was done, the object before).

        The observed memory may lag the apiserver: a create that meets an object, or a patch that
        meets none, is retried the other way round from what the apiserver says.
        """
        actual = self.observed.get(view.namespace, slot)
        path = resource.path(view.namespace, name)
        current: dict[str, Any]
        verb = ""
        if actual is None:
            try:
                current, verb = await self.kube.create(resource.path(view.namespace), body), "created"
            except KubeError as exc:
                if exc.status != 409:
                    raise
                actual = await self.kube.get(path)
                if actual is None:
                    raise
        if actual is not None:
            patch = patch_of(actual)
            if not patch:
                self.observed.put(view.namespace, slot, actual)
                return actual, "", actual
            try:
                current, verb = await self.kube.merge_patch(path, patch), "patched"
            except KubeError as exc:
                if exc.status != 404:
                    raise
                current, verb = await self.kube.create(resource.path(view.namespace), body), "created"
        self.observed.put(view.namespace, slot, current)
        return current, verb, actual

    def _updated(self, view: OrgView, slot: str, kind: str, desired: Any, change: str) -> Change:
        """An update either follows a new desired state, or restores ours after someone else's edit."""
        if self._applied.get((view.key, slot)) == desired:
            return Change("Restored", kind, f"{change} (it was changed outside the operator)")
        return Change("Updated", kind, change)

    async def _announce(self, view: OrgView, changes: list[Change], log: OrgLog) -> None:
        """One log line and one Event per reconcile that wrote something, however many objects it wrote."""
        if not changes:
            return
        verbs = {change.verb for change in changes}
        reason = f"Quota{changes[0].verb}" if len(verbs) == 1 else "QuotaUpdated"
        message = "; ".join(str(change) for change in changes)
        log.info("%s", message)
        await self.events.record(view.ref, NORMAL, reason, message)

    async def _delete(
        self, view: OrgView, slot: Slot, resource: Resource, name: str, kind: str, changes: list[Change]
    ) -> None:
        self.observed.forget(view.namespace, slot)
        if await self.kube.delete(resource.path(view.namespace, name)):
            changes.append(Change("Deleted", kind, "the organization has no plan"))

    async def prime(self) -> None:
        """Replace the observed memory with what the apiserver lists now; every organization whose
        objects differ from what was remembered (or are gone) is reconciled. At start, and after
        Kopf lists organizations anew: a watch that was down, or paused, reports no deletions."""
        for slot, resource, name in MANAGED:
            listed: set[str] = set()
            try:
                async for page in self.kube.pages(resource.path(""), fieldSelector=f"metadata.name={name}"):
                    for obj in page:
                        namespace = obj["metadata"]["namespace"]
                        listed.add(namespace)
                        if self.observed.put(namespace, slot, obj):
                            self.observe_managed_object(namespace)
            except KubeError as exc:
                if exc.status != 404:  # 404: HNC is not installed (yet); reconciles say so
                    raise
                continue
            for namespace in self.observed.namespaces(slot) - listed:
                self.observed.forget(namespace, slot)
                self.observe_managed_object(namespace)

    def _prime_soon(self) -> None:
        """`prime` in the background: the Kopf handler that asks for it must return at once."""
        task = asyncio.get_running_loop().create_task(self.prime())
        self._background.add(task)
        task.add_done_callback(self._primed)

    def _primed(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:  # the next listing tries again
            logger.error("re-reading the quota objects failed: %s", task.exception())

    async def _remove_managed(self, namespace: str, log: OrgLog) -> None:
        """The organization is gone: remove what the operator made for it (the GC does too, via owners)."""
        if self._by_namespace.get(namespace):
            return  # another organization still lives in this namespace
        for slot, resource, name in MANAGED:
            actual = await self.kube.get(resource.path(namespace, name))
            self.observed.forget(namespace, slot)
            if (
                actual is not None
                and objects.is_managed(actual)
                and await self.kube.delete(resource.path(namespace, name))
            ):
                log.info("deleted %s %s: the organization was deleted", actual.get("kind"), name)

    async def _report(self, view: OrgView, verdict: Verdict, log: OrgLog, observed: Observed | None = None) -> None:
        """Decide the new status and have it written; a new problem also becomes a Warning event.

        The write itself waits until no reconcile is waiting (`_write_status`): quotas are
        enforced first, and several decisions about one organization cost one write. A change
        of usage alone is decided at most once per `usage_interval` per organization, so busy
        namespaces (HNC rewrites HRQ usage on every pod change) cause no write storm.
        """
        if observed is None:  # nothing new was observed: keep what the status says
            usage = view.status.get("quotaUsage")
            observed = Observed(
                {k: v for k, v in usage.items() if k != "lastUpdated"} if usage else None,
                bool(view.status.get("workloadsStopped")),
            )
        new = quota_status(view.status, verdict, observed, datetime.now(UTC))
        if new == view.status:
            return
        if without_usage(new) == without_usage(view.status):
            wait = self._usage_written.get(view.key, -math.inf) + self.settings.usage_interval.total_seconds()
            if time.monotonic() < wait:
                self.queue.add_after(view.key, wait - time.monotonic())
                return
        previous = quota_condition(view.status)
        view.status = new
        self._usage_written[view.key] = time.monotonic()
        self.statuses.add(view.key)
        if previous.get("reason") != verdict.reason or previous.get("message") != verdict.message:
            level = logging.INFO if verdict.ready else logging.WARNING
            log.log(level, "QuotaReady=%s %s: %s", verdict.ready, verdict.reason, verdict.message)
            if not verdict.ready and previous.get("reason") != verdict.reason:
                await self.events.record(view.ref, WARNING, verdict.reason, verdict.message)

    async def _write_status(self, key: OrgKey) -> None:
        """Write the status decided last, if the apiserver does not have it yet."""
        view = self.orgs.get(key)
        if view is None or view.status == view.written:
            return
        new = view.status
        removed = {name: None for name in view.written if name not in new}  # a merge patch removes only nulls
        try:
            patched = await self.kube.merge_patch(
                ORGANIZATION.path(view.namespace, view.name, "status"), {"status": {**new, **removed}}
            )
        except KubeError as exc:
            if exc.status == 404:
                return  # deleted meanwhile: its DELETED event follows
            raise
        view.written = dict(patched.get("status") or new)
        if view.status is new:  # no newer decision meanwhile: adopt the apiserver's spelling of it
            view.status = view.written
