"""`orgquota run` under tracemalloc: on SIGUSR1, what the operator's live memory was allocated by.

Used by `python -m bench.run --tracemalloc` (a separate run: tracing slows the operator several-fold).
The report is JSON at the path given as the first argument: totals, and the live bytes grouped by
the innermost frame, the innermost orgquota frame and the innermost kopf frame of each allocation.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType

from orgquota.cli import main

FRAMES = int(os.environ.get("BENCH_TRACE_FRAMES", "10"))
"""frames kept per allocation: more attributes better and slows the operator more"""


def _first(traceback: tracemalloc.Traceback, fragment: str) -> str:
    """The innermost frame of the allocation whose file contains `fragment` (tracebacks are innermost-last)."""
    for frame in reversed(traceback):
        if fragment in frame.filename:
            return f"{frame.filename.split(fragment, 1)[1]}:{frame.lineno}"
    return f"(no {fragment.strip('/')} frame)"


def dump(out: Path) -> None:
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
    )
    groups: dict[str, Counter[str]] = {"innermost": Counter(), "orgquota": Counter(), "kopf": Counter()}
    counts: Counter[str] = Counter()
    total = 0
    for stat in snapshot.statistics("traceback"):
        total += stat.size
        innermost = stat.traceback[-1]
        groups["innermost"][f"{innermost.filename}:{innermost.lineno}"] += stat.size
        groups["orgquota"][_first(stat.traceback, "orgquota/")] += stat.size
        groups["kopf"][_first(stat.traceback, "kopf/")] += stat.size
        counts[_first(stat.traceback, "orgquota/")] += stat.count
    report = {
        "traced_live_mb": round(total / 2**20, 2),
        "traced_peak_mb": round(tracemalloc.get_traced_memory()[1] / 2**20, 2),
        **{
            f"by_{name}_frame_kb": [[where, round(size / 1024, 1)] for where, size in group.most_common(25)]
            for name, group in groups.items()
        },
        "blocks_by_orgquota_frame": counts.most_common(25),
    }
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.rename(out)


def run(argv: list[str]) -> None:
    out = Path(argv[0])

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        dump(out)

    tracemalloc.start(FRAMES)
    signal.signal(signal.SIGUSR1, on_signal)
    main(["run"])


if __name__ == "__main__":
    run(sys.argv[1:])
