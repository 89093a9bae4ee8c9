"""Billing API benchmark (`make bench-api`): latency and throughput of the two busiest reads.

A fresh local control plane with N organizations (each with its namespace, plan annotations and an
HRQ carrying usage), `orgquota api` started as a process, then GET /organization-subscription and
GET /quota-usage at 1, 16 and 64 concurrent keep-alive clients with valid tokens (a different
organization's token per request). Side by side, in the same run: the same FastAPI and uvicorn
configuration serving a constant JSON body of the same size (the framework's bound), and the
apiserver's own request counter (`apiserver_request_total`) before and after, per API request.
Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from localcluster.controlplane import ControlPlane, free_ports
from localcluster.kubectl import Cluster, install_crds
from localcluster.procs import spawn
from orgquota.core.annotations import PREFIX
from orgquota.kube.client import HRQ, NAMESPACE_PATH, ORGANIZATION, Kube
from tests.support.catalog import WORKED_EXAMPLE
from tests.support.oidc import Issuer  # the repository's own test issuer (run from the repository root)

REPO = Path(__file__).resolve().parents[1]

EXAMPLES = REPO / "examples" / "organization"
ROUTES = ("/organization-subscription", "/quota-usage")
USED = {"requests.cpu": "4", "requests.memory": "12Gi", "requests.storage": "45Gi", "pods": "23"}


def log(message: str) -> None:
    print(f"[bench-api {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def populate(kubeconfig: Path, orgs: int) -> list[str]:
    """N organizations, each in its namespace, on pro-pool with an add-on, with an HRQ holding usage."""
    kube = await Kube.connect(max_connections=32, kubeconfig=str(kubeconfig))
    names = [f"bench-{i:05d}" for i in range(orgs)]
    semaphore = asyncio.Semaphore(32)

    async def one(name: str) -> None:
        async with semaphore:
            await kube.create(
                NAMESPACE_PATH, {"metadata": {"name": name, "labels": {f"{name}.tree.hnc.x-k8s.io/depth": "0"}}}
            )
            annotations = {
                PREFIX + "plan-id": "pro-pool",
                PREFIX + "subscription": "active",
                PREFIX + "addons": json.dumps([{"addonId": "turbo-x1", "quantity": 1}]),
            }
            org: dict[str, Any] = {"apiVersion": "kube-dc.com/v1", "kind": "Organization"}
            org |= {"metadata": {"name": name, "annotations": annotations}, "spec": {"email": f"a@{name}.example"}}
            await kube.create(ORGANIZATION.path(name), org)
            hrq: dict[str, Any] = {"apiVersion": "hnc.x-k8s.io/v1alpha2", "kind": "HierarchicalResourceQuota"}
            hrq |= {
                "metadata": {"name": "plan-quota"},
                "spec": {"hard": WORKED_EXAMPLE},
                "status": {"hard": WORKED_EXAMPLE, "used": USED},
            }
            await kube.create(HRQ.path(name), hrq)

    try:
        await asyncio.gather(*(one(name) for name in names))
    finally:
        await kube.close()
    return names


def serve(app: Any, port: int) -> None:
    """`app` on uvicorn and uvloop with `orgquota api`'s server configuration."""
    import uvicorn
    import uvloop

    from orgquota.api.server import server_config

    uvloop.run(uvicorn.Server(server_config(app, "127.0.0.1", port)).serve())


def constant_server(port: int, bodies_file: Path) -> None:
    """The framework's bound: the same FastAPI + uvicorn configuration, answering constant bodies."""
    from fastapi import FastAPI
    from fastapi.responses import Response

    from orgquota.api.app import NO_OPENTELEMETRY

    bodies: dict[str, str] = json.loads(bodies_file.read_text())
    app = FastAPI(telemetry=NO_OPENTELEMETRY)
    for route, body in bodies.items():
        data = body.encode()

        async def constant(data: bytes = data) -> Response:
            return Response(data, media_type="application/json")

        app.add_api_route("/api/billing" + route, constant, methods=["GET"])
    serve(app, port)


