"""The start-up line: once every organization that existed at start is reconciled, the operator
says so, with how long it took (benchmarks and operators' dashboards wait for it)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from orgquota.controller.inventory import OrgKey

logger = logging.getLogger(__name__)


class StartupProgress:
    def __init__(self, known: Callable[[], int]) -> None:
        self._known = known
        """how many organizations the operator knows (for the line)"""
        self._waiting: set[OrgKey] = set()
        self._started = 0.0

    def start(self) -> None:
        self._started = time.monotonic()

    def expect(self, key: OrgKey) -> None:
        """`key` existed at start: the line waits for its reconcile."""
        self._waiting.add(key)

    def listed(self) -> None:
        """The start-up LIST is complete; with no organization at all, start-up is already over."""
        if not self._waiting:
            self._announce()

    def reconciled(self, key: OrgKey) -> None:
        if key in self._waiting:
            self._waiting.discard(key)
            if not self._waiting:
                self._announce()

    def _announce(self) -> None:
        elapsed = time.monotonic() - self._started
        logger.info("startup: %d organizations reconciled in %.2fs", self._known(), elapsed)
