"""An informer: a collection kept in memory by one LIST and then a WATCH from its resourceVersion.

Readers ask this memory, never the apiserver, so a request costs no apiserver request however
many come in. A watch that breaks, or whose resourceVersion is gone (410), is replaced by a new
LIST (with back-off while the apiserver is away); `healthy` is false from the break until that
LIST succeeds, so readers can refuse to answer from a memory that may be stale rather than
serve it silently. Objects are kept as `transform` makes them: only what readers need.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, Generic, TypeVar

import aiohttp

from orgquota.kube.client import Kube, KubeError, Manifest

T = TypeVar("T")

BACKOFF_FIRST: Final = 0.5
BACKOFF_MAX: Final = 15.0
ABSENT_RETRY_SECONDS: Final = 30.0
"""how often a collection whose API does not exist (a CRD not installed: 404) is listed again"""

logger = logging.getLogger(__name__)


class WatchCache(Generic[T]):
    """The objects of one collection, by namespace and name, as `transform` keeps them (None: not kept)."""

    def __init__(
        self,
        kube: Kube | None,
        path: str,
        transform: Callable[[Manifest], T | None],
        *,
        name: str,
        page_size: int = 500,
        on_change: Callable[[], None] | None = None,
        **selectors: str,
    ) -> None:
        self.kube = kube
        self.path = path
        self.name = name
        self.transform = transform
        self.selectors = selectors
        self.page_size = page_size
        self.on_change = on_change
        self._items: dict[str, dict[str, T]] = {}
        self.synced = False
        """listed at least once: the memory holds a whole collection"""
        self.healthy = False
        """the last LIST succeeded and its watch has not broken since"""
        self.absent = False
        """the apiserver has no such API (404): an empty collection, listed again now and then"""
        self.error = ""
        """why the memory is not healthy, for readers to say"""
        self.version = 0
        """increases with every change, so derived views know when to recompute"""
        self.lists = 0
        """increases with every LIST taken in: readers that follow changes re-read everything then"""
        self.listeners: list[Callable[[], None]] = []
        """called after every change, as `on_change` (which belongs to the cache's owner)"""

    # -- reading --------------------------------------------------------------------------------

    def get(self, namespace: str, name: str) -> T | None:
        return self._items.get(namespace, {}).get(name)

    def in_namespace(self, namespace: str) -> Mapping[str, T]:
        return self._items.get(namespace, {})

    def items(self) -> Iterator[tuple[str, str, T]]:
        """(namespace, name, object) of every object kept."""
        for namespace, objects in list(self._items.items()):
            for name, obj in list(objects.items()):
                yield namespace, name, obj

    def __len__(self) -> int:
        return sum(len(objects) for objects in self._items.values())

    # -- changing (from the apiserver, or directly in tests) --------------------------------

    def replace(self, objects: list[Manifest]) -> None:
        """The whole collection, as a LIST returned it."""
        items: dict[str, dict[str, T]] = {}
        for obj in objects:
            kept = self.transform(obj)
            if kept is not None:
                meta = obj["metadata"]
                items.setdefault(meta.get("namespace", ""), {})[meta["name"]] = kept
        self._items = items
        self.synced = True
        self.healthy = True
        self.error = ""
        self.lists += 1
        self._changed()

    def apply(self, type_: str, obj: Manifest) -> None:
        """One watch event: ADDED, MODIFIED or DELETED (BOOKMARKs carry no object change)."""
        if type_ not in ("ADDED", "MODIFIED", "DELETED"):
            return
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        kept = None if type_ == "DELETED" else self.transform(obj)
        if kept is None:
            objects = self._items.get(namespace)
            if objects is None or objects.pop(name, None) is None:
                return
            if not objects:
                del self._items[namespace]
        else:
            self._items.setdefault(namespace, {})[name] = kept
        self._changed()

    def broken(self, error: str) -> None:
        self.healthy = False
        self.error = error

    def _changed(self) -> None:
        self.version += 1
        if self.on_change is not None:
            self.on_change()
        for listener in self.listeners:
            listener()

    # -- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """LIST, then WATCH from there; again after every break, until cancelled."""
        assert self.kube is not None, "a cache without a client is filled by hand"
        delay = BACKOFF_FIRST
        while True:
            try:
                version = await self._list()
                delay = BACKOFF_FIRST
                if version is None:
                    await asyncio.sleep(ABSENT_RETRY_SECONDS)
                    continue
                await self._watch(version)
            except asyncio.CancelledError:
                raise
            except (KubeError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                if isinstance(exc, KubeError) and exc.status == 410:
                    logger.debug("%s: watch expired (410), listing again", self.name)
                    continue  # the normal end of an old resourceVersion: list again at once
                self.broken(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
                logger.warning("%s: %s; listing again in %.1fs", self.name, self.error, delay)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, BACKOFF_MAX)

    async def _list(self) -> str | None:
        """Fill the memory; the resourceVersion to watch from (None: the API does not exist)."""
        assert self.kube is not None
        objects: list[Manifest] = []
        query = {"limit": str(self.page_size), **self.selectors}
        version = ""
        while True:
            try:
                page = await self.kube.request("GET", self.path, query=query)
            except KubeError as exc:
                if exc.status != 404:
                    raise
                if not self.absent:
                    logger.warning("%s: the API is not installed (404); an empty collection until it is", self.name)
                self.absent = True
                self.replace([])
                return None
            objects.extend(page.get("items") or [])
            meta: dict[str, Any] = page.get("metadata") or {}
            version = str(meta.get("resourceVersion", ""))
            if not meta.get("continue"):
                break
            query = {"limit": str(self.page_size), **self.selectors, "continue": meta["continue"]}
        was_broken = self.synced and not self.healthy
        self.absent = False
        self.replace(objects)
        if was_broken:
            logger.info("%s: listed again, %d objects", self.name, len(self))
        return version

    async def _watch(self, version: str) -> None:
        """Watch until it breaks; a stream the server ends (timeoutSeconds) resumes where it stopped."""
        assert self.kube is not None
        while True:
            async for event in self.kube.watch(self.path, version, selectors=self.selectors):
                obj = event.get("object") or {}
                if event.get("type") != "BOOKMARK":
                    self.apply(event["type"], obj)
                version = (obj.get("metadata") or {}).get("resourceVersion", version)
