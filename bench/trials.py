"""`python -m bench.trials`: N trials that end in the same second, against a bare client (not a timed test).

A fresh local control plane (or $KUBECONFIG's cluster), N Organizations on `pro-pool`, `trialing`, all
with the same `trial-ends-at` 14 days from now. The operator's clock is faked by its setting
`ORGQUOTA_CLOCK_OFFSET` (no sleep for 14 days): each phase launches it with the offset that makes the
trials end a set time after launch, once it has converged.

1. converge: one operator reconciles every trialing organization (status, HRQ), then stops.
2. bare client: on N other Organizations made to look like the converged ones (the same annotations,
   status and HRQ, copied from one; created, then deleted before the timed operator starts), the same
   writes the operator makes when a trial ends, timed: merge-PATCH of the billing annotations
   (`subscription=suspended`, `suspended-at`) and of the HRQ's `spec.hard` to the floor, by `workers`
   workers. Objects of the same size matter: the apiserver decodes, validates and stores the whole
   object at each write, and an organization with its status costs it about twice one without.
3. one operator: from the end until the last HRQ shows the floor (a watch).
4. failover: every trial started again with a new end; two replicas with leader election; the leader
   is SIGTERMed 10 s before the end; from the end until the last HRQ shows the floor.

    .venv/bin/python -m bench.trials --orgs 1000

Results: bench/results/trials-<timestamp>.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from bench.api import Api
from bench.cluster import cluster_for
from bench.failover import Failover, Replica
from bench.measure import loadavg
from bench.phases import PLAN, SETUP_CONCURRENCY, catalog_of, org_manifest, pool, with_retries
from bench.report import log, saved_run
from bench.watch import Watcher, hrq_matches
from orgquota.controller.settings import Settings
from orgquota.core import annotations as ann
from orgquota.core import manifests
from orgquota.core.desired import DesiredQuota, desired_quota
from orgquota.core.timestamps import format_rfc3339
from orgquota.kube.client import HRQ, ORGANIZATION
from tests.support.operator_process import STARTED_LOG

TRIAL: Final = timedelta(days=14)
STOP_BEFORE: Final = 10.0
"""seconds before the end at which the leader is SIGTERMed"""


class Trials(Failover):
    """The failover bench's cluster, replicas and Lease, with trialing organizations."""

    ends: datetime = datetime.now(UTC)

    @property
    def orgs(self) -> list[str]:
        return [f"tr-org-{i:05d}" for i in range(self.n)]

    @property
    def bare(self) -> list[str]:
        return [f"tr-bare-{i:05d}" for i in range(self.n)]

    def trialing(self, ends: datetime) -> dict[str, str | None]:
        return {
            ann.PLAN_ID: PLAN,
            ann.SUBSCRIPTION: "trialing",
            ann.TRIAL_ENDS_AT: format_rfc3339(ends),
            ann.SUSPENDED_AT: None,
        }

    async def create(self, names: list[str], ends: datetime) -> float:
        kube = self.api.kube
        annotations = {k: v for k, v in self.trialing(ends).items() if v is not None}

        async def organization(name: str) -> None:
            namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            await with_retries(lambda: kube.create("/api/v1/namespaces", namespace))
            manifest = org_manifest(name, PLAN)
            manifest["metadata"]["annotations"] = annotations
            await with_retries(lambda: kube.create(ORGANIZATION.path(name), manifest))

        return await pool(names, organization, SETUP_CONCURRENCY)

    async def setup(self) -> float:
        """The example catalog and namespaces, the Lease's namespace, and N trialing organizations."""
        await self.prepare()
        log(f"trials N={self.n}: creating {self.n} namespaces + trialing Organizations")
        return await self.create(self.orgs, self.ends)

    def floor_quota(self) -> DesiredQuota:
        suspended = {ann.PLAN_ID: PLAN, ann.SUBSCRIPTION: "suspended"}
        return desired_quota(suspended, catalog_of(self.catalog_text), self.settings.quota)

    async def converge(self) -> None:
        """One operator, on the real time, reconciles every organization, then stops."""
        converging = self.launch("converge", "0s", election=False)
        await converging.operator.wait_startup(1800)
        await converging.operator.wait_cpu_idle(quiet=1.0, within=1800)
        converging.operator.stop()
        self.replicas.remove(converging)

    async def bare_client(self) -> float:
        """The same writes as the operator's when the trials end, by a plain loop of `workers` workers, on
        organizations and HRQs that are copies of a converged one (its annotations, status and HRQ)."""
        kube = self.api.kube
        model = await kube.get(ORGANIZATION.path(self.orgs[0], self.orgs[0]))
        model_hrq = await kube.get(HRQ.path(self.orgs[0], manifests.HRQ_NAME))
        assert model is not None, "the converged organization"
        assert model_hrq is not None, "the converged organization's HRQ"
        floor = self.floor_quota()
        await self.create(self.bare, self.ends)

        async def copy(name: str) -> None:
            await kube.merge_patch(ORGANIZATION.path(name, name, "status"), {"status": model["status"]})
            owner = manifests.owner_reference(name, str(uuid.uuid4()))
            kept = ("name", "labels", "annotations")
            metadata = {key: value for key, value in model_hrq["metadata"].items() if key in kept}
            body = {**model_hrq, "metadata": {**metadata, "namespace": name, "ownerReferences": [owner]}}
            body.pop("status", None)
            await kube.create(HRQ.path(name), body)

        await pool(self.bare, copy, self.workers)
        labels = model_hrq["metadata"].get("labels") or {}
        patch = manifests.hard_patch(model_hrq, floor.hard, labels)
        assert patch, "the floor must change the HRQ"
        stamp = format_rfc3339(datetime.now(UTC))

        async def end(name: str) -> None:
            suspended = {ann.SUBSCRIPTION: "suspended", ann.SUSPENDED_AT: stamp}
            await kube.merge_patch(ORGANIZATION.path(name, name), {"metadata": {"annotations": suspended}})
            await kube.merge_patch(HRQ.path(name, manifests.HRQ_NAME), patch)

        log(f"trials N={self.n}: bare client: {self.n} x (PATCH annotations, PATCH HRQ), {self.workers} workers")
        took = await pool(self.bare, end, self.workers)

        async def delete(name: str) -> None:
            await with_retries(lambda: kube.delete(HRQ.path(name, manifests.HRQ_NAME)))
            await with_retries(lambda: kube.delete(ORGANIZATION.path(name, name)))

        await pool(self.bare, delete, SETUP_CONCURRENCY)
        return took

    def offset_for(self, ends: datetime, lead: float) -> str:
        """ORGQUOTA_CLOCK_OFFSET that makes `ends` come `lead` seconds from now (to the millisecond: a
        whole second would move the end by up to half a second from the time the bench counts from)."""
        return f"{(ends - datetime.now(UTC)).total_seconds() - lead:.3f}s"

    def launch(self, name: str, offset: str, election: bool) -> Replica:
        made = self.replica(name)
        made.operator.env["ORGQUOTA_CLOCK_OFFSET"] = offset
        if not election:
            made.operator.env["ORGQUOTA_LEADER_ELECTION"] = "false"
        made.operator.launch()
        return made

    async def until_floor(self, end_at: float, what: str) -> float:
        """Seconds from the end (a time.time()) until every trial organization's HRQ shows the floor."""
        end_monotonic = time.monotonic() + (end_at - time.time())
        hrqs = Watcher(self.api, HRQ.path(""), f"metadata.name={manifests.HRQ_NAME}")
        await hrqs.start()
        try:
            everyone = hrqs.expect(self.orgs, hrq_matches(self.floor_quota()))
            done = await hrqs.wait(everyone, 1800, what)
        finally:
            await hrqs.stop()
        return done - end_monotonic

    async def one_operator(self, lead: float) -> float:
        offset = self.offset_for(self.ends, lead)
        end_at = time.time() + lead
        timed = self.launch("single", offset, election=False)
        await timed.operator.wait_log(STARTED_LOG, lead)
        log(f"trials N={self.n}: operator converged; trials end in {end_at - time.time():.1f} s")
        took = await self.until_floor(end_at, "trials ended (one operator)")
        timed.operator.stop()
        self.replicas.remove(timed)
        return took

    async def failover(self, lead: float) -> float:
        self.ends = datetime.now(UTC).replace(microsecond=0) + TRIAL
        patch = {"metadata": {"annotations": self.trialing(self.ends)}}
        await pool(self.orgs, lambda name: self.api.kube.merge_patch(ORGANIZATION.path(name, name), patch), 32)
        offset = self.offset_for(self.ends, lead)
        end_at = time.time() + lead
        first = self.launch("replica-a", offset, election=True)
        await first.operator.wait_startup(lead)
        second = self.launch("replica-b", offset, election=True)
        await second.operator.wait_log("standing by: Lease", 120)
        await asyncio.sleep(max(0.0, end_at - STOP_BEFORE - time.time()))
        holder = await self.holder()
        leader = next(r for r in self.replicas if r.name == holder)
        leader.operator.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        log(f"trials N={self.n}: leader {leader.name} SIGTERMed {end_at - time.time():.1f} s before the end")
        return await self.until_floor(end_at, "trials ended (failover)")


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings.from_env()
    workdir = Path(tempfile.mkdtemp(prefix="orgquota-trials-"))
    result: dict[str, Any] = {"n": args.orgs, "workers": args.workers, "loadavg_before": loadavg()}
    async with cluster_for(workdir) as (cluster, _, kind), Api(cluster.kubeconfig, max_connections=32) as api:
        run = Trials(api, cluster, settings, workdir, args.orgs, args.workers)
        result["cluster"] = kind
        run.ends = datetime.now(UTC).replace(microsecond=0) + TRIAL
        result["setup_s"] = round(await run.setup(), 1)
        try:
            await run.converge()
            result["bare_client_s"] = round(await run.bare_client(), 2)
            log(f"trials N={args.orgs}: bare client {result['bare_client_s']} s")
            result["one_operator_s"] = round(await run.one_operator(args.lead), 2)
            log(f"trials N={args.orgs}: one operator {result['one_operator_s']} s")
            result["failover_s"] = round(await run.failover(args.lead), 2)
            log(f"trials N={args.orgs}: with the leader SIGTERMed {STOP_BEFORE:.0f} s before: {result['failover_s']} s")
        finally:
            for replica in run.replicas:
                replica.operator.stop()
            result["logs"] = str(workdir)
    result["ratio_one_operator"] = round(result["one_operator_s"] / result["bare_client_s"], 2)
    result["loadavg_after"] = loadavg()
    return result


def report_markdown(report: Mapping[str, Any]) -> str:
    lines = [
        f"# {report['n']} trials ending in the same second ({report.get('cluster', '')})",
        "",
        "| what | seconds |",
        "|---|---|",
        f"| bare client, the same writes ({report['workers']} workers) | {report['bare_client_s']} |",
        f"| one operator, from the end to the last floor HRQ | {report['one_operator_s']} |",
        f"| leader SIGTERMed {STOP_BEFORE:.0f} s before the end: to the last floor HRQ | {report['failover_s']} |",
        "",
        f"Ratio one operator / bare client: {report['ratio_one_operator']}; load average before/after: "
        f"{report['loadavg_before']} / {report['loadavg_after']}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trials", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--lead", type=float, default=90.0, help="seconds from a launch to the trials' end")
    parser.add_argument("--out", type=Path)
    return saved_run("trials", parser.parse_args(argv), bench, report_markdown)


if __name__ == "__main__":
    sys.exit(main())
