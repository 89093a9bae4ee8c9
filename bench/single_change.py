"""Phase 5: one organization's plan changed again and again while the operator is idle; the
latency until its HRQ shows each change."""

from __future__ import annotations

import time

from bench.measure import percentile
from bench.operator import Operator
from bench.phases import OTHER_PLAN, PLAN, Run
from bench.report import log
from bench.watch import Watcher, hrq_matches, status_plan_is
from orgquota.core.annotations import PLAN_ID
from orgquota.kube.client import ORGANIZATION


async def single_changes(run: Run, operator: Operator, hrqs: Watcher, limit_ranges: Watcher) -> None:
    """One organization's plan-id flipped `changes` times; each time, latency until its HRQ shows it."""
    changes = run.result["single_change_count"]
    name = run.orgs[0]
    desired = {plan: run.desired(plan) for plan in (PLAN, OTHER_PLAN)}
    status = Watcher(run.api, ORGANIZATION.path(name), f"metadata.name={name}")
    await status.start()
    latencies: list[float] = []
    settle: list[float] = []
    log(f"N={run.n}: {changes} single plan changes on {name}")
    try:
        for i in range(changes):
            plan = OTHER_PLAN if i % 2 == 0 else PLAN
            expect = hrqs.expect({name}, hrq_matches(desired[plan]))
            expect_status = status.expect({name}, status_plan_is(plan))
            sent = time.monotonic()
            await run.api.kube.merge_patch(
                ORGANIZATION.path(name, name), {"metadata": {"annotations": {PLAN_ID: plan}}}
            )
            latencies.append(await hrqs.wait(expect, 30, "single change") - sent)
            # Idle between changes: the status is the reconcile's last write; then no CPU for 0.2 s
            # (the echo reconciles triggered by the operator's own HRQ/LimitRange writes).
            await status.wait(expect_status, 30, "single change status")
            settle.append(await operator.wait_cpu_idle(quiet=0.2, poll=0.02) - sent)
    finally:
        await status.stop()
    ms = [1000 * v for v in latencies]
    run.result["single_change"] = {
        "changes": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p90_ms": round(percentile(ms, 90), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
        "min_ms": round(min(ms), 1),
        "until_operator_idle_p50_ms": round(percentile([1000 * v for v in settle], 50), 1),
        "method": "merge-patch of the plan-id annotation (what kubectl annotate sends), "
        "HRQ update seen by a watch; alternating scale-pool / pro-pool",
    }
