"""Makes each Organization's HRQ, LimitRange and status match `desired_quota`, level-triggered.

The Kopf handlers only feed observations in (`observe_*`); every change of an input enqueues
the affected organizations, and `reconcile` compares what is cached with what must exist,
writes only the difference (`apply`) and decides the status (`reporting`), which a second
queue writes once no reconcile is waiting. A converged organization costs no request, so
restarts and catalog edits that change nothing write nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterable, Mapping
from datetime import UTC, datetime
from typing import Any

from orgquota.controller.apply import QuotaWriter
from orgquota.controller.catalog_state import CatalogState
from orgquota.controller.inventory import Inventory, OrgKey, OrgView, org_log
from orgquota.controller.model import Change, Issue
from orgquota.controller.org_metrics import OrganizationMetrics
from orgquota.controller.project_caps import ProjectCaps
from orgquota.controller.quota_cache import QuotaObjectCache, Slot
from orgquota.controller.relisting import Relisting
from orgquota.controller.reporting import Reporter, verdict
from orgquota.controller.settings import Settings
from orgquota.controller.startup_progress import StartupProgress
from orgquota.controller.suspension import Suspension
from orgquota.controller.trials import TrialClock
from orgquota.controller.workqueue import RetryLater, WorkQueue
from orgquota.core.annotations import applied_inputs
from orgquota.core.catalog import Catalog
from orgquota.core.desired import public_ip_limit
from orgquota.core.pressure import assess
from orgquota.core.status import Findings, Verdict, quota_usage
from orgquota.core.topology import Topology, is_public
from orgquota.core.usage_series import org_series
from orgquota.kube.client import NAMESPACE_PATH, Kube, KubeError
from orgquota.kube.events import EventRecorder

logger = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, kube: Kube, settings: Settings, events: EventRecorder) -> None:
        self.kube = kube
        self.settings = settings
        self.events = events
        self.inventory = Inventory()
        self.catalog = CatalogState()
        self.topology = Topology()
        self.cache = QuotaObjectCache()
        self.queue: WorkQueue[OrgKey] = WorkQueue(self.reconcile, workers=settings.workers, logger=logger)
        self.writer = QuotaWriter(kube, self.cache)
        self.reporter = Reporter(kube, events, settings, self.inventory, self.queue)
        self.statuses = self.reporter.statuses
        self.caps = ProjectCaps(kube, settings, self.inventory, self.queue.add)
        self.relisting = Relisting(kube, self.cache, self.observe_managed_object, self.caps.prime)
        self.startup = StartupProgress(lambda: len(self.inventory))
        self.suspension = Suspension(kube, events, settings, self.queue.add_after)
        self.trials = TrialClock(
            kube, events, settings, self.queue.add_after, self.suspension.confirmed, self.suspension.annotate
        )
        self.org_metrics = OrganizationMetrics()

    async def run(self) -> None:
        """Reconcile, and write the statuses reconciles decide, until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.queue.run())
            group.create_task(self.statuses.run())

    # -- observations -------------------------------------------------------------------------

    def observe_org(self, body: Mapping[str, Any], *, deleted: bool = False, listed: bool = False) -> None:
        """Take in an Organization event; a change of its billing annotations needs a reconcile, and so
        does every listing (after a watch reconnect nothing may be assumed)
        but Kopf's first one of an organization unchanged since the operator's own start-up LIST."""
        view = OrgView.from_body(body)
        if deleted:
            self.inventory.forget(view.key)
            self.relisting.forget(view.key)
            self.queue.add(view.key)
            return
        if listed and not self.relisting.listed(view.key, body["metadata"].get("resourceVersion")):
            return
        if self.inventory.take(view, listed=listed):
            self.queue.add(view.key)

    async def observe_initial_list(self, pages: AsyncIterable[list[dict[str, Any]]]) -> None:
        """The organizations that exist at start; when all are reconciled, the operator says so.

        They are queued newest first (by resourceVersion, which Kubernetes lets clients compare
        for one kind): what changed last is what most likely needs a write, such as a plan
        changed while no replica led, and it should not wait behind a thousand converged ones."""
        self.relisting.start()
        self.startup.start()
        listed: list[tuple[int, OrgKey]] = []
        async for page in pages:
            for body in page:
                view = OrgView.from_body(body)
                version = body["metadata"]["resourceVersion"]
                if self.inventory.take(view, listed=False):
                    listed.append((int(version) if version.isdigit() else 0, view.key))
                self.startup.expect(view.key)
                self.relisting.seen_at_start(view.key, version)
        for _, key in sorted(listed, reverse=True):
            self.queue.add(key)
        for key in self.caps.orphans():  # caps of organizations deleted while the operator was down
            self.inventory.forget(key)
            self.queue.add(key)
        self.startup.listed()

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
        changed = self.cache.forget(namespace, slot) if deleted else self.cache.put(namespace, slot, body)
        if changed:
            self.observe_managed_object(namespace)

    def observe_managed_object(self, namespace: str) -> None:
        """Something the organizations of `namespace` depend on changed: check them."""
        for key in self.inventory.in_namespace(namespace):
            self.queue.add(key)

    def set_catalog(self, catalog: Catalog | None, problem: Issue | None) -> None:
        """A new catalog (or a problem with it, keeping the last good one): every organization is checked."""
        self.catalog.set(catalog, problem)
        if catalog is not None:
            self.org_metrics.run_out_days = catalog.alerts.runOutDays
        for key in self.inventory:
            self.queue.add(key)

    async def prime(self) -> None:
        """Fill the cache of managed objects from the apiserver (see `relisting`)."""
        await self.relisting.prime()

    def count_by_mode(self) -> dict[str, int]:
        return self.inventory.count_by_mode()

    # -- the reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: OrgKey) -> None:
        await self._reconcile(key)
        self.startup.reconciled(key)

    async def _reconcile(self, key: OrgKey) -> None:
        view = self.inventory.get(key)
        log = org_log(*key)
        if view is None:
            self.org_metrics.forget(key)
            if self.inventory.removal_pending(key):
                if not self.inventory.in_namespace(key[0]):  # else another organization lives there
                    await self.writer.remove(key[0], log)
                    await self.caps.remove(key, log)
                self.inventory.removed(key)
            return
        catalog = self.catalog.catalog
        if catalog is None:
            problem = self.catalog.problem or Issue("CatalogMissing", "no plan catalog has been read yet")
            mode, plan = view.status.get("mode") or "none", view.status.get("plan") or ""
            message = problem.message + "; no quota was changed"
            await self.reporter.report(view, Verdict(False, mode, plan, problem.reason, message), log)
            return
        await self.trials.run(view, log)
        desired = self.catalog.desired_of(view.annotations, catalog, self.settings.quota)
        changes: list[Change] = []
        try:
            try:
                hrq, issue = await self.writer.sync(view, desired, changes)
                caps_issue = await self.caps.sync(view, desired.plan_id, changes)
            finally:
                await self.reporter.announce(view, changes, log)
            stopped = await self.suspension.run(view, desired, log)
        except RetryLater as exc:
            await self.reporter.report(view, verdict(desired, [Issue("HNCNotInstalled", str(exc))]), log)
            raise
        except KubeError as exc:
            if exc.status in (400, 403, 422):  # the apiserver refuses what we wrote: say so where admins look
                await self.reporter.report(view, verdict(desired, [Issue("ApplyFailed", str(exc))]), log)
            raise
        issues = [found for found in (issue, caps_issue, self.catalog.problem) if found]
        limit = public_ip_limit(desired, catalog)
        usage = quota_usage(hrq, self.topology.public_ips(view.namespace), limit)
        series = org_series(desired, view.annotations, catalog, usage)
        alerts = assess(view.status.get("alerts"), series.used, series.hard, catalog.alerts, datetime.now(UTC))
        levels = {alert["resource"]: alert["level"] for alert in alerts}
        self.org_metrics.update(key, dataclasses.replace(series, alerts=levels))
        applied = applied_inputs(view.annotations)  # the HRQ (and the EIp limit) now hold what these inputs give
        await self.reporter.report(view, verdict(desired, issues), log, Findings(usage, stopped, alerts, applied))
