"""Trials at the edge: the operator ends a quota-only trial at `trial-ends-at` exactly.

Each trialing organization has one timer on the work queue (`wake`), set from its annotations at
every reconcile: for the notice 3 days before the end, then for the end itself. There is no sweep.
After a restart or a failover, the new term lists every organization and reconciles it, which sets
the timers again from the annotations, so a trial whose end passed meanwhile ends at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from orgquota.controller.inventory import OrgKey, OrgLog, OrgView
from orgquota.controller.settings import Settings
from orgquota.core.timestamps import format_rfc3339
from orgquota.core.trials import Step, TrialDecision, end_trial, trial_clock
from orgquota.kube.billing_annotations import write_billing_annotations
from orgquota.kube.client import Kube, KubeError
from orgquota.kube.events import NORMAL, WARNING, EventRecorder

Confirm = Callable[[OrgView], Awaitable[bool]]
Annotate = Callable[[OrgView, dict[str, str | None]], Awaitable[None]]


class TrialClock:
    """Ends trials on time; Events `TrialEnding` (once per trial and process) and `TrialEnded`."""

    def __init__(
        self,
        kube: Kube,
        events: EventRecorder,
        settings: Settings,
        wake: Callable[[OrgKey, float], None],
        confirm: Confirm,
        annotate: Annotate,
    ) -> None:
        self._kube = kube
        self._events = events
        self._settings = settings
        self._wake = wake
        self._confirm = confirm
        self._annotate = annotate
        self._noticed: set[tuple[OrgKey, str]] = set()

    async def run(self, view: OrgView, log: OrgLog) -> None:
        """Before the quota is computed: a trial that is over becomes `suspended` (the floor, then the grace period)."""
        now = self._settings.now()
        decision = trial_clock(view.annotations, now)
        if decision.wake_in is not None:
            self._wake(view.key, max(decision.wake_in.total_seconds(), 0.0))
        if decision.ends_at is None:
            return
        ends = format_rfc3339(decision.ends_at)
        if decision.step == Step.NOTICE and (view.key, ends) not in self._noticed:
            self._noticed.add((view.key, ends))
            message = f"the trial ends at {ends}: then the organization is suspended unless it subscribes"
            log.info("%s", message)
            await self._events.record(
                view.ref, NORMAL, "TrialEnding", message, name=_event_name(view, "ending", decision)
            )
        elif decision.step == Step.END:
            if not await self._end(view, end_trial(now), now):
                return
            self._noticed.discard((view.key, ends))
            message = f"the trial ended at {ends}: subscription set to suspended (the grace period runs)"
            log.warning("%s", message)
            await self._events.record(
                view.ref, WARNING, "TrialEnded", message, name=_event_name(view, "ended", decision)
            )

    async def _end(self, view: OrgView, changes: dict[str, str | None], now: datetime) -> bool:
        """Write the end, only on the Organization as this replica last saw it (one request: at the end of
        many trials at once, a read before each write would cost a third more); when it changed since,
        read it and decide again on what it holds now."""
        if view.resource_version:
            try:
                await write_billing_annotations(
                    self._kube, view.namespace, view.name, changes, resource_version=view.resource_version
                )
            except KubeError as exc:
                if exc.status != 409:
                    raise
            else:
                view.annotations.update({k: v for k, v in changes.items() if v is not None})
                return True
        if not await self._confirm(view) or trial_clock(view.annotations, now).step != Step.END:
            return False  # the annotations changed meanwhile (a subscription, say): nothing to end
        await self._annotate(view, changes)
        return True


def _event_name(view: OrgView, what: str, decision: TrialDecision) -> str:
    """One Event per trial and step, whichever process posts it: after a restart or a failover the new
    process's notice is refused by the apiserver as a duplicate, so nothing is said twice."""
    assert decision.ends_at is not None
    return f"{view.name}.trial-{what}.{int(decision.ends_at.timestamp())}"
