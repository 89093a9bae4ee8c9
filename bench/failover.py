"""`make bench-failover`: how fast a standby takes over, at N organizations (not a timed test).

Two operator processes with leader election (the Lease `orgquota-leader`) against a fresh local
control plane (or $KUBECONFIG's cluster), N organizations converged. Each round signals the
leader, SIGKILL or SIGTERM, changes one organization's plan at that moment and times, from the
signal: the Lease held by the other replica (seen by a watch) and the new plan in that
organization's HRQ (seen by a watch). The signalled process is started again as the standby before
the next round, once the new leader is idle. At the end every organization's HRQ is checked
against its plan; with `--fanout`, first a catalog edit changes every HRQ while both replicas
run, and the Lease must not move meanwhile (a busy leader keeps it).

    make bench-failover                                  # N=1000, 20 SIGKILL + 20 SIGTERM
    .venv/bin/python -m bench.failover --orgs 10000 --kills 3 --stops 3 --fanout

Results: bench/results/failover-<timestamp>.json and .md (p50/p95/max per signal).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.api import Api
from bench.cluster import cluster_for
from bench.measure import loadavg
from bench.operator import Operator
from bench.phases import (
    FANOUT_EDIT,
    NAMESPACES_FILE,
    OTHER_PLAN,
    PLAN,
    SETUP_CONCURRENCY,
    catalog_of,
    edit_catalog,
    org_manifest,
    pool,
    with_retries,
)
from bench.report import log, saved_run
from bench.watch import Watcher, hrq_matches
from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from orgquota.controller.settings import Settings
from orgquota.core.annotations import PLAN_ID, SUBSCRIPTION
from orgquota.core.desired import DesiredQuota, desired_quota
from orgquota.core.lease import LEASE_NAME
from orgquota.core.manifests import HRQ_NAME
from orgquota.kube.client import HRQ, ORGANIZATION, Kube, Manifest
from orgquota.kube.lease import LEASE
from tests.support.files import CATALOG_FILE
from tests.support.operator_process import STARTED_LOG

LEASE_NAMESPACE: Final = "orgquota"
STANDING_BY: Final = "standing by: Lease"


@dataclass
class Replica:
    name: str
    operator: Operator


@dataclass
class Failover:
    api: Api
    cluster: Cluster
    settings: Settings
    workdir: Path
    n: int
    workers: int
    replicas: list[Replica] = field(default_factory=list)
    catalog_text: str = ""
    plans: dict[str, str] = field(default_factory=dict)
    """each organization's plan as last annotated"""

    @property
    def orgs(self) -> list[str]:
        return [f"fo-org-{i:05d}" for i in range(self.n)]

    # -- setup ------------------------------------------------------------------------------------

    async def prepare(self) -> None:
        """The example catalog (kept as `catalog_text`) and namespaces, and the Lease's namespace."""
        self.cluster.kubectl("apply", "-f", str(NAMESPACES_FILE))
        self.cluster.kubectl("apply", "-f", str(CATALOG_FILE))
        self.cluster.kubectl("create", "namespace", LEASE_NAMESPACE, check=False)
        path = f"/api/v1/namespaces/{self.settings.catalog_namespace}/configmaps/{self.settings.catalog_name}"
        configmap = await self.api.kube.get(path)
        assert configmap is not None
        self.catalog_text = configmap["data"]["plans.yaml"]

    async def setup(self) -> float:
        await self.prepare()
        kube = self.api.kube

        async def organization(name: str) -> None:
            namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            await with_retries(lambda: kube.create("/api/v1/namespaces", namespace))
            await with_retries(lambda: kube.create(ORGANIZATION.path(name), org_manifest(name, PLAN)))
            self.plans[name] = PLAN

        log(f"failover N={self.n}: creating {self.n} namespaces + Organizations")
        return await pool(self.orgs, organization, SETUP_CONCURRENCY)

    def replica(self, name: str) -> Replica:
        env = {
            **self.cluster.env,
            "ORGQUOTA_WORKERS": str(self.workers),
            "ORGQUOTA_METRICS_PORT": str(free_ports(1)[0]),
            "ORGQUOTA_LEADER_ELECTION": "true",
            "ORGQUOTA_LEASE_NAMESPACE": LEASE_NAMESPACE,
            "POD_ID": name,
        }
        made = Replica(name, Operator(env, self.workdir / f"{name}.log", None))
        self.replicas.append(made)
        return made

    async def start_pair(self) -> float:
        """The first replica leads and converges every organization; the second stands by."""
        first, second = self.replica("replica-a"), self.replica("replica-b")
        began = time.monotonic()
        first.operator.launch()
        await first.operator.wait_startup(1800)
        converged = time.monotonic() - began
        await first.operator.wait_cpu_idle(quiet=1.0, within=1800)
        second.operator.launch()
        await second.operator.wait_log(STANDING_BY, 120)
        return converged

    # -- the Lease and the HRQs, watched ---------------------------------------------------------

    async def holder(self) -> str:
        lease = await self.api.kube.get(LEASE.path(LEASE_NAMESPACE, LEASE_NAME))
        return str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")

    def desired(self, plan: str, catalog_text: str = "") -> DesiredQuota:
        catalog = catalog_of(catalog_text or self.catalog_text)
        return desired_quota({PLAN_ID: plan, SUBSCRIPTION: "active"}, catalog, self.settings.quota)

    async def round(self, signum: signal.Signals, index: int) -> dict[str, Any]:
        """One failover: signal the leader, change a plan then, time the takeover and the HRQ."""
        leader_name = await self.holder()
        leader = next(r for r in self.replicas if r.name == leader_name)
        standby = next(r for r in self.replicas if r is not leader)
        org = self.orgs[(index * 7919) % self.n]
        plan = OTHER_PLAN if self.plans[org] == PLAN else PLAN
        kube = self.api.kube

        def held_by_standby(lease: Manifest) -> bool:
            return bool((lease.get("spec") or {}).get("holderIdentity") == standby.name)

        async with (
            watching(kube, HRQ.path(org), HRQ_NAME, hrq_matches(self.desired(plan))) as in_hrq,
            watching(kube, LEASE.path(LEASE_NAMESPACE), LEASE_NAME, held_by_standby) as taken,
        ):
            await asyncio.sleep(random.uniform(1.0, 2.0))  # a moment unrelated to the leader's renews
            began = time.monotonic()
            leader.operator.proc.send_signal(signum)  # type: ignore[union-attr]
            await kube.merge_patch(ORGANIZATION.path(org, org), {"metadata": {"annotations": {PLAN_ID: plan}}})
            self.plans[org] = plan
            taken_at = await asyncio.wait_for(taken, 120)
            in_hrq_at = await asyncio.wait_for(in_hrq, 120)
        result = {
            "signal": signum.name,
            "lease_taken_s": round(taken_at - began, 3),
            "in_hrq_s": round(in_hrq_at - began, 3),
            "from": leader.name,
            "to": standby.name,
        }
        log(f"failover N={self.n} #{index} {signum.name}: Lease {result['lease_taken_s']}s, HRQ {result['in_hrq_s']}s")
        await self.recover(leader, standby)
        return result

    async def recover(self, old: Replica, new: Replica) -> None:
        """The new leader idle again, and the signalled process back as the standby."""
        assert old.operator.proc is not None
        await asyncio.to_thread(old.operator.proc.wait, 60)
        await new.operator.wait_log(STARTED_LOG, 1800)  # its first since it was launched: it stood by till now
        await new.operator.wait_cpu_idle(quiet=1.0, within=1800)
        old.operator.launch()
        await old.operator.wait_log(STANDING_BY, 120)

    async def fanout_keeps_the_lease(self) -> dict[str, Any]:
        """A catalog edit that changes every HRQ, with the standby watching: the Lease must not move."""
        before = await self.api.kube.get(LEASE.path(LEASE_NAMESPACE, LEASE_NAME))
        assert before is not None
        leader = await self.holder()
        hrqs = Watcher(self.api, HRQ.path(""), f"metadata.name={HRQ_NAME}")
        await hrqs.start()
        try:
            edited = edit_catalog(self.catalog_text, FANOUT_EDIT)
            everyone = hrqs.expect(self.orgs, hrq_matches(self.desired(PLAN, edited)))  # before any round: all PLAN
            began = time.monotonic()
            await self.set_catalog(edited)
            took = await hrqs.wait(everyone, 1800, "fan-out") - began
        finally:
            await hrqs.stop()
        after = await self.api.kube.get(LEASE.path(LEASE_NAMESPACE, LEASE_NAME))
        assert after is not None
        moved = after["spec"].get("leaseTransitions", 0) - before["spec"].get("leaseTransitions", 0)
        result = {"fanout_s": round(took, 1), "holder_kept": await self.holder() == leader, "transitions_during": moved}
        log(f"failover N={self.n}: fan-out of every HRQ in {result['fanout_s']}s, Lease kept: {result['holder_kept']}")
        return result

    async def set_catalog(self, text: str) -> None:
        self.catalog_text = text
        path = f"/api/v1/namespaces/{self.settings.catalog_namespace}/configmaps/{self.settings.catalog_name}"
        await self.api.kube.merge_patch(path, {"data": {"plans.yaml": text}})

    async def wrong(self) -> int:
        """Organizations whose HRQ does not show the plan they are annotated with (or have none)."""
        hrqs = await self.api.kube.list(HRQ.path(""), fieldSelector=f"metadata.name={HRQ_NAME}")
        found = {h["metadata"]["namespace"]: h for h in hrqs}
        checks = {plan: hrq_matches(self.desired(plan)) for plan in set(self.plans.values())}
        return sum(1 for org in self.orgs if org not in found or not checks[self.plans[org]](found[org]))


