"""One operator process and its leadership: a term (the reconciling part, fresh) while it holds the
Lease, none while it stands by, and on a graceful stop the Lease handed over at once.

Without leader election (a lone process) there is one term for the process's life and no fence.
With it, each term gets the fence the election keeps open while the Lease is held and fresh: the
term's writes stop by the clock the moment it is not, and its work stops as soon as the election
notices (`deposed`), which also clears what the term exported. A new term starts only after the
previous one has ended, so two terms of one process never overlap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final, Protocol

from orgquota.controller.metrics import LEADER
from orgquota.controller.settings import Settings
from orgquota.core.lease import LEASE_NAME
from orgquota.kube.client import Kube
from orgquota.kube.fence import WriteFence
from orgquota.kube.lease import Elector

logger = logging.getLogger(__name__)

LEASE_CONNECTIONS: Final = 2
"""the election's own pool: a renew never waits behind the quota writes"""
IN_FLIGHT_WAIT: Final = 1.0
"""how long a graceful stop waits for its writes in flight to be answered before releasing the Lease"""
TERM_END_WAIT: Final = 15.0
"""how long a graceful stop waits for the term to end (its Lease already handed over, its writes
fenced), well within a pod's 30 s termination grace period"""


class Term(Protocol):
    """The reconciling part for one term (controller/term.py runs it as a Kopf run of its own)."""

    fence: WriteFence | None

    def start(self) -> None: ...

    def stop(self) -> None:
        """Ask it to end; returns at once."""

    @property
    def stopping(self) -> bool: ...

    async def ended(self) -> None: ...


class Replica:
    def __init__(
        self, config: Settings, new_term: Callable[[WriteFence | None], Term], kube: Kube | None = None
    ) -> None:
        self.config = config
        self._new_term = new_term
        self.term: Term | None = None
        self.elector: Elector | None = None
        self.failed = asyncio.Event()
        """a term ended by itself (its Kopf run failed): the process must stop"""
        self._kube = kube
        """the election's client (default: its own connection to the apiserver)"""
        self._starting: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Lead when elected (at once without leader election), until cancelled."""
        LEADER.set(0)
        config = self.config
        if not config.leader_election:
            self._elected(None)
            await asyncio.Event().wait()
        if self._kube is None:
            self._kube = await Kube.connect(max_connections=LEASE_CONNECTIONS)
        self.elector = Elector(
            self._kube, config.lease_namespace, config.identity, config.lease_timings, self._elected, self._deposed
        )
        logger.info(
            "leader election: Lease %s/%s as %s (duration %ss, renew deadline %ss, retry %ss)",
            config.lease_namespace,
            LEASE_NAME,
            config.identity,
            config.lease_duration,
            config.lease_renew_deadline,
            config.lease_retry_period,
        )
        await self.elector.run()

    async def shutdown(self) -> None:
        """A graceful stop (after `run` was cancelled): writes end now, the term is asked to stop, and
        once the writes in flight are answered the Lease is handed over; then the term is awaited."""
        for starting in self._starting:
            starting.cancel()
        await asyncio.gather(*self._starting, return_exceptions=True)
        term = self.term
        if term is not None:
            if term.fence is not None:
                term.fence.close()
            term.stop()
            if term.fence is not None:  # its writes are sent from the term's own thread
                await asyncio.to_thread(term.fence.wait_answered, IN_FLIGHT_WAIT)
        if self.elector is not None:
            await self.elector.release()
        LEADER.set(0)
        if term is not None:
            try:
                await asyncio.wait_for(term.ended(), TERM_END_WAIT)
            except TimeoutError:
                logger.warning("the reconciling part did not end within %.0fs; stopping anyway", TERM_END_WAIT)
        if self._kube is not None:
            await self._kube.close()

    def _elected(self, fence: WriteFence | None) -> None:
        LEADER.set(1)
        previous = self.term
        task = asyncio.get_running_loop().create_task(self._start(previous, fence), name="orgquota-term-start")
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    def _deposed(self) -> None:
        LEADER.set(0)
        if self.term is not None:
            self.term.stop()

    async def _start(self, previous: Term | None, fence: WriteFence | None) -> None:
        if previous is not None:
            await previous.ended()
        if fence is not None and not fence.is_open():
            return  # lost again while the previous term wound down
        term = self.term = self._new_term(fence)
        term.start()
        await term.ended()
        if not term.stopping:
            logger.error("the reconciling part ended by itself: stopping the process")
            self.failed.set()
