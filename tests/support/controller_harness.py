"""The controller on the in-memory apiserver: a Reconciler with its real queues, driven to rest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from orgquota.controller.reconciler import Reconciler
from orgquota.controller.settings import Settings
from orgquota.core.catalog import Catalog
from orgquota.core.manifests import HRQ_NAME, LIMIT_RANGE_NAME
from orgquota.kube.client import HRQ, LIMIT_RANGE, ORGANIZATION, Manifest
from tests.support.fake_kube import FakeKube, RecordedEvents

QUIET_TURNS = 5


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def hrq_path(namespace: str) -> str:
    return HRQ.path(namespace, HRQ_NAME)


def limit_range_path(namespace: str) -> str:
    return LIMIT_RANGE.path(namespace, LIMIT_RANGE_NAME)


def org_path(name: str) -> str:
    """An organization named like its namespace, as Kube-DC makes them."""
    return ORGANIZATION.path(name, name)


class Harness:
    def __init__(self, catalog: Catalog | None, kube: FakeKube | None = None, **settings: Any) -> None:
        self.kube = kube or FakeKube()
        self.events = RecordedEvents()
        self.settings = Settings(**settings)
        self.reconciler = Reconciler(self.kube, self.settings, self.events)
        if catalog is not None:
            self.reconciler.set_catalog(catalog, None)

    def add_org(self, name: str, annotations: Mapping[str, str]) -> Manifest:
        """Create an Organization in the apiserver and have the reconciler observe it."""
        body = self.kube.put(org_path(name), {"metadata": {"annotations": dict(annotations)}})
        self.reconciler.observe_org(body)
        return body

    def annotate(self, name: str, annotations: Mapping[str, str | None]) -> None:
        """Someone (a billing system) changes the annotations; the watch delivers it."""
        body = self.kube.stored(org_path(name))
        assert body is not None
        merged = {**body["metadata"].get("annotations", {}), **annotations}
        body["metadata"]["annotations"] = {k: v for k, v in merged.items() if v is not None}
        self.reconciler.observe_org(self.kube.put(org_path(name), body))

    def status(self, name: str) -> dict[str, Any]:
        body = self.kube.stored(org_path(name))
        assert body is not None
        return dict(body.get("status") or {})

    def condition(self, name: str) -> dict[str, Any]:
        conditions = self.status(name).get("conditions") or []
        return next(c for c in conditions if c["type"] == "QuotaReady")

    async def converge(self) -> None:
        """Run the reconcile and status workers until neither has had a key waiting or in process for
        a few turns of the event loop (so that wake-ups due now, `add_after(key, 0)`, are taken too)."""
        reconciler = self.reconciler
        workers = asyncio.create_task(reconciler.run())
        try:
            async with asyncio.timeout(5):
                quiet = 0
                while quiet < QUIET_TURNS:
                    await asyncio.sleep(0)
                    quiet = 0 if len(reconciler.queue) or len(reconciler.statuses) else quiet + 1
        finally:
            workers.cancel()
            await asyncio.gather(workers, return_exceptions=True)
