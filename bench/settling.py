"""Waiting until the operator is done with a change: all organizations reconciled, and no write
for longer than it may defer one."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from bench.api import request_diff, writes_summary
from bench.measure import QUEUE_DEPTH, RECONCILES_TOTAL
from bench.operator import Operator
from bench.phases import Run


async def wait_reconciled(
    run: Run,
    operator: Operator,
    n: int,
    counts: Counter[tuple[str, str, str, str]],
    metrics: Mapping[str, float] | None,
    within: float,
) -> str:
    """Wait until the operator has reconciled all N organizations since `counts`/`metrics` were taken.

    Its own metrics when it has them (reconciles +N, queue depth 0); otherwise the apiserver's
    GET count of LimitRanges (+N: the operator of commit caf05a2 reads each one once per reconcile).
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if metrics is not None and RECONCILES_TOTAL in metrics:
            now = await operator.metrics() or {}
            done = now.get(RECONCILES_TOTAL, 0.0) - metrics[RECONCILES_TOTAL] >= n
            if done and now.get(QUEUE_DEPTH, 0.0) == 0:
                return f"operator metrics: {RECONCILES_TOTAL} +N and {QUEUE_DEPTH} 0"
        else:
            gets = (await run.api.request_counts())[("GET", "", "limitranges", "")]
            if gets - counts[("GET", "", "limitranges", "")] >= n:
                return "apiserver: N more GETs of LimitRanges"
    raise TimeoutError(f"the operator did not reconcile all {n} organizations within {within:.0f}s")


async def settle(run: Run, within: float) -> dict[str, Any]:
    """Wait until the operator has written nothing for longer than its usage interval, and count
    what it wrote meanwhile: status writes it defers (`ORGQUOTA_USAGE_INTERVAL`) must not land in
    the next phase's count.
    """
    interval = getattr(run.settings, "usage_interval", None)
    window = (interval.total_seconds() if interval is not None else 0.0) + 3.0
    start = await run.api.request_counts()
    began = last_change = time.monotonic()
    written = 0
    while time.monotonic() - last_change < window:
        await asyncio.sleep(1.0)
        now_written = writes_summary(request_diff(start, await run.api.request_counts()))["operator"]
        if now_written != written:
            written, last_change = now_written, time.monotonic()
        if time.monotonic() - began > within:
            raise TimeoutError(f"the operator kept writing for {within:.0f}s")
    summary = writes_summary(request_diff(start, await run.api.request_counts()))
    return {
        "quiet_window_s": window,
        "last_write_after_s": round(last_change - began, 1) if summary["operator"] else None,
        "operator_writes": summary["operator"],
        "by_request": summary["by_request"],
    }
