"""Watches that time when every namespace's object reached a wanted state."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bench.api import Api
from orgquota.core.annotations import PLAN_LABEL
from orgquota.core.desired import DesiredQuota
from orgquota.core.quantity import Quantity
from orgquota.kube.client import Manifest


@dataclass
class Expectation:
    """Waits until `want` holds for the watched object of every namespace in `keys`."""

    keys: frozenset[str]
    want: Callable[[Manifest], bool]
    pending: set[str] = field(default_factory=set)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    finished_at: float = 0.0


class Watcher:
    """A watch over one kind (one object name per namespace), keeping the latest object per namespace."""

    def __init__(self, api: Api, path: str, field_selector: str) -> None:
        self.api = api
        self.path = path
        self.field_selector = field_selector
        self.objects: dict[str, Manifest] = {}
        self.events = 0
        self._expectation: Expectation | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"watch {self.path}")
        await asyncio.wait_for(self._connected.wait(), 30)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        resource_version = ""
        while True:
            query = {"watch": "1", "fieldSelector": self.field_selector, "timeoutSeconds": "3600"}
            if resource_version:
                query["resourceVersion"] = resource_version
            response = await self.api.raw(self.path, query, stream=True)
            if response.status != 200:
                raise RuntimeError(f"watch {self.path}: {response.status} {await response.read()!r}")
            self._connected.set()
            try:
                async for line in response.response.content:
                    event = json.loads(line)
                    if event["type"] == "ERROR":  # 410 Gone: start over from the current state
                        resource_version = ""
                        break
                    obj = event["object"]
                    resource_version = obj["metadata"]["resourceVersion"]
                    if event["type"] == "BOOKMARK":
                        continue
                    self._observe(event["type"], obj)
            finally:  # also when stopped: else each stopped watch keeps one of the pool's connections
                response.response.release()

    def _observe(self, kind: str, obj: Manifest) -> None:
        now = time.monotonic()
        self.events += 1
        namespace = obj["metadata"]["namespace"]
        if kind == "DELETED":
            self.objects.pop(namespace, None)
        else:
            self.objects[namespace] = obj
        expectation = self._expectation
        if expectation is None or namespace not in expectation.keys:
            return
        if kind != "DELETED" and expectation.want(obj):
            expectation.pending.discard(namespace)
        else:
            expectation.pending.add(namespace)
        if not expectation.pending and not expectation.done.is_set():
            expectation.finished_at = now
            expectation.done.set()

    def expect(self, keys: Iterable[str], want: Callable[[Manifest], bool]) -> Expectation:
        """From now on, track which of `keys` lack an object for which `want` holds."""
        expectation = Expectation(frozenset(keys), want)
        expectation.pending = {
            key for key in expectation.keys if key not in self.objects or not want(self.objects[key])
        }
        if not expectation.pending:
            expectation.finished_at = time.monotonic()
            expectation.done.set()
        self._expectation = expectation
        return expectation

    async def wait(self, expectation: Expectation, within: float, what: str) -> float:
        """The monotonic time at which the expectation was met."""
        try:
            await asyncio.wait_for(expectation.done.wait(), within)
        except TimeoutError:
            missing = sorted(expectation.pending)
            raise TimeoutError(
                f"{what}: {len(missing)} of {len(expectation.keys)} still pending after {within:.0f}s "
                f"(e.g. {missing[:3]})"
            ) from None
        return expectation.finished_at


def exists(_: Manifest) -> bool:
    return True


def status_plan_is(plan: str) -> Callable[[Manifest], bool]:
    """The Organization's status reports `plan`: the last write of a reconcile."""
    return lambda org: bool((org.get("status") or {}).get("plan") == plan)


def hrq_matches(desired: DesiredQuota) -> Callable[[Manifest], bool]:
    """The HRQ carries the desired plan label and exactly the desired `spec.hard` (compared by value)."""
    want = dict(desired.hard)

    def check(obj: Manifest) -> bool:
        labels = obj["metadata"].get("labels") or {}
        hard = obj.get("spec", {}).get("hard") or {}
        if labels.get(PLAN_LABEL) != desired.plan_id or set(hard) != set(want):
            return False
        return all(Quantity.parse(hard[key]) == value for key, value in want.items())

    return check
