"""Event stream benchmark (`make bench-live`): N open streams of GET /api/billing/events.

A fresh local control plane with N organizations (as `bench.billing_api` makes them), `orgquota api`
as a process, one stream per organization (its org-admin's token), all open at once. Then, one at a
time, an annotation of a random organization is changed (`provider-customer-id`, which its
`subscription` event carries): the time from the write being sent to that event at the client is the
latency (p50/p95). The apiserver's own request counter before and after says how many requests the
streams cost it; the API's RSS is read with every stream open. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.billing_api import EXAMPLES, apiserver_requests, log, populate, rss_mb, stop, wait_http
from localcluster.controlplane import ControlPlane, free_ports
from localcluster.kubectl import Cluster, install_crds
from localcluster.procs import spawn
from orgquota.core.annotations import PREFIX
from orgquota.kube.client import ORGANIZATION, Kube
from tests.support.oidc import Issuer


class Streams:
    """One stream per organization; for each, when each marker was first seen in its events."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], float] = {}
        self.started: set[str] = set()
        self.errors: list[str] = []

    async def follow(self, session: aiohttp.ClientSession, url: str, org: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        try:
            async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=None)) as response:
                if response.status != 200:
                    self.errors.append(f"{org}: HTTP {response.status}")
                    return
                async for line in response.content:
                    if line.startswith(b"data:"):
                        self.started.add(org)
                        text = line.decode()
                        at = text.find("cus_bench_")
                        if at >= 0:
                            marker = text[at : text.find('"', at)]
                            self.seen.setdefault((org, marker), time.perf_counter())
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors.append(f"{org}: {exc!r}")


async def measure(url: str, kubeconfig: Path, names: list[str], tokens: list[str], changes: int) -> dict[str, float]:
    streams = Streams()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [
            asyncio.create_task(streams.follow(session, url, org, tok)) for org, tok in zip(names, tokens, strict=True)
        ]
        began = time.perf_counter()
        while len(streams.started) < len(names):
            if streams.errors:
                raise SystemExit(f"streams refused: {streams.errors[:5]}")
            if time.perf_counter() - began > 300:
                raise SystemExit(f"only {len(streams.started)} of {len(names)} streams started")
            await asyncio.sleep(0.1)
        opened = time.perf_counter() - began
        log(f"{len(names)} streams open, each with its first snapshot, in {opened:.1f}s")
        kube = await Kube.connect(max_connections=4, kubeconfig=str(kubeconfig))
        latencies: list[float] = []
        try:
            for k in range(changes):
                org, marker = random.choice(names), f"cus_bench_{k}"
                sent = time.perf_counter()
                await kube.merge_patch(
                    ORGANIZATION.path(org, org),
                    {"metadata": {"annotations": {PREFIX + "provider-customer-id": marker}}},
                )
                while (org, marker) not in streams.seen:
                    if time.perf_counter() - sent > 30:
                        raise SystemExit(f"no event for {org} {marker} in 30 s")
                    await asyncio.sleep(0.002)
                latencies.append(streams.seen[(org, marker)] - sent)
                await asyncio.sleep(random.uniform(0.05, 0.2))
        finally:
            await kube.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    return {
        "open_s": opened,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[max(0, int(len(latencies) * 0.95) - 1)],
        "max_ms": 1000 * latencies[-1],
        "stream_errors": len(streams.errors),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500, help="organizations, one stream each")
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    with ControlPlane(workdir / "controlplane") as cp:
        cluster = Cluster(cp.kubeconfig, cache_dir=workdir / "kubectl-cache")
        install_crds(cluster)
        cluster.kubectl("apply", "-f", str(EXAMPLES / "00-namespaces.yaml"))
        cluster.kubectl("apply", "-f", str(EXAMPLES / "04-billing-plans-configmap.yaml"))
        names = asyncio.run(populate(cp.kubeconfig, args.streams))
        issuer = Issuer()
        tokens = [issuer.token(org=name, groups=["org-admin"], exp=int(time.time()) + 3600) for name in names]
        (port,) = free_ports(1)
        env = {
            **cluster.env,
            "OIDC_ISSUER_URL": issuer.url,
            "ORGANIZATION_PROJECTS_LIMIT": "3",
            "ORGQUOTA_ACCESS_LOG": "errors",
        }
        api_log = workdir / "api.log"
        api = spawn([sys.executable, "-m", "orgquota", "api", "--port", str(port)], api_log, detached=False, env=env)
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz", api, api_log)
            rss_before = rss_mb(api.pid)
            before = apiserver_requests(cluster)
            result = asyncio.run(
                measure(f"http://127.0.0.1:{port}/api/billing/events", cp.kubeconfig, names, tokens, args.changes)
            )
            after = apiserver_requests(cluster)
            rss_open = rss_mb(api.pid)
        finally:
            stop(api)
            issuer.close()
    # less our own writes (one per change) and the two scrapes of /metrics
    by_streams = max(0.0, after - before - args.changes - 2)
    print(f"streams {args.streams}, changes {args.changes} (one at a time, a random organization each)")
    print(f"all streams open with their first snapshot in {result['open_s']:.1f} s")
    print(
        f"annotation write sent -> event at the client: p50 {result['p50_ms']:.0f} ms, "
        f"p95 {result['p95_ms']:.0f} ms, max {result['max_ms']:.0f} ms"
    )
    print(f"apiserver requests caused by the streams: {by_streams:.0f} ({by_streams / args.streams:.3f} per stream)")
    print(f"API RSS: {rss_before:.0f} MB listed, {rss_open:.0f} MB with {args.streams} streams open")
    print(f"stream errors: {result['stream_errors']:.0f}; API log {api_log}")


if __name__ == "__main__":
    main()
