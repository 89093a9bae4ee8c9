"""`python -m bench.versions`: the operator's CPU cost, compared between builds on one control plane.

On a machine shared with other work, the wall times of `bench.run` vary between runs more than
the difference between two builds, and two runs never see the same load. This takes the builds
in turn, round after round, on one control plane with the same N organizations; each start of a
build does one catalog fan-out and the single plan changes of phase 5, and what is compared is
the operator's own CPU time (utime + stime) per fan-out and per change, beside the latencies.

    .venv/bin/python -m bench.versions --rounds 4 --changes 100 \\
        before=../presplit/.venv/bin/python after=.venv/bin/python

A build is a Python interpreter whose `orgquota` is the one to measure (a worktree's venv). The
catalog must be one every build accepts (`--catalog`, a ConfigMap manifest; default the example).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import yaml

from bench.api import Api
from bench.cluster import cluster_for
from bench.measure import cpu_seconds, loadavg, machine_facts
from bench.operator import Operator
from bench.phases import FANOUT_EDIT, PLAN, Run, edit_catalog
from bench.report import RESULTS_DIR, log
from bench.single_change import single_changes
from bench.watch import Watcher, exists, hrq_matches
from localcluster.controlplane import free_ports
from orgquota.controller.settings import Settings
from orgquota.core import manifests
from orgquota.kube.client import HRQ, LIMIT_RANGE
from tests.support.files import CATALOG_FILE

WORKERS: Final = 16
FIGURES: Final = ("fanout_cpu_s", "single_cpu_ms_per_change", "single_p50_ms", "single_p99_ms", "fanout_s")


async def started_watch(run: Run, path: str, name: str) -> Watcher:
    """A watch of the managed objects named `name`; retried while the apiserver's new storage warms up."""
    for _ in range(20):
        watcher = Watcher(run.api, path, f"metadata.name={name}")
        try:
            await watcher.start()
            return watcher
        except TimeoutError:
            await watcher.stop()
            await asyncio.sleep(3)
    raise TimeoutError(f"no watch of {path}")


async def one_build(run: Run, python: str, log_path: Path, hrqs: Watcher, limit_ranges: Watcher) -> dict[str, Any]:
    """Start the build on the converged organizations, fan out (the catalog edit toggles), time the changes."""
    env = {**run.cluster.env, "ORGQUOTA_WORKERS": str(WORKERS), "ORGQUOTA_METRICS_PORT": str(free_ports(1)[0])}
    operator = Operator(env, log_path, None)
    operator.command = [python, "-m", "orgquota", "run"]
    operator.launch()
    try:
        timeout = 120 + run.n * 0.2
        await hrqs.wait(hrqs.expect(run.orgs, exists), timeout, "start")
        await operator.wait_startup(timeout)
        await operator.wait_cpu_idle(quiet=1.0)
        figures: dict[str, Any] = {"loadavg_1m": loadavg()[0]}
        before, after = FANOUT_EDIT  # one build edits it, the next edits it back
        text = edit_catalog(run.catalog_text, FANOUT_EDIT if before in run.catalog_text else (after, before))
        expect = hrqs.expect(run.orgs, hrq_matches(run.desired(PLAN, text)))
        cpu, sent = cpu_seconds(operator.pid), time.monotonic()
        await run.set_catalog(text)
        figures["fanout_s"] = round(await hrqs.wait(expect, timeout, "fan-out") - sent, 2)
        await operator.wait_cpu_idle(quiet=1.0)
        figures["fanout_cpu_s"] = round(cpu_seconds(operator.pid) - cpu, 2)
        cpu = cpu_seconds(operator.pid)
        await single_changes(run, operator, hrqs, limit_ranges)  # each change ends once the operator is idle
        changes = run.result["single_change"]
        figures["single_cpu_ms_per_change"] = round(1000 * (cpu_seconds(operator.pid) - cpu) / changes["changes"], 2)
        figures["single_p50_ms"], figures["single_p99_ms"] = changes["p50_ms"], changes["p99_ms"]
        return figures
    finally:
        operator.stop()


async def compare(args: argparse.Namespace, builds: dict[str, str]) -> dict[str, Any]:
    settings = Settings.from_env()
    workdir = Path(tempfile.mkdtemp(prefix="orgquota-versions-"))
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "builds": builds,
        "n": args.orgs,
        "changes": args.changes,
        "rounds": {name: [] for name in builds},
    }
    async with (
        cluster_for(workdir) as (cluster, procs, _),
        Api(cluster.kubeconfig, max_connections=WORKERS * 2) as api,
    ):
        run = Run(args.orgs, cluster, api, procs, settings, WORKERS, workdir, None, f"v{uuid.uuid4().hex[:5]}")
        await run.setup()
        run.catalog_text = yaml.safe_load(args.catalog.read_text())["data"]["plans.yaml"]
        await run.set_catalog(run.catalog_text)
        run.result["single_change_count"] = args.changes
        await run.create_objects()
        hrqs = await started_watch(run, HRQ.path(""), manifests.HRQ_NAME)
        limit_ranges = await started_watch(run, LIMIT_RANGE.path(""), manifests.LIMIT_RANGE_NAME)
        try:
            for round_ in range(args.rounds):
                for name, python in builds.items():
                    log(f"round {round_ + 1}/{args.rounds}: {name}")
                    figures = await one_build(run, python, workdir / f"operator-{name}.log", hrqs, limit_ranges)
                    report["rounds"][name].append(figures)
                    log(f"{name}: {figures}")
        finally:
            await hrqs.stop()
            await limit_ranges.stop()
    report["median"] = {
        name: {key: round(statistics.median(r[key] for r in rounds), 2) for key in FIGURES}
        for name, rounds in report["rounds"].items()
        if rounds
    }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.versions", description=__doc__.split("\n")[0])
    parser.add_argument("builds", nargs="+", metavar="NAME=PYTHON", help="a build: a name and its interpreter")
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--changes", type=int, default=100, help="single plan changes per build and round")
    parser.add_argument("--catalog", type=Path, default=CATALOG_FILE, help="the catalog ConfigMap every build accepts")
    parser.add_argument("--out", type=Path, help="JSON output (default bench/results/<timestamp>-versions.json)")
    args = parser.parse_args(argv)
    builds = dict(build.split("=", 1) for build in args.builds)
    report = asyncio.run(compare(args, builds))
    out: Path = args.out or RESULTS_DIR / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-versions.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    for name, figures in report["median"].items():
        print(f"{name}: " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
