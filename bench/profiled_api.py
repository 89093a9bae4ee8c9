"""`orgquota api` under cProfile, for `bench.billing_api --profile`: the stats are written when it stops.

The clock is the thread's CPU time (on a busy machine, wall time blames whatever was running).
uvicorn re-raises the SIGTERM it caught once it has shut down, which would end the process before
`python -m cProfile` writes anything; the handler it restores and re-raises is this one.
"""

from __future__ import annotations

import cProfile
import signal
import sys
import time
from types import FrameType

from orgquota.cli import main


def profiled(stats_file: str, argv: list[str]) -> None:
    profiler = cProfile.Profile(time.thread_time)

    def stop(signum: int, frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(stats_file)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    profiler.enable()
    main(argv)


if __name__ == "__main__":
    profiled(sys.argv[1], sys.argv[2:])
