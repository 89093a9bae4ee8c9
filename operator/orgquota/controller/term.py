"""A leadership term: the reconciling handlers (`handlers.REGISTRY`) in a Kopf run of their own, in a
thread of its own, from a fresh start to Kopf's stop flag.

Why a whole Kopf run per term: it starts from nothing that an earlier term or a standby saw (a
fresh memo, the start-up LISTs, then Kopf's own LIST and WATCH), so the first write of a new
leader is computed from objects read after it won; and Kopf's `stop_flag` ends every watch,
handler and task of the term together. Why a thread: the process's other Kopf run (the webhooks,
the liveness endpoint) and the election live on the main event loop for the process's whole
life, and a Kopf run that ends cancels every task of its loop; a loop of its own also keeps a
busy fan-out from delaying a renew of the Lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import kopf

from orgquota.controller import handlers
from orgquota.controller.memo import OperatorMemo
from orgquota.controller.settings import Settings
from orgquota.kube.fence import WriteFence

logger = logging.getLogger(__name__)


class _NotInMainThread(logging.Filter):
    """Kopf says at every start outside the main thread that it ignores OS signals: here that is the
    design (the process's main loop handles them), not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "running not in the main thread" not in record.getMessage()


logging.getLogger("kopf._core.reactor.running").addFilter(_NotInMainThread())


class KopfTerm:
    def __init__(self, config: Settings, fence: WriteFence | None) -> None:
        self.fence = fence
        self.memo = OperatorMemo(config, fence)
        self._main_loop = asyncio.get_running_loop()
        self._ended: asyncio.Future[None] = self._main_loop.create_future()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_flag: asyncio.Event | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="orgquota-term", daemon=True)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Raise the term's stop flag; what it exported goes at once, before its handlers have ended."""
        with self._lock:
            self._stopping = True
            if self._loop is not None and self._stop_flag is not None:
                self._loop.call_soon_threadsafe(self._stop_flag.set)
        reconciler = getattr(self.memo, "reconciler", None)  # unset until the term's start-up built it
        if reconciler is not None:
            reconciler.org_metrics.clear()

    async def ended(self) -> None:
        await asyncio.shield(self._ended)

    def _run(self) -> None:
        try:
            asyncio.run(self._operate())
        except BaseException:
            logger.exception("the reconciling Kopf run failed")
        finally:
            with contextlib.suppress(RuntimeError):  # the process's loop has closed: nobody waits any more
                self._main_loop.call_soon_threadsafe(self._done)

    def _done(self) -> None:
        if not self._ended.done():
            self._ended.set_result(None)

    async def _operate(self) -> None:
        stop_flag = asyncio.Event()
        with self._lock:
            self._loop, self._stop_flag = asyncio.get_running_loop(), stop_flag
            if self._stopping:
                stop_flag.set()
        await kopf.operator(
            registry=handlers.REGISTRY,
            memo=self.memo,
            standalone=True,
            clusterwide=True,
            stop_flag=stop_flag,
        )
