"""Re-reading the managed objects when the operator's memory of them may be stale.

At the start of a term, and whenever Kopf lists organizations anew (a watch that was down reports
no deletions), the quota objects are listed again; every organization whose
objects differ from what was cached (or are gone) is reconciled. Kopf's first listing, when it
comes right after the operator's own start-up LIST, repeats what that LIST has just seen and
reconciles nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final

from orgquota.controller.apply import MANAGED
from orgquota.controller.inventory import OrgKey
from orgquota.controller.quota_cache import QuotaObjectCache
from orgquota.kube.client import Kube, KubeError

logger = logging.getLogger(__name__)

STARTUP_LIST_TRUSTED_SECONDS: Final = 30.0
"""Kopf's first listing of organizations later than this after the start-up LIST re-reads the
quota objects: the start was slow, and what the start-up LIST saw may be old"""


class Relisting:
    def __init__(
        self,
        kube: Kube,
        cache: QuotaObjectCache,
        changed: Callable[[str], None],
        also: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._kube = kube
        self._cache = cache
        self._changed = changed
        """called with each namespace whose managed objects differ from what was cached"""
        self._also = also
        """what else is read anew with them (the project caps and the namespaces they depend on)"""
        self._started = 0.0
        self._listings: dict[OrgKey, int] = {}
        """how many of Kopf's listings of organizations each one was in"""
        self._newest_listing = 0
        self._started_at: dict[OrgKey, str] = {}
        """the resourceVersion of each organization in the start-up LIST, until Kopf lists it"""
        self._background: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """The start-up LIST of organizations begins now."""
        self._started = time.monotonic()

    def seen_at_start(self, key: OrgKey, resource_version: str) -> None:
        self._started_at[key] = resource_version

    def forget(self, key: OrgKey) -> None:
        self._listings.pop(key, None)
        self._started_at.pop(key, None)

    def listed(self, key: OrgKey, resource_version: str | None) -> bool:
        """Kopf listed the organization: whether that says anything the start-up LIST did not.

        The first organization of each new listing but Kopf's first, timely one has the quota
        objects re-read in the background.
        """
        listing = self._listings[key] = self._listings.get(key, 0) + 1
        started_rv = self._started_at.pop(key, None)
        recent = time.monotonic() - self._started < STARTUP_LIST_TRUSTED_SECONDS
        if listing > self._newest_listing:  # the first organization of a new listing by Kopf
            self._newest_listing = listing
            if listing > 1 or not recent:  # the watch was down, or Kopf was paused: memory may be stale
                self.prime_soon()
        return not (listing == 1 and recent and started_rv == resource_version)

    async def prime(self) -> None:
        """Replace the cache with what the apiserver lists now; report each namespace that differs."""
        for slot, resource, name in MANAGED:
            listed: set[str] = set()
            try:
                async for page in self._kube.pages(resource.path(""), fieldSelector=f"metadata.name={name}"):
                    for obj in page:
                        namespace = obj["metadata"]["namespace"]
                        listed.add(namespace)
                        if self._cache.put(namespace, slot, obj):
                            self._changed(namespace)
            except KubeError as exc:
                if exc.status != 404:  # 404: HNC is not installed (yet); reconciles say so
                    raise
                continue
            for namespace in self._cache.namespaces(slot) - listed:
                self._cache.forget(namespace, slot)
                self._changed(namespace)
        if self._also is not None:
            await self._also()

    def prime_soon(self) -> None:
        """`prime` in the background: the Kopf handler that asks for it must return at once."""
        task = asyncio.get_running_loop().create_task(self.prime())
        self._background.add(task)
        task.add_done_callback(self._primed)

    def _primed(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:  # the next listing tries again
            logger.error("re-reading the quota objects failed: %s", task.exception())