@asynccontextmanager
async def watching(kube: Kube, collection: str, name: str, done: Any) -> AsyncIterator[asyncio.Future[float]]:
    """A watch of one object, connected before the caller goes on; the future gets the time `done` first held."""
    loop = asyncio.get_running_loop()
    reached: asyncio.Future[float] = loop.create_future()
    connected = asyncio.Event()

    async def watch() -> None:
        async for event in kube.watch(collection, "", selectors={"fieldSelector": f"metadata.name={name}"}):
            connected.set()
            obj: Manifest = event.get("object") or {}
            if event.get("type") in ("ADDED", "MODIFIED") and done(obj) and not reached.done():
                reached.set_result(time.monotonic())

    task = asyncio.create_task(watch())
    try:
        await asyncio.wait_for(connected.wait(), 30)  # a watch without a version starts with the object
        yield reached
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))], 2)


def summary(rounds: list[dict[str, Any]], signum: str) -> dict[str, Any]:
    picked = [r for r in rounds if r["signal"] == signum]
    if not picked:
        return {}
    hrq = [r["in_hrq_s"] for r in picked]
    lease = [r["lease_taken_s"] for r in picked]
    return {
        "count": len(picked),
        "in_hrq_p50_s": round(statistics.median(hrq), 2),
        "in_hrq_p95_s": percentile(hrq, 0.95),
        "in_hrq_max_s": round(max(hrq), 2),
        "lease_taken_p50_s": round(statistics.median(lease), 2),
        "lease_taken_p95_s": percentile(lease, 0.95),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings.from_env()
    workdir = Path(tempfile.mkdtemp(prefix="orgquota-failover-"))
    result: dict[str, Any] = {"n": args.orgs, "workers": args.workers, "loadavg_before": loadavg()}
    async with cluster_for(workdir) as (cluster, _, kind), Api(cluster.kubeconfig, max_connections=32) as api:
        run = Failover(api, cluster, settings, workdir, args.orgs, args.workers)
        result["cluster"] = kind
        result["setup_s"] = round(await run.setup(), 1)
        try:
            result["first_convergence_s"] = round(await run.start_pair(), 1)
            if args.fanout:
                result["fanout"] = await run.fanout_keeps_the_lease()
            kills, stops = [signal.SIGKILL] * args.kills, [signal.SIGTERM] * args.stops
            signals = [s for pair in itertools.zip_longest(kills, stops) for s in pair if s is not None]
            rounds = [await run.round(signum, index) for index, signum in enumerate(signals)]
            result["rounds"] = rounds
            result["SIGKILL"] = summary(rounds, "SIGKILL")
            result["SIGTERM"] = summary(rounds, "SIGTERM")
            result["organizations_wrong_at_the_end"] = await run.wrong()
        finally:
            for replica in run.replicas:
                replica.operator.stop()
            result["logs"] = str(workdir)
    result["loadavg_after"] = loadavg()
    return result


def report_markdown(result: Mapping[str, Any]) -> str:
    lines = [f"# Failover at N = {result['n']} ({result.get('cluster', '')})", ""]
    lines.append("| signal | rounds | plan change in HRQ p50 / p95 / max (s) | Lease taken over p50 / p95 (s) |")
    lines.append("|---|---|---|---|")
    for signum in ("SIGKILL", "SIGTERM"):
        s = result.get(signum) or {}
        if s:
            lines.append(
                f"| {signum} | {s['count']} | {s['in_hrq_p50_s']} / {s['in_hrq_p95_s']} / {s['in_hrq_max_s']} "
                f"| {s['lease_taken_p50_s']} / {s['lease_taken_p95_s']} |"
            )
    if "fanout" in result:
        f = result["fanout"]
        lines.append("")
        lines.append(
            f"Fan-out of every HRQ with both replicas running: {f['fanout_s']} s, Lease kept: {f['holder_kept']} "
            f"({f['transitions_during']} transitions)."
        )
    lines.append("")
    lines.append(
        f"Organizations wrong at the end: {result.get('organizations_wrong_at_the_end')}; load average "
        f"before/after: {result['loadavg_before']} / {result.get('loadavg_after')}."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.failover", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20, help="rounds with SIGKILL of the leader")
    parser.add_argument("--stops", type=int, default=20, help="rounds with SIGTERM of the leader")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--fanout", action="store_true", help="first a catalog fan-out: the Lease must stay put")
    parser.add_argument("--out", type=Path)
    return saved_run("failover", parser.parse_args(argv), bench, report_markdown)


if __name__ == "__main__":
    sys.exit(main())
