"""`orgquota run`: one operator process, on its main event loop for its whole life: the admission Kopf
run (webhooks, liveness endpoint), the election (`leadership.Replica`) and the signals; the
reconciling part runs per leadership term (controller/term.py).

SIGTERM or SIGINT is a graceful stop: writes end at once, the term is asked to stop, the Lease is
handed over as soon as the writes in flight are answered (the other replica takes over at once),
and the webhooks are served until the term has ended.
"""

from __future__ import annotations

import asyncio
import signal

import kopf

from orgquota.controller import kopf_tuning, webhooks
from orgquota.controller.leadership import Replica
from orgquota.controller.memo import AdmissionMemo
from orgquota.controller.settings import Settings
from orgquota.controller.term import KopfTerm


async def run(config: Settings) -> None:
    """Until SIGTERM/SIGINT; SystemExit(1) when the reconciling part failed by itself."""
    loop = asyncio.get_running_loop()
    stop, admission_stop = asyncio.Event(), asyncio.Event()
    existing = asyncio.all_tasks()
    admission_tasks = await kopf.spawn_tasks(
        registry=webhooks.REGISTRY if config.webhooks else kopf_tuning.registry(),
        memo=AdmissionMemo(config),
        standalone=True,
        clusterwide=True,
        liveness_endpoint=f"http://0.0.0.0:{config.health_port}/healthz" if config.health_port else None,
        stop_flag=admission_stop,
    )
    for signum in (signal.SIGINT, signal.SIGTERM):  # after Kopf's own handlers, which they replace
        loop.add_signal_handler(signum, stop.set)
    admission = asyncio.create_task(kopf.run_tasks(admission_tasks, ignored=existing), name="orgquota-admission")
    replica = Replica(config, lambda fence: KopfTerm(config, fence))
    leading = asyncio.create_task(replica.run(), name="orgquota-leadership")
    stopped, failed = asyncio.create_task(stop.wait()), asyncio.create_task(replica.failed.wait())
    await asyncio.wait({stopped, failed, admission, leading}, return_when=asyncio.FIRST_COMPLETED)
    for task in (leading, stopped, failed):
        task.cancel()
    await asyncio.gather(leading, stopped, failed, return_exceptions=True)
    await replica.shutdown()
    admission_stop.set()
    await admission
    if leading.done() and not leading.cancelled() and leading.exception() is not None:
        raise leading.exception()  # type: ignore[misc]
    if replica.failed.is_set():
        raise SystemExit(1)
