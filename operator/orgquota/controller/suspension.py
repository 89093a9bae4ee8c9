"""The subscription lifecycle at the edge: the grace-period clock on the Organization, and the
workloads of a canceled organization stopped and later restored exactly (see `lifecycle`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from orgquota.controller.inventory import OrgKey, OrgLog, OrgView
from orgquota.controller.settings import Settings
from orgquota.core import annotations as ann
from orgquota.core.desired import DesiredQuota, Mode
from orgquota.core.lifecycle import SCALABLE, Clock, ClockDecision, grace_clock, restore_patch, suspend_patch
from orgquota.core.timestamps import format_rfc3339
from orgquota.core.topology import TREE_LABEL_SUFFIX
from orgquota.kube.billing_annotations import write_billing_annotations
from orgquota.kube.client import NAMESPACE_PATH, ORGANIZATION, Kube, Resource
from orgquota.kube.events import NORMAL, WARNING, EventRecorder

WORKLOADS: Final = (
    ("Deployment", Resource("apps", "v1", "deployments")),
    ("StatefulSet", Resource("apps", "v1", "statefulsets")),
    ("CronJob", Resource("batch", "v1", "cronjobs")),
)


class Suspension:
    """The grace-period clock and the stopping and restoring of workloads, for one reconcile at a time."""

    def __init__(
        self, kube: Kube, events: EventRecorder, settings: Settings, wake: Callable[[OrgKey, float], None]
    ) -> None:
        self._kube = kube
        self._events = events
        self._settings = settings
        self._wake = wake
        self._warned: set[OrgKey] = set()
        self._started: dict[OrgKey, datetime] = {}
        """the last valid suspended-at read per organization: a start a malformed one cannot move"""

    async def run(self, view: OrgView, desired: DesiredQuota, log: OrgLog) -> bool:
        """Advance the clock, stop or restore workloads; returns whether workloads are now stopped."""
        now = self._settings.now()
        settings = self._settings
        remembered = self._started.get(view.key)
        decision = grace_clock(view.annotations, now, settings.grace_period, settings.grace_warning, remembered)
        if decision.action not in (Clock.REPAIR, Clock.START, Clock.CLEAR) and decision.expires is not None:
            self._started[view.key] = decision.expires - settings.grace_period
        stopped = bool(view.status.get("workloadsStopped"))
        restoring = stopped and desired.mode in (Mode.PLAN, Mode.NONE)
        writes = (
            decision.action in (Clock.START, Clock.REPAIR, Clock.CANCEL, Clock.CLEAR) or _canceled(view) or restoring
        )
        if writes and not await self.confirmed(view):
            return stopped
        await self._clock(view, decision, now, log)
        if _canceled(view):  # also when the clock has just canceled it
            changed = await self._each_workload(view, suspend_patch)
            if changed:
                message = f"stopped {changed} workloads (Deployments and StatefulSets scaled to 0, CronJobs suspended)"
                log.warning("%s", message)
                await self._events.record(view.ref, WARNING, "WorkloadsStopped", message)
            self._wake(view.key, self._settings.canceled_resync.total_seconds())  # catch workloads started since
            return True
        if restoring:
            restored = await self._each_workload(view, restore_patch)
            message = f"restored {restored} workloads to their replicas and schedules from before the cancellation"
            log.info("%s", message)
            await self._events.record(view.ref, NORMAL, "WorkloadsRestored", message)
            return False
        return stopped

    async def confirmed(self, view: OrgView) -> bool:
        """Whether the organization's billing annotations are still those in memory. A replica's
        memory can be stale (a standby's is frozen while Kopf pauses its watches), and workloads
        must never be stopped, nor a subscription canceled, on a stale one: if they changed, the
        new ones are taken and the organization is reconciled again, with nothing done now."""
        body = await self._kube.get(ORGANIZATION.path(view.namespace, view.name))
        if body is None:
            return False  # deleted: its DELETED event follows
        current = ann.billing_annotations(body["metadata"])
        if current == view.annotations:
            return True
        view.annotations = current
        self._wake(view.key, 0)
        return False

    async def _clock(self, view: OrgView, decision: ClockDecision, now: datetime, log: OrgLog) -> None:
        if decision.wake_in is not None:
            self._wake(view.key, decision.wake_in.total_seconds())
        expires = format_rfc3339(decision.expires) if decision.expires else ""
        if decision.action == Clock.START:
            await self.annotate(view, {ann.SUSPENDED_AT: format_rfc3339(now)})
            message = f"suspended: the grace period ends at {expires}, then workloads are stopped"
            log.info("%s", message)
            await self._events.record(view.ref, NORMAL, "GracePeriodStarted", message)
        elif decision.action == Clock.REPAIR and decision.started is not None:
            bad = view.annotations.get(ann.SUSPENDED_AT, "")[:64]
            kept = format_rfc3339(decision.started)
            await self.annotate(view, {ann.SUSPENDED_AT: kept})
            message = (
                f"{ann.SUSPENDED_AT} {bad!r} is not an RFC 3339 time; the grace clock keeps its earliest "
                f"trustworthy start, {kept} (the grace period ends at {expires}), and is not restarted"
            )
            log.warning("%s", message)
            await self._events.record(view.ref, WARNING, "SuspendedAtInvalid", message)
        elif decision.action == Clock.WARN and view.key not in self._warned:
            self._warned.add(view.key)
            message = f"the grace period ends at {expires}: then the subscription is canceled and workloads stop"
            log.warning("%s", message)
            await self._events.record(view.ref, WARNING, "GracePeriodEnding", message)
        elif decision.action == Clock.CANCEL:
            await self.annotate(view, {ann.SUBSCRIPTION: ann.Subscription.CANCELED.value})
            message = f"the grace period ended at {expires}: subscription set to canceled"
            log.warning("%s", message)
            await self._events.record(view.ref, WARNING, "GracePeriodExpired", message)
        elif decision.action == Clock.CLEAR:
            self._warned.discard(view.key)
            self._started.pop(view.key, None)
            await self.annotate(view, {ann.SUSPENDED_AT: None})

    async def annotate(self, view: OrgView, changes: dict[str, str | None]) -> None:
        await write_billing_annotations(self._kube, view.namespace, view.name, changes)
        for key, value in changes.items():  # the watch event will say the same; act on it now
            if value is None:
                view.annotations.pop(key, None)
            else:
                view.annotations[key] = value

    async def _each_workload(self, view: OrgView, patch_of: Callable[[dict[str, Any]], dict[str, Any] | None]) -> int:
        tree = await self._kube.list(NAMESPACE_PATH, labelSelector=f"{view.name}{TREE_LABEL_SUFFIX}")
        namespaces = sorted({ns["metadata"]["name"] for ns in tree} | {view.namespace})
        changed = 0
        for namespace in namespaces:
            for kind, resource in WORKLOADS:
                for obj in await self._kube.list(resource.path(namespace)):
                    patch = patch_of({**obj, "kind": kind})
                    if patch:
                        await self._write(resource, namespace, obj["metadata"]["name"], kind, patch)
                        changed += 1
        return changed

    async def _write(self, resource: Resource, namespace: str, name: str, kind: str, patch: dict[str, Any]) -> None:
        """A workload's patch, replicas through the `scale` subresource: the operator's identity may
        change nothing else of a Deployment or StatefulSet than its pre-suspend annotations (the
        chart's policy), never a pod template. The memory is written before it is scaled to 0 and
        removed after it is scaled back, so a failure in between never loses what to restore."""
        spec = patch.pop("spec", None) if kind in SCALABLE else None
        steps = [(resource.path(namespace, name), patch)] if patch else []
        if spec is not None:
            scale = (resource.path(namespace, name, "scale"), {"spec": {"replicas": spec["replicas"]}})
            restoring = spec["replicas"] != 0
            steps = [scale, *steps] if restoring else [*steps, scale]
        for path, body in steps:
            await self._kube.merge_patch(path, body)


def _canceled(view: OrgView) -> bool:
    return bool(view.annotations.get(ann.SUBSCRIPTION) == ann.Subscription.CANCELED)
