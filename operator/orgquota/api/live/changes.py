"""A broadcast of "the API's memory changed" to any number of event streams.

One `asyncio.Event` per generation rather than a queue per stream: a change costs one `set()`
however many streams wait, and a stream that was busy when several changes came wakes once.
"""

from __future__ import annotations

import asyncio


class Changes:
    def __init__(self) -> None:
        self._next = asyncio.Event()
        self.count = 0
        """changes notified so far"""

    def notify(self) -> None:
        """Something changed: wake every stream waiting for the next change."""
        self.count += 1
        current, self._next = self._next, asyncio.Event()
        current.set()

    def next(self) -> asyncio.Event:
        """Set at the next change; take it before reading the memory, so that no change is missed."""
        return self._next
