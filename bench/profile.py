"""Where the operator's CPU went: a py-spy raw profile summarized by activity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

# Where a py-spy sample belongs. Main-thread samples are attributed to the callback the event loop
# was running (the frame after the last `Handle._run`): for a task, its outermost coroutine.
ACTIVITIES: Final = (
    ("WorkQueue._work", "orgquota reconciles (WorkQueue._work)"),
    ("EventRecorder._send", "orgquota Event posting (EventRecorder._send)"),
    ("startup_cleanup_activities", "orgquota start handler (initial lists, observe)"),
    ("Scheduler._task_", "kopf scheduler (per-object worker tasks)"),
    ("_release_waiter", "asyncio wake-ups (timeouts, waiters)"),
    ("process_resource_event", "kopf event processing (handlers, diff-base, loggers)"),
    ("worker (kopf/", "kopf event processing (handlers, diff-base, loggers)"),
    ("watcher (kopf/", "kopf watch streams (decode, multiplex)"),
    ("guard (kopf/", "kopf watch streams (decode, multiplex)"),
    ("_read_ready", "socket reads + TLS (responses, watch streams)"),
    ("write_bytes", "request body writes + TLS"),
    ("_read_from_self", "event loop wake-ups from executor threads"),
    ("_set_state", "event loop wake-ups from executor threads"),
)
THREAD_ACTIVITIES: Final = (
    ("_get_netrc_auth", "thread: aiohttp trust_env netrc lookup, per request"),
    ("netrc", "thread: aiohttp trust_env netrc lookup, per request"),
    ("get_env_proxy_for_url", "thread: aiohttp trust_env proxy lookup, per request"),
    ("orgquota/handlers.py", "thread: kopf runs the sync handlers in an executor"),
    ("call_soon_threadsafe", "thread: executor hop completions (call_soon_threadsafe)"),
    ("kopf/", "thread: kopf (other)"),
)
# Inside a reconcile (inclusive): which parts of the operator's own code cost what.
RECONCILE_PARTS: Final = (
    ("EventRecorder.record", "posting Events"),
    ("Logger.", "logging (format + write)"),
    ("Kube.request", "HTTP requests (client + TLS + JSON)"),
    ("desired_quota", "desired_quota"),
    ("hard_patch", "comparing HRQs (Quantity parsing)"),
    ("limit_range_patch", "comparing LimitRanges (Quantity parsing)"),
    ("quota_status", "building the status"),
)
KOPF_PARTS: Final = (
    ("invoke (kopf/", "invoking handlers (sync ones via an executor)"),
    ("DiffBaseStorage.build", "diff-base essence (deepcopy of every body)"),
    ("ObjectLogger.__init__", "per-event object loggers"),
    ("ProgressStorage", "progress storage"),
)


def _activity(frames: Sequence[str]) -> str:
    if not frames[0].startswith("_run_module_as_main"):
        for fragment, label in THREAD_ACTIVITIES:
            if any(fragment in frame for frame in frames):
                return label
        if frames[-1].startswith("_worker (concurrent/futures/thread.py"):
            return "thread: executor worker waiting (idle, counted by --nonblocking sampling)"
        return "thread: other"
    handles = [i for i, frame in enumerate(frames) if frame.startswith("Handle._run")]
    if not handles:
        return "event loop itself (select, scheduling) and start-up imports"
    callback = ";".join(frames[handles[-1] + 1 : handles[-1] + 3])
    for fragment, label in ACTIVITIES:
        if fragment in callback:
            return label
    return "other callbacks"


def summarize_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Where the samples of a py-spy raw (collapsed) profile went: by activity, and inside the big ones."""
    if not path.exists():
        return {"error": f"no profile written at {path}"}
    activities: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    reconcile: Counter[str] = Counter()
    kopf: Counter[str] = Counter()
    total = reconciling = kopf_total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        activity = _activity(frames)
        if "idle" in activity:
            continue  # not CPU time
        total += count
        activities[activity] += count
        leaf[frames[-1]] += count
        if activity.startswith("orgquota reconciles"):
            reconciling += count
            for fragment, label in RECONCILE_PARTS:
                if any(fragment in frame for frame in frames):
                    reconcile[label] += count
        elif activity.startswith("kopf event processing"):
            kopf_total += count
            for fragment, label in KOPF_PARTS:
                if any(fragment in frame for frame in frames):
                    kopf[label] += count

    def share(counter: Counter[str], of: int) -> list[list[Any]]:
        return [[name, round(100 * n / of, 1)] for name, n in counter.most_common(top)] if of else []

    return {
        "busy_samples": total,
        "busy_seconds_at_100hz": round(total / 100, 1),
        "by_activity_pct": share(activities, total),
        "inside_reconciles_pct_of_reconcile": share(reconcile, reconciling),
        "inside_kopf_event_processing_pct_of_it": share(kopf, kopf_total),
        "top_leaf_functions_pct": share(leaf, total),
        "raw": str(path),
    }
