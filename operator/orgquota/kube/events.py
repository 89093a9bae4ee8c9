"""Kubernetes Events: what a cluster admin sees in `kubectl describe organization`."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from orgquota.core.timestamps import format_rfc3339
from orgquota.kube.client import EVENT, Kube, KubeError
from orgquota.kube.fence import Fenced

COMPONENT: Final = "orgquota"
NORMAL: Final = "Normal"
WARNING: Final = "Warning"

logger = logging.getLogger(__name__)


class EventRecorder:
    """Posts Events from a queue of its own, so that reconciles never wait for them.

    Events are best effort, as in Kubernetes itself: when the queue is full (an apiserver that
    cannot keep up), new ones are dropped with a log line rather than slowing quota writes.
    """

    def __init__(self, kube: Kube, capacity: int = 10_000) -> None:
        self._kube = kube
        self._instance = socket.gethostname()
        self._queue: asyncio.Queue[tuple[Mapping[str, Any], str, str, str, str, str | None]] = asyncio.Queue(capacity)

    async def record(
        self, ref: Mapping[str, Any], type_: str, reason: str, message: str, *, name: str | None = None
    ) -> None:
        """Queue an Event about `ref` (an object reference); its body is built when it is sent, so a
        long queue (statuses and Events wait for quota work) holds only what the body is made of.
        With `name`, the Event is posted once whatever the process: another one of that name (posted
        before a restart or a failover) makes it nothing."""
        try:
            self._queue.put_nowait((ref, type_, reason, message, format_rfc3339(datetime.now(UTC)), name))
        except asyncio.QueueFull:
            logger.warning("[%s/%s] event queue full, dropped %s: %s", ref["namespace"], ref["name"], reason, message)

    async def run(self, senders: int = 4, after: Callable[[], Awaitable[None]] | None = None) -> None:
        """Post queued events until cancelled; each waits for `after()` (the quota work first)."""
        async with asyncio.TaskGroup() as group:
            for _ in range(senders):
                group.create_task(self._send(after))

    async def _send(self, after: Callable[[], Awaitable[None]] | None) -> None:
        while True:
            pending = await self._queue.get()
            if after is not None:
                await after()
            body = self._event(*pending)
            try:
                await self._kube.create(EVENT.path(body["metadata"]["namespace"]), body)
            except Fenced:
                continue  # not the leader any more: the next one reports what it does itself
            except KubeError as exc:
                if exc.status != 409:
                    _could_not_post(body, exc)
            except Exception as exc:  # best effort: a failed event must not stop the senders
                _could_not_post(body, exc)

    def _event(
        self, ref: Mapping[str, Any], type_: str, reason: str, message: str, now: str, name: str | None
    ) -> dict[str, Any]:
        namespace = ref["namespace"]
        body = {
            "metadata": {**({"name": name} if name else {"generateName": f"{ref['name']}."}), "namespace": namespace},
            "involvedObject": dict(ref),
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": self._instance,
        }
        return body


def _could_not_post(body: Mapping[str, Any], exc: Exception) -> None:
    ref = body["involvedObject"]
    logger.warning("[%s/%s] could not post event %s: %s", ref["namespace"], ref["name"], body["reason"], exc)
