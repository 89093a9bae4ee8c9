"""`make bench`: how orgquota scales with the number of Organizations.

For each `--orgs N` this starts a fresh local control plane (or uses $KUBECONFIG), installs the
CRDs and the example plan catalog, runs the operator as a separate process (`python -m orgquota
run`, as in the e2e tests) and measures, in one run:

1. initial convergence: N namespaces + N Organizations (pro-pool, active) exist, the operator
   starts, time until every organization has its HRQ and LimitRange (seen through watches);
   against a bare-client bound: the same HRQ + LimitRange creates (same bodies, same client
   library `orgquota.kube.client.Kube`, same number of workers) on N fresh namespaces;
2. catalog fan-out: pro-pool's requests.cpu is edited, time until every HRQ shows it; against
   the bare client merge-patching the same N HRQs;
3. a no-op catalog edit (pro-pool's displayName): the writes the apiserver served, from its
   own `/metrics` (`apiserver_request_total`), once the operator has processed it;
4. a restart with everything converged: writes, and time until the operator logs `startup:`;
5. one organization's plan-id changed 200 times while idle: latency until the HRQ shows it
   (watch), p50/p99;
6. operator peak RSS and CPU seconds (from /proc), per phase, beside the apiserver's, etcd's
   and everything else's CPU time (the machine may be shared).

The bare-client phases run before the operator starts, and their objects are deleted again, so
the operator never sees them. Results: a JSON file (`bench/results/<timestamp>.json` or `--out`)
and a Markdown table, printed and written beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bench.api import Api
from bench.cluster import cluster_for
from bench.measure import LoadSampler, code_version, loadavg, machine_facts
from bench.operator_phases import execute
from bench.phases import Run
from bench.report import RESULTS_DIR, log, write_report
from orgquota.controller.settings import Settings

DESCRIPTION: Final = "How orgquota scales with the number of Organizations; see bench/README.md."


async def bench_one(
    n: int, args: argparse.Namespace, settings: Settings, workdir: Path, result: dict[str, Any]
) -> None:
    """Fill `result` as the run goes (what was measured stays there if a later phase fails)."""
    run_dir = workdir / f"n{n}"
    run_dir.mkdir(parents=True, exist_ok=True)
    load_before = loadavg()
    async with (
        cluster_for(run_dir) as (cluster, procs, kind),
        Api(cluster.kubeconfig, max_connections=args.workers * 2) as api,
    ):
        run = Run(
            n=n,
            cluster=cluster,
            api=api,
            procs=procs,
            settings=settings,
            workers=args.workers,
            workdir=run_dir,
            py_spy=args.py_spy,
            prefix=f"b{uuid.uuid4().hex[:5]}",
            tracemalloc=args.tracemalloc,
            result=result,
        )
        result.update(
            {
                "cluster": kind,
                "apiserver_version": await api.server_version(),
                "single_change_count": args.changes,
                "loadavg_before": load_before,
            }
        )
        sampler = LoadSampler()
        sampler.start()
        began = time.monotonic()
        try:
            await execute(run)
        finally:
            run.result["load"] = await sampler.stop()
            run.result["wall_s"] = round(time.monotonic() - began, 1)


async def main_async(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.workers is None:
        args.workers = settings.workers
    if os.environ.get("KUBECONFIG") and len(args.orgs) > 1:
        log("with $KUBECONFIG the objects of one N stay in the cluster and skew the next: pass one --orgs")
        return 2
    started = datetime.now(UTC)
    out: Path = args.out or RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="orgquota-bench-"))
    report: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "code": code_version(),
        "workers": args.workers,
        "argv": sys.argv[1:],
        "runs": [],
    }
    failed = False
    try:
        for n in args.orgs:
            result: dict[str, Any] = {"n": n}
            report["runs"].append(result)
            try:
                await bench_one(n, args, settings, workdir, result)
            except Exception as exc:
                log(f"N={n} failed: {exc!r}")
                result["error"] = repr(exc)
                failed = True
                if not args.keep_going:
                    raise
            finally:
                write_report(out, report)
    finally:
        report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        report["loadavg_end"] = loadavg()
        print(write_report(out, report))
        log(f"results: {out} and {out.with_suffix('.md')}")
        if args.keep_workdir:
            log(f"work dir (operator logs, raw profiles): {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=DESCRIPTION)
    parser.add_argument("--orgs", type=int, nargs="+", default=[1000], help="N organizations, one run each")
    parser.add_argument("--out", type=Path, help="JSON output (default bench/results/<timestamp>.json)")
    parser.add_argument("--workers", type=int, help="ORGQUOTA_WORKERS for the operator and the bare client")
    parser.add_argument("--changes", type=int, default=200, help="single plan changes to time (phase 5)")
    parser.add_argument(
        "--py-spy",
        metavar="PATH",
        help="profile the operator with this py-spy during initial convergence, fan-out and restart "
        "(perturbs the timings: use for a separate run)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="run the operator under tracemalloc and report what its memory holds after convergence "
        "and after the restart (slows the operator: use for a separate run)",
    )
    parser.add_argument("--keep-workdir", action="store_true", help="keep operator logs and raw profiles")
    parser.add_argument("--keep-going", action="store_true", help="go on with the next N after a failure")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
