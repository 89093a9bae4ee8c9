"""A keyed work queue with the semantics of controller-runtime's workqueue.

A key is queued at most once however often it is added, is never processed by two workers
at once, and a key added while it is being processed is processed again afterwards; a
failure is retried with exponential backoff. That is what makes fan-out to thousands of
Organizations cheap (duplicates collapse) and reconciles safe (no two writers per key).

A write refused by the fence (the replica lost the Lease) ends the work on the key quietly: no
retry and no log line per key, since the term that queued it is ending.

A queue can yield to another (`after=other.drained`): its keys are taken only while the other
has none waiting, so that reporting (statuses, Events) never delays the enforcement of quotas.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from prometheus_client import Counter, Histogram

from orgquota.controller.metrics import RECONCILE_SECONDS, RECONCILES
from orgquota.kube.fence import Fenced

K = TypeVar("K", bound=Hashable)


class RetryLater(Exception):
    """Raised by a reconcile that cannot finish yet; the key is retried after `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


class WorkQueue(Generic[K]):
    def __init__(
        self,
        process: Callable[[K], Awaitable[None]],
        *,
        workers: int,
        logger: logging.Logger,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        after: Callable[[], Awaitable[None]] | None = None,
        metrics: tuple[Counter, Histogram] | None = (RECONCILES, RECONCILE_SECONDS),
        work: str = "reconcile",
    ) -> None:
        self._process = process
        self._workers = workers
        self._logger = logger
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._after = after
        self._metrics = metrics
        self._work_name = work
        self._drained = asyncio.Event()
        self._drained.set()

    def add(self, key: K) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._put(key)

    def _put(self, key: K) -> None:
        self._queue.put_nowait(key)
        self._drained.clear()

    async def drained(self) -> None:
        """Return once no key is waiting (keys may still be in process)."""
        while self._queue.qsize():
            await self._drained.wait()

    def add_after(self, key: K, delay: float) -> None:
        """Add `key` in `delay` seconds, or sooner if already due sooner: one timer per key at most."""
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        timer = self._timers.get(key)
        if timer is not None and not timer.cancelled() and timer.when() <= due:
            return
        if timer is not None:
            timer.cancel()
        self._timers[key] = loop.call_at(due, self._due, key)

    def _due(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def __len__(self) -> int:
        """Keys waiting to be processed or being processed: 0 means idle."""
        return len(self._dirty | self._processing)

    async def run(self) -> None:
        """Process keys until cancelled."""
        async with asyncio.TaskGroup() as group:
            for _ in range(self._workers):
                group.create_task(self._work())

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            if not self._queue.qsize():
                self._drained.set()
            if self._after is not None:
                await self._after()
            self._dirty.discard(key)
            self._processing.add(key)
            started = time.monotonic()
            result = "error"
            try:
                await self._process(key)
                self._failures.pop(key, None)
                result = "ok"
            except RetryLater as exc:
                result = "retry"
                self._logger.info("%s: %s; retrying in %.0fs", key, exc, exc.delay)
                self.add_after(key, exc.delay)
            except asyncio.CancelledError:
                result = "cancelled"
                raise
            except Fenced:  # the replica stopped leading: its term is ending, the next leader does the work
                result = "fenced"
            except Exception:
                failures = self._failures[key] = self._failures.get(key, 0) + 1
                delay = min(self._base_delay * 2 ** (failures - 1), self._max_delay)
                self._logger.exception(
                    "%s: %s failed (attempt %d); retrying in %.1fs", key, self._work_name, failures, delay
                )
                self.add_after(key, delay)
            finally:
                if self._metrics is not None:
                    counter, histogram = self._metrics
                    counter.labels(result).inc()
                    histogram.observe(time.monotonic() - started)
                self._processing.discard(key)
                if key in self._dirty:
                    self._put(key)
            # A key that needed no request never waited: without this, one worker could take every
            # queued key in a row while the writes other workers began (a new connection, an
            # answer) wait for the whole queue.
            await asyncio.sleep(0)
