"""`make bench-alerts`: N organizations crossing their warning level within a minute (SPEC §10).

A fresh local control plane (etcd + kube-apiserver; no HNC: the bench writes each HRQ's status as
HNC would), N converged organizations on `pro-pool`, the operator, Prometheus scraping it every
second with the repository's rules, Alertmanager (the repository's configuration, 1 s waits), the
billing API as its receiver and a local SMTP server. Then each HRQ's `status.used` is set to 85 %
of its CPU quota, the N writes spread evenly over `--spread` seconds; measured from the first write:
the last `QuotaWarning` Event (a watch) and the last e-mail (the Maildir), each counted (exactly N
are wanted: one per organization), and the CPU the operator and the API used meanwhile (beside
the operator's CPU at rest, which Prometheus's scrape every second costs). Beside it, the
baseline: a bare client (the operator's own `Kube`, as many senders as its Event recorder) making
the same N Events.

    make bench-alerts                                   # N=1000 over 60 s
    .venv/bin/python -m bench.alerts --orgs 200 --spread 10

Results: bench/results/alerts-<timestamp>.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from bench.api import Api
from bench.cluster import cluster_for
from bench.measure import cpu_seconds, loadavg
from bench.operator import Operator
from bench.phases import NAMESPACES_FILE, PLAN, SETUP_CONCURRENCY, org_manifest, pool, with_retries
from bench.report import log, saved_run
from bench.watch import Watcher, exists
from localcluster.alertmanager import FAST, Alertmanager
from localcluster.controlplane import free_ports
from localcluster.mailserver import MailServer
from localcluster.prometheus import Prometheus
from orgquota.core.manifests import HRQ_NAME
from orgquota.core.pressure import WARNING_EVENT
from orgquota.core.quantity import Quantity
from orgquota.kube.client import HRQ, Kube, KubeError
from tests.support.billing_api import start_billing_api
from tests.support.files import CATALOG_FILE
from tests.support.oidc import Issuer

SECRET: Final = "bench-alerts-secret"
USED_SHARE: Final = Fraction(85, 100)
EVENT_SENDERS: Final = 4
"""the operator's Event recorder sends with this many tasks (orgquota.kube.events)"""
CPU: Final = "requests.cpu"
REST_SECONDS: Final = 10.0


def org_names(n: int) -> list[str]:
    return [f"al-org-{i:05d}" for i in range(n)]


async def create_orgs(kube: Kube, names: list[str]) -> float:
    async def organization(name: str) -> None:
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        await with_retries(lambda: kube.create("/api/v1/namespaces", namespace))
        await with_retries(
            lambda: kube.create(f"/apis/kube-dc.com/v1/namespaces/{name}/organizations", org_manifest(name, PLAN))
        )

    return await pool(names, organization, SETUP_CONCURRENCY)


async def baseline_events(kube: Kube, names: list[str]) -> float:
    """N Events, one per namespace, by `EVENT_SENDERS` tasks over one client: the floor of the operator's N."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for name in names:
        queue.put_nowait(name)

    async def sender() -> None:
        while not queue.empty():
            name = queue.get_nowait()
            now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            body = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"generateName": f"{name}.", "namespace": name},
                "involvedObject": {
                    "apiVersion": "kube-dc.com/v1",
                    "kind": "Organization",
                    "name": name,
                    "namespace": name,
                },
                "type": "Warning",
                "reason": "BenchBaseline",
                "message": "cpu quota at 85 % (warning level 80 %): new pods that request CPU will be refused",
                "source": {"component": "orgquota-bench"},
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
            }
            await kube.create(f"/api/v1/namespaces/{name}/events", body)

    began = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(EVENT_SENDERS)))
    return time.monotonic() - began


def at_85_percent(hrq: dict[str, Any]) -> dict[str, Any]:
    """The status HNC would write: the enforced hard, CPU used at 85 % of it (whole millicores, rounded up)."""
    hard = dict(hrq["spec"]["hard"])
    used_millis = -(-(Quantity.parse(hard[CPU]).value * USED_SHARE * 1000) // 1)
    return {"status": {"hard": hard, "used": {CPU: f"{used_millis}m"}}}


async def cross(kube: Kube, hrqs: dict[str, dict[str, Any]], names: list[str], spread: float) -> tuple[float, float]:
    """Each organization's HRQ status at 85 %, the writes spread evenly over `spread` s; (first, last) write time."""
    began = time.monotonic()
    slots = asyncio.Queue[tuple[int, str]]()
    for index, name in enumerate(names):
        slots.put_nowait((index, name))
    last = [began]

    async def writer() -> None:
        while not slots.empty():
            index, name = slots.get_nowait()
            await asyncio.sleep(max(0.0, began + index * spread / len(names) - time.monotonic()))
            body = at_85_percent(hrqs[name])
            try:
                await kube.merge_patch(HRQ.path(name, HRQ_NAME) + "/status", body)
            except KubeError as exc:  # a CRD without the status subresource keeps status in the object
                if exc.status != 404:
                    raise
                await kube.merge_patch(HRQ.path(name, HRQ_NAME), body)
            last[0] = max(last[0], time.monotonic())

    await asyncio.gather(*(writer() for _ in range(16)))
    return began, last[0]


