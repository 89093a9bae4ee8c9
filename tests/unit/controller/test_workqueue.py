"""The work queue's promises: one pass per burst of adds, never two at once per key, and a queue
that yields to another (`after=`) takes nothing while the other has keys waiting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from orgquota.controller.workqueue import WorkQueue

LOG = logging.getLogger("test")


async def settle() -> None:
    """Let every task that can run, run: the work here never leaves the event loop, so this is exact."""
    for _ in range(100):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(100):
        if condition():
            return
        await settle()
    raise AssertionError("condition never became true")


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def test_adds_collapse_and_an_add_during_processing_is_processed_again() -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        seen: list[str] = []

        async def process(key: str) -> None:
            seen.append(key)
            if len(seen) == 1:
                await release.wait()

        queue: WorkQueue[str] = WorkQueue(process, workers=4, logger=LOG, metrics=None)
        workers = asyncio.create_task(queue.run())
        queue.add("a")
        await until(lambda: seen == ["a"])
        for _ in range(3):
            queue.add("a")  # while "a" is in process: once more afterwards, not three times, not in parallel
        await settle()
        assert seen == ["a"]
        release.set()
        await until(lambda: len(queue) == 0)
        assert seen == ["a", "a"]
        workers.cancel()

    run(scenario)


def test_a_queue_after_another_waits_while_the_other_has_keys_waiting() -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        order: list[str] = []

        async def enforce(key: str) -> None:
            order.append(f"quota {key}")
            if key == "a":
                await release.wait()

        async def report(key: str) -> None:
            order.append(f"status {key}")

        quotas: WorkQueue[str] = WorkQueue(enforce, workers=1, logger=LOG, metrics=None)
        statuses: WorkQueue[str] = WorkQueue(report, workers=1, logger=LOG, after=quotas.drained, metrics=None)
        tasks = [asyncio.create_task(quotas.run()), asyncio.create_task(statuses.run())]
        quotas.add("a")
        await until(lambda: order == ["quota a"])
        quotas.add("b")  # waits behind "a"
        statuses.add("a")
        await settle()
        assert order == ["quota a"], "a status was written while a quota was waiting"
        release.set()
        await until(lambda: len(statuses) == 0 and len(quotas) == 0)
        assert order == ["quota a", "quota b", "status a"]
        for task in tasks:
            task.cancel()

    run(scenario)
