"""The write fence: no write leaves a replica that does not hold the Lease, fresh, at the moment it sends.

The client (`Kube`) asks the fence before every write attempt, and again after a write has waited
for a free connection, so a replica that missed its renew deadline, was paused or lost the Lease
refuses its own writes by its clock, before any loop notices and stops its work. Each leadership
term has a fence of its own: a closed one never opens again, so the writes of a term that ended
cannot pass on the strength of the next one. The election (another thread's event loop, maybe)
moves the deadline; the writers read it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Fenced(Exception):
    """A write refused by the fence: this replica does not lead (any more)."""

    def __init__(self, method: str, path: str) -> None:
        super().__init__(f"{method} {path}: refused, this replica does not hold the Lease")


class WriteFence:
    """Open until `deadline` (monotonic seconds) unless closed; counts the writes in flight."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._deadline = 0.0
        self._closed = False
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._in_flight = 0

    def extend(self, deadline: float) -> None:
        """Open until `deadline` (a later renew; never shortens, never reopens a closed fence)."""
        with self._lock:
            self._deadline = max(self._deadline, deadline)

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def is_open(self) -> bool:
        return not self._closed and self._clock() < self._deadline

    def check(self, method: str, path: str) -> None:
        """Raise `Fenced` unless a write may be sent now."""
        if not self.is_open():
            raise Fenced(method, path)

    @contextmanager
    def writing(self, method: str, path: str) -> Iterator[None]:
        """One write, checked now and counted in flight until it is answered (or fails)."""
        self.check(method, path)
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._answered.notify_all()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def wait_answered(self, timeout: float) -> bool:
        """Block until no write is in flight (or `timeout` seconds passed): whether none is."""
        with self._lock:
            return self._answered.wait_for(lambda: not self._in_flight, timeout)