def mail_count(mail: MailServer) -> int:
    return sum(1 for sub in ("new", "cur") if (mail.maildir / sub).is_dir() for _ in (mail.maildir / sub).iterdir())


async def wait_mail(mail: MailServer, n: int, within: float) -> float | None:
    """When the Maildir held `n` messages (polled every 50 ms), or None after `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if mail_count(mail) >= n:
            return time.monotonic()
        await asyncio.sleep(0.05)
    return None


def recipients(mail: MailServer) -> Counter[str]:
    return Counter(str(message["To"]) for message in mail.messages())


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="orgquota-alerts-"))
    names = org_names(args.orgs)
    result: dict[str, Any] = {"n": args.orgs, "spread_s": args.spread, "loadavg_before": loadavg()}
    async with cluster_for(workdir) as (cluster, _, kind), Api(cluster.kubeconfig, max_connections=32) as api:
        result["cluster"] = kind
        cluster.kubectl("apply", "-f", str(NAMESPACES_FILE))
        cluster.kubectl("apply", "-f", str(CATALOG_FILE))
        log(f"alerts N={args.orgs}: creating namespaces + Organizations")
        result["setup_s"] = round(await create_orgs(api.kube, names), 1)
        result["baseline_events_s"] = round(await baseline_events(api.kube, names), 2)
        log(f"baseline: {args.orgs} Events by {EVENT_SENDERS} senders in {result['baseline_events_s']} s")
        metrics_port, api_port = free_ports(2)
        env = {**cluster.env, "ORGQUOTA_WORKERS": str(args.workers), "ORGQUOTA_METRICS_PORT": str(metrics_port)}
        operator = Operator(env, workdir / "operator.log", None)
        issuer = Issuer()
        operator.launch()
        try:
            await operator.wait_startup(1800)
            await operator.wait_cpu_idle(quiet=1.0, within=1800)
            hrqs = {
                h["metadata"]["namespace"]: h
                for h in await api.kube.list(HRQ.path(""), fieldSelector=f"metadata.name={HRQ_NAME}")
            }
            assert set(names) <= set(hrqs), f"{len(set(names) - set(hrqs))} organizations without an HRQ"
            with (
                MailServer(workdir / "mail") as mail,
                Alertmanager(
                    f"http://127.0.0.1:{api_port}", SECRET, workdir / "alertmanager", timing=FAST
                ) as alertmanager,
                Prometheus(
                    workdir / "prometheus",
                    targets={"orgquota-operator": [f"127.0.0.1:{metrics_port}"]},
                    scrape_interval="1s",
                    alertmanagers=[alertmanager.address],
                ) as prometheus,
            ):
                api_env = {
                    "PROMETHEUS_URL": prometheus.url,
                    "SMTP_URL": mail.url,
                    "SMTP_FROM": "billing@orgquota.test",
                    "ALERTS_WEBHOOK_SECRET": SECRET,
                }
                billing = start_billing_api(cluster, cluster.kubeconfig, issuer, workdir, api_env, port=api_port)
                try:
                    result |= await measure(api, operator, billing.proc.pid, mail, hrqs, names, args)
                finally:
                    billing.stop()
        finally:
            operator.stop()
            issuer.close()
            result["logs"] = str(workdir)
    result["loadavg_after"] = loadavg()
    return result


async def measure(
    api: Api,
    operator: Operator,
    api_pid: int,
    mail: MailServer,
    hrqs: dict[str, Any],
    names: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    n = len(names)
    events = Watcher(api, "/api/v1/events", f"reason={WARNING_EVENT}")
    await events.start()
    try:
        everyone = events.expect(names, exists)
        rest_began, rest_cpu = time.monotonic(), cpu_seconds(operator.pid)
        await asyncio.sleep(REST_SECONDS)  # Prometheus's scrapes cost the operator CPU all the time: how much
        rest_rate = (cpu_seconds(operator.pid) - rest_cpu) / (time.monotonic() - rest_began)
        cpu_before, api_cpu_before = cpu_seconds(operator.pid), cpu_seconds(api_pid)
        log(f"crossing: {n} HRQs to 85 % of their CPU over {args.spread} s")
        first, last_write = await cross(api.kube, hrqs, names, args.spread)
        last_event = await events.wait(everyone, args.within, "QuotaWarning Events")
        log(f"last Event {last_event - first:.1f} s after the first crossing")
        last_mail = await wait_mail(mail, n, args.within - (time.monotonic() - first))
        # From the first write to the last e-mail (or the give-up): with a scrape every second the
        # operator is never idle, so the span is fixed by the chain's end, not by the operator's rest.
        span = time.monotonic() - first
        operator_cpu = cpu_seconds(operator.pid) - cpu_before
        api_cpu = cpu_seconds(api_pid) - api_cpu_before
        await asyncio.sleep(args.quiet)  # anything sent twice would show by now
    finally:
        await events.stop()
    listed = await api.kube.list("/api/v1/events", fieldSelector=f"reason={WARNING_EVENT}")
    per_org = Counter(e["metadata"]["namespace"] for e in listed)
    counts = Counter(int(e.get("count") or 1) for e in listed)
    mailed = recipients(mail)
    return {
        "writes_s": round(last_write - first, 1),
        "last_event_s": round(last_event - first, 2),
        "last_event_after_last_write_s": round(last_event - last_write, 2),
        "events": len(listed),
        "events_counted": sum(int(e.get("count") or 1) for e in listed),
        "orgs_with_one_event": sum(1 for name in names if per_org[name] == 1) if not counts.keys() - {1} else 0,
        "last_mail_s": None if last_mail is None else round(last_mail - first, 2),
        "last_mail_after_last_write_s": None if last_mail is None else round(last_mail - last_write, 2),
        "mails": sum(mailed.values()),
        "orgs_mailed_once": sum(1 for name in names if mailed[f"admin@{name}.example"] == 1),
        "operator_cpu_s": round(operator_cpu, 2),
        "cpu_span_s": round(span, 1),
        "operator_cpu_at_rest_per_s": round(rest_rate, 3),
        "api_cpu_s": round(api_cpu, 2),
    }


def report_markdown(r: Mapping[str, Any]) -> str:
    n = r["n"]
    mail = "not all within the wait" if r.get("last_mail_s") is None else f"{r['last_mail_s']} s"
    lines = [
        f"# {n} organizations crossing 80 % within {r['spread_s']} s ({r.get('cluster', '')})",
        "",
        "| | orgquota (operator → Prometheus → Alertmanager → API → SMTP) | baseline: a bare client |",
        "|---|---|---|",
        f"| time to the last Event | {r.get('last_event_s')} s from the first crossing "
        f"({r.get('last_event_after_last_write_s')} s after the last) | {r['baseline_events_s']} s for {n} Events, "
        f"{EVENT_SENDERS} senders, back to back |",
        f"| Events | {r.get('events')} (counted {r.get('events_counted')}; {r.get('orgs_with_one_event')} "
        f"organizations with exactly one) | {n} |",
        f"| time to the last e-mail | {mail} ({r.get('last_mail_after_last_write_s')} s after the last crossing) | - |",
        f"| e-mails | {r.get('mails')} ({r.get('orgs_mailed_once')} organizations mailed exactly once) | - |",
        f"| CPU, first crossing to last e-mail ({r.get('cpu_span_s')} s) | operator {r.get('operator_cpu_s')} s "
        f"(at rest, scraped every second: {r.get('operator_cpu_at_rest_per_s')} s/s), "
        f"billing API {r.get('api_cpu_s')} s | - |",
        "",
        f"Setup {r['setup_s']} s; load average before/after: {r['loadavg_before']} / {r.get('loadavg_after')}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the N crossings are spread")
    parser.add_argument("--within", type=float, default=900.0, help="give up on the last Event / e-mail after this")
    parser.add_argument("--quiet", type=float, default=10.0, help="seconds waited at the end for anything sent twice")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--out", type=Path)
    return saved_run("alerts", parser.parse_args(argv), bench, report_markdown)


if __name__ == "__main__":
    sys.exit(main())