async def timed(session: aiohttp.ClientSession, url: str, token: str, latencies: list[float] | None) -> int:
    """One GET with `token`, its latency appended to `latencies` (unless None); 1 if it failed, else 0."""
    start = time.perf_counter()
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        await response.read()
        failed = response.status != 200
    if latencies is not None:
        latencies.append(time.perf_counter() - start)
    return int(failed)


def summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, float]:
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "errors": errors,
    }


async def first_requests(url: str, tokens: Sequence[str], clients: int = 16) -> dict[str, float]:
    """One request per token (each organization's first: its token checked, its answer built); req/s, latency."""
    queue = list(tokens)
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:

        async def client() -> None:
            nonlocal errors
            while queue:
                errors += await timed(session, url, queue.pop(), latencies)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return summary(latencies, time.perf_counter() - start, errors)


async def load(url: str, tokens: Sequence[str], clients: int, seconds: float) -> dict[str, float]:
    """`clients` keep-alive clients for `seconds` (after a one-second warm-up); latency percentiles, req/s."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(until: float, record: bool) -> None:
            nonlocal errors
            while time.perf_counter() < until:
                errors += await timed(session, url, random.choice(tokens), latencies if record else None)

        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(client(warm, False) for _ in range(clients)))
        start = time.perf_counter()
        await asyncio.gather(*(client(start + seconds, True) for _ in range(clients)))
        return summary(latencies, time.perf_counter() - start, errors)


def apiserver_requests(cluster: Cluster) -> float:
    text = cluster.kubectl("get", "--raw", "/metrics").stdout
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("apiserver_request_total{")
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_http(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 120.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} not ready after {timeout:.0f}s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--history" in argv:  # the usage-history routes over Prometheus, with options of their own
        from bench import history_api

        history_api.main([arg for arg in argv if arg != "--history"])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="--history: bench/history_api.py")
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per scenario")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument(
        "--access-log", choices=["all", "errors"], default="all", help="ORGQUOTA_ACCESS_LOG of the API (default all)"
    )
    parser.add_argument(
        "--profile", type=Path, help="run the API under cProfile, its stats written to this file at the end"
    )
    parser.add_argument(
        "--builds",
        nargs="+",
        metavar="NAME=DIR",
        help="API source trees compared in turn (bench/billing_api_builds.py): before=/tmp/main after=. quiet=.@errors",
    )
    parser.add_argument("--rounds", type=int, default=2, help="with --builds: rounds of A B (default 2)")
    parser.add_argument("--serve-constant", nargs=2, metavar=("PORT", "BODIES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_constant:
        constant_server(int(args.serve_constant[0]), Path(args.serve_constant[1]))
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    with ControlPlane(workdir / "controlplane") as cp:
        cluster = Cluster(cp.kubeconfig, cache_dir=workdir / "kubectl-cache")
        install_crds(cluster)
        cluster.kubectl("apply", "-f", str(EXAMPLES / "00-namespaces.yaml"))
        cluster.kubectl("apply", "-f", str(EXAMPLES / "04-billing-plans-configmap.yaml"))
        began = time.monotonic()
        names = asyncio.run(populate(cp.kubeconfig, args.orgs))
        log(f"{len(names)} organizations with HRQs created in {time.monotonic() - began:.1f}s")
        if args.builds:
            from bench.billing_api_builds import compare

            builds = {name: tree for name, _, tree in (spec.partition("=") for spec in args.builds)}
            compare(cluster.env, names, workdir, builds, args)
            return
        run(cluster, names, workdir, args.seconds, args.clients, args.access_log, args.profile)


def run(
    cluster: Cluster,
    names: list[str],
    workdir: Path,
    seconds: float,
    clients: list[int],
    access_log: str,
    profile: Path | None = None,
) -> None:
    issuer = Issuer()
    tokens = [issuer.token(org=name, groups=["org-admin"]) for name in names]
    api_port, constant_port = free_ports(2)
    env = {
        **cluster.env,
        "OIDC_ISSUER_URL": issuer.url,
        "ORGANIZATION_PROJECTS_LIMIT": "3",
        "ORGQUOTA_ACCESS_LOG": access_log,
    }
    api_log = workdir / "api.log"
    program = ["-m", "bench.profiled_api", str(profile.resolve())] if profile else ["-m", "orgquota"]
    command = [sys.executable, *program, "api", "--port", str(api_port)]
    api = spawn(command, api_log, detached=False, env={**env, "PYTHONPATH": str(REPO)} if profile else env)
    constant = None
    try:
        began = time.monotonic()
        wait_http(f"http://127.0.0.1:{api_port}/readyz", api, api_log)
        log(f"orgquota api ready in {time.monotonic() - began:.1f}s (all watches listed)")
        base = f"http://127.0.0.1:{api_port}/api/billing"
        bodies = {}
        for route in ROUTES:
            request = fetch_body(base + route, tokens[0])
            bodies[route] = request
        bodies_file = workdir / "bodies.json"
        bodies_file.write_text(json.dumps(bodies))
        constant_log = workdir / "constant.log"
        constant = spawn(
            [sys.executable, "-m", "bench.billing_api", "--serve-constant", str(constant_port), str(bodies_file)],
            constant_log,
            detached=False,
            env={**env, "PYTHONPATH": str(REPO)},
        )
        wait_http(f"http://127.0.0.1:{constant_port}/api/billing/quota-usage", constant, constant_log)
        rows = []
        for route in ROUTES:
            cold = asyncio.run(first_requests(base + route, tokens))["rps"]
            log(f"{route}: first request of each of {len(tokens)} organizations, 16 clients: {cold:.0f} req/s")
            for n in clients:
                before = apiserver_requests(cluster)
                measured = asyncio.run(load(base + route, tokens, n, seconds))
                after = apiserver_requests(cluster)
                requests = measured["rps"] * seconds
                bound = asyncio.run(load(f"http://127.0.0.1:{constant_port}/api/billing{route}", tokens, n, seconds))
                per_request = max(0.0, after - before - 1) / max(requests, 1)  # less the scrape itself
                rows.append((route, n, measured, bound, per_request, len(bodies[route])))
                log(f"{route} x{n}: {measured['rps']:.0f} req/s (bound {bound['rps']:.0f})")
        print_table(rows, rss_mb(api.pid), len(names), access_log)
    finally:
        stop(api, constant)
        issuer.close()


def stop(*procs: subprocess.Popen[bytes] | None) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=15)


def fetch_body(url: str, token: str) -> str:
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode())


def print_table(
    rows: list[tuple[str, int, dict[str, float], dict[str, float], float, int]], rss: float, orgs: int, access_log: str
) -> None:
    print(f"\nbilling API, {orgs} organizations, ORGQUOTA_ACCESS_LOG={access_log}")
    print("bound = the same FastAPI + uvicorn configuration serving a constant body of the same size")
    print(
        f"{'route':28} {'clients':>7} {'bytes':>6} {'req/s':>8} {'bound':>8} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'bound p99':>9} {'apiserver req/req':>17} {'errors':>6}"
    )
    for route, n, m, b, per_request, size in rows:
        print(
            f"{route:28} {n:>7} {size:>6} {m['rps']:>8.0f} {b['rps']:>8.0f} {m['rps'] / b['rps']:>6.2f} "
            f"{m['p50_ms']:>7.2f} {m['p99_ms']:>7.2f} {b['p99_ms']:>9.2f} {per_request:>17.4f} {m['errors']:>6.0f}"
        )
    print(f"API process RSS after the run: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
