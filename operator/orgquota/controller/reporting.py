"""What admins see of a reconcile: the Organization's status, log lines and Events.

The status write waits until no reconcile is waiting: quotas are enforced first, and several
decisions about one organization cost one write. A change of usage alone is decided at most
once per `usage_interval` per organization, so busy namespaces (HNC rewrites HRQ usage on
every pod change) cause no write storm.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from orgquota.controller.inventory import Inventory, OrgKey, OrgLog, OrgView
from orgquota.controller.model import Change, Issue
from orgquota.controller.settings import Settings
from orgquota.controller.workqueue import WorkQueue
from orgquota.core.desired import DesiredQuota
from orgquota.core.manifests import with_removals
from orgquota.core.pressure import transitions
from orgquota.core.status import Findings, Verdict, quota_condition, quota_status, without_usage
from orgquota.kube.client import ORGANIZATION, Kube, KubeError
from orgquota.kube.events import NORMAL, WARNING, EventRecorder

logger = logging.getLogger(__name__)


def verdict(desired: DesiredQuota, issues: list[Issue]) -> Verdict:
    """The annotations' verdict, unless something else keeps the organization from being ready."""
    if not issues:
        return Verdict(desired.ready, desired.mode, desired.plan_id, desired.reason, desired.message)
    message = "; ".join([issue.message for issue in issues] + [desired.message])
    return Verdict(False, desired.mode, desired.plan_id, issues[0].reason, message)


class Reporter:
    def __init__(
        self,
        kube: Kube,
        events: EventRecorder,
        settings: Settings,
        inventory: Inventory,
        reconciles: WorkQueue[OrgKey],
    ) -> None:
        self._kube = kube
        self._events = events
        self._settings = settings
        self._inventory = inventory
        self._reconciles = reconciles
        self._usage_written: dict[OrgKey, float] = {}
        self.statuses: WorkQueue[OrgKey] = WorkQueue(
            self._write_status,
            workers=max(1, settings.workers // 4),
            logger=logger,
            after=reconciles.drained,
            metrics=None,
            work="status write",
        )

    async def announce(self, view: OrgView, changes: list[Change], log: OrgLog) -> None:
        """One log line and one Event per reconcile that wrote something, however many objects it wrote."""
        if not changes:
            return
        verbs = {change.verb for change in changes}
        reason = f"Quota{changes[0].verb}" if len(verbs) == 1 else "QuotaUpdated"
        message = "; ".join(str(change) for change in changes)
        log.info("%s", message)
        await self._events.record(view.ref, NORMAL, reason, message)

    async def report(self, view: OrgView, verdict: Verdict, log: OrgLog, findings: Findings | None = None) -> None:
        """Decide the new status and have it written; a new problem also becomes a Warning event, and so
        does each quota that reaches a level of pressure (a Normal one when it recovers)."""
        if findings is None:  # nothing new was found: keep what the status says
            usage = view.status.get("quotaUsage")
            findings = Findings(
                {k: v for k, v in usage.items() if k != "lastUpdated"} if usage else None,
                bool(view.status.get("workloadsStopped")),
            )
        new = quota_status(view.status, verdict, findings, datetime.now(UTC))
        if new == view.status:
            return
        if without_usage(new) == without_usage(view.status):
            wait = self._usage_written.get(view.key, -math.inf) + self._settings.usage_interval.total_seconds()
            if time.monotonic() < wait:
                self._reconciles.add_after(view.key, wait - time.monotonic())
                return
        if log.isEnabledFor(logging.DEBUG):  # the diff only for a debug log: this is every status decision
            log.debug("status to write: %s changed", ", ".join(_changed_fields(view.status, new)))
        previous = quota_condition(view.status)
        changed_levels = transitions(view.status.get("alerts"), new.get("alerts"))
        view.status = new
        self._usage_written[view.key] = time.monotonic()
        self.statuses.add(view.key)
        if previous.get("reason") != verdict.reason or previous.get("message") != verdict.message:
            level = logging.INFO if verdict.ready else logging.WARNING
            log.log(level, "QuotaReady=%s %s: %s", verdict.ready, verdict.reason, verdict.message)
            if not verdict.ready and previous.get("reason") != verdict.reason:
                await self._events.record(view.ref, WARNING, verdict.reason, verdict.message)
        for change in changed_levels:
            log.log(logging.INFO if change.after is None else logging.WARNING, "%s: %s", change.reason, change.message)
            await self._events.record(
                view.ref, NORMAL if change.after is None else WARNING, change.reason, change.message
            )

    async def _write_status(self, key: OrgKey) -> None:
        """Write the status decided last, if the apiserver does not have it yet."""
        view = self._inventory.get(key)
        if view is None or view.status == view.written:
            return
        new = view.status
        try:
            patched = await self._kube.merge_patch(
                ORGANIZATION.path(view.namespace, view.name, "status"), {"status": with_removals(view.written, new)}
            )
        except KubeError as exc:
            if exc.status == 404:
                return  # deleted meanwhile: its DELETED event follows
            raise
        view.written = dict(patched.get("status") or new)
        if view.status is new:  # no newer decision meanwhile: adopt the apiserver's spelling of it
            view.status = view.written


def _changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The status fields a write changes (conditions by type), for the debug log."""
    fields = [key for key in sorted({*before, *after}) if key != "conditions" and before.get(key) != after.get(key)]
    conditions = {c.get("type"): c for c in before.get("conditions") or []}
    for condition in after.get("conditions") or []:
        if conditions.get(condition.get("type")) != condition:
            fields.append(f"conditions[{condition.get('type')}]")
    return fields
