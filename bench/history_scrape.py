"""Prometheus scraping N organizations' series (`make bench-api BENCH_API_ARGS='--history --scrape ...'`).

A backfilled Prometheus holds its history in blocks only; a running one also keeps every live series
in its head (the last 2-3 hours, in memory and in mmapped head chunks). Here Prometheus scrapes a
constant /metrics with the operator's 14 series of each of N organizations (what
`orgquota.controller.org_metrics` would export for them) every `interval`, with the rule files
loaded, for `seconds`: its memory, head series and disk as they grow, measured rather than
extrapolated.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.billing_api import log
from bench.history_backfill import CLASSES, HARD, MONTHLY_COST, Shape, disk, loadavg, memory, org_names, sample_times
from bench.measure import cpu_seconds, pids_with_arg
from localcluster.prometheus import Prometheus
from orgquota.core.advice import RESOURCES
from tests.support.prom_history import HELP

HEAD_METRICS = ("prometheus_tsdb_head_series", "prometheus_tsdb_head_chunks", "go_memstats_heap_inuse_bytes")


def exposition(names: list[str], shape: Shape) -> bytes:
    """The text format of every organization's 14 series, usage as after `shape`'s history."""
    families: dict[str, list[str]] = {name: [] for name in HELP}
    for index, name in enumerate(names):
        for resource in RESOURCES:
            labels = f'organization="{name}",resource="{resource}"'
            used = shape.now_used(resource, index % CLASSES)
            families["orgquota_organization_quota_used"].append(f"{{{labels}}} {used}")
            families["orgquota_organization_quota_hard"].append(f"{{{labels}}} {HARD[resource]}")
        plan = f'{{mode="plan",organization="{name}",plan="pro-pool",subscription="active"}} 1'
        families["orgquota_organization_plan_info"].append(plan)
        families["orgquota_organization_monthly_cost"].append(
            f'{{currency="USD",organization="{name}"}} {MONTHLY_COST}'
        )
    lines = []
    for family, series in families.items():
        lines += [f"# HELP {family} {HELP[family]}", f"# TYPE {family} gauge", *(family + one for one in series)]
    return ("\n".join(lines) + "\n").encode()


class Target:
    """A /metrics answering a constant body on a free loopback port; a context manager."""

    def __init__(self, body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def own_metrics(url: str) -> dict[str, float]:
    """Prometheus's own head series and chunks and Go heap, from its /metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in HEAD_METRICS:
            found[name] = float(value)
    return found


def samples_every(seconds: float, every: float) -> Iterator[float]:
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < seconds:
        yield elapsed
        time.sleep(max(0.0, min(every, seconds - elapsed)))
    yield time.monotonic() - began


def scrape(workdir: Path, orgs: int, interval: int, seconds: float) -> dict[str, Any]:
    """Prometheus scraping N organizations every `interval` s for `seconds`; a timeline of what it holds."""
    names = org_names(orgs)
    body = exposition(names, Shape(sample_times(int(time.time()), 30, 3600), every_sample=False))
    log(f"{orgs} organizations scraped every {interval}s for {seconds:.0f}s ({len(body) / 2**20:.1f} MiB a scrape)")
    timeline = []
    with (
        Target(body) as target,
        Prometheus(workdir, targets={"orgquota": [target.address]}, scrape_interval=f"{interval}s") as prometheus,
    ):
        pid = pids_with_arg(str(prometheus.data_dir), ["prometheus"])["prometheus"]
        for elapsed in samples_every(seconds, 30.0):
            point: dict[str, Any] = {"s": round(elapsed), **memory(pid), **own_metrics(prometheus.url)}
            point |= {"cpu_s": cpu_seconds(pid), "disk": disk(prometheus.data_dir)["total"], "loadavg": loadavg()}
            timeline.append(point)
            log(
                f"{point['s']:>4}s: VmRSS {point['VmRSS']:.0f} MiB (anon {point['RssAnon']:.0f}), head series "
                f"{point.get('prometheus_tsdb_head_series', 0):,.0f}, Go heap "
                f"{point.get('go_memstats_heap_inuse_bytes', 0) / 2**20:.0f} MiB, disk {point['disk'] / 2**20:.0f} MiB"
            )
    return {"organizations": orgs, "interval": interval, "scrape_bytes": len(body), "timeline": timeline}


def print_scrape(run: dict[str, Any]) -> None:
    last = run["timeline"][-1]
    series = last.get("prometheus_tsdb_head_series", 0)
    print(
        f"\n{run['organizations']} organizations scraped every {run['interval']}s for {last['s']}s "
        f"({run['scrape_bytes'] / 2**20:.1f} MiB a scrape): head series {series:,.0f} "
        f"({series / run['organizations']:.1f} per organization, with the rule's)"
    )
    print(
        f"  Prometheus: VmRSS {last['VmRSS']:.0f} MiB (anon {last['RssAnon']:.0f}, file {last['RssFile']:.0f}), "
        f"VmHWM {last['VmHWM']:.0f} MiB, Go heap in use {last.get('go_memstats_heap_inuse_bytes', 0) / 2**20:.0f} MiB, "
        f"CPU {last['cpu_s']:.0f} s, disk {last['disk'] / 2**20:.0f} MiB; load {last['loadavg']}"
    )
