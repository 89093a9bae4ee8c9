"""Usage-history benchmark (`make bench-api BENCH_API_ARGS='--history ...'`): the history routes over Prometheus.

For each N: the operator's 14 series of N organizations backfilled over D days
(bench/history_backfill.py), Debian's Prometheus started on them with the rule files, and the
billing API as a process (uvicorn as `orgquota api` runs it) over an in-memory cluster holding the N
organizations (pro-pool + turbo-x1, an HRQ whose usage is the last backfilled sample) with
`PROMETHEUS_URL` set. Then GET /forecast and /usage-history?range=30d&step=1h, one request per
organization first, then 16 keep-alive clients (`--clients`) with a random organization's admin token
per request, beside the framework's bound (bench/billing_api.py: a constant body of the same size).
Also Prometheus's memory started and after the load, its data directory's size and bytes per sample,
and the load average with each figure. `--no-routes` only backfills and measures Prometheus (for
disk and memory). Prints figures, writes them as JSON; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.error
from pathlib import Path
from typing import Any

import yaml

from bench.billing_api import REPO, fetch_body, first_requests, load, log, rss_mb, serve, stop, wait_http
from bench.history_backfill import (
    CLASSES,
    HRQ_HARD,
    HRQ_HARD_LB,
    SERIES_PER_ORG,
    Backfill,
    Shape,
    backfill,
    disk,
    loadavg,
    memory,
    org_names,
    sample_times,
)
from bench.history_scrape import print_scrape, scrape
from bench.measure import cpu_seconds, pids_with_arg
from localcluster.controlplane import free_ports
from localcluster.procs import spawn
from localcluster.prometheus import Prometheus
from tests.support.oidc import Issuer

ROUTES = ("/forecast", "/usage-history?resource=cpu&range=30d&step=1h")
CATALOG = REPO / "examples" / "organization" / "04-billing-plans-configmap.yaml"
P = "billing.kube-dc.com/"
CREATED = "2026-01-01T00:00:00Z"
TOKEN_SECONDS = 6 * 3600


def cluster_objects(names: list[str], shape: Shape) -> dict[str, Any]:
    """What the API's informers would hold: the organizations, their namespaces and HRQs, the catalog."""
    annotations = {
        P + "plan-id": "pro-pool",
        P + "subscription": "active",
        P + "addons": json.dumps([{"addonId": "turbo-x1", "quantity": 1}]),
    }
    keys = {"requests.cpu": "cpu", "requests.memory": "memory", "requests.storage": "storage", "pods": "pods"}
    keys |= {"services.loadbalancers": "services_loadbalancers"}
    hard = HRQ_HARD | HRQ_HARD_LB
    hrqs = []
    for index, name in enumerate(names):
        used = {key: shape.now_used(resource, index % CLASSES) for key, resource in keys.items()}
        hrqs.append(
            {"metadata": {"namespace": name, "name": "plan-quota"}, "spec": {"hard": hard}}
            | {"status": {"hard": hard, "used": used}}
        )
    return {
        "orgs": [
            {"metadata": {"namespace": n, "name": n, "annotations": annotations, "creationTimestamp": CREATED}}
            for n in names
        ],
        "namespaces": [{"metadata": {"name": n, "labels": {f"{n}.tree.hnc.x-k8s.io/depth": "0"}}} for n in names],
        "hrqs": hrqs,
        "catalog": yaml.safe_load(CATALOG.read_text()),
    }


def history_api_server(port: int, objects_file: Path) -> None:
    """The billing API (settings from the environment) over an in-memory cluster filled from `objects_file`."""
    from orgquota.api import logs
    from orgquota.api.app import create_app
    from orgquota.api.cluster import Cluster
    from orgquota.api.frozen_memory import freeze_once_listed
    from orgquota.api.settings import ApiSettings

    settings = ApiSettings.from_env()
    logs.configure(settings.log_level)
    cluster = Cluster(settings)
    objects = json.loads(objects_file.read_text())
    for cache in cluster.caches:
        cache.replace([])
    for name in ("orgs", "namespaces", "hrqs"):
        getattr(cluster, name).replace(objects[name])
    cluster.catalog.live.replace([objects["catalog"]])
    del objects  # the informers keep what they keep of them, as when listed from an apiserver
    if not os.environ.get("BENCH_NO_FREEZE"):  # as `orgquota api` does once its informers have listed
        freeze_once_listed(cluster.caches)
    serve(create_app(settings, cluster), port)


def measure(
    workdir: Path, orgs: int, days: float, interval: int, every_sample: bool, options: argparse.Namespace
) -> dict[str, Any]:
    names = org_names(orgs)
    end = int(time.time()) // interval * interval
    shape = Shape(sample_times(end, days, interval), every_sample)
    data_dir = workdir / "data"
    log(f"{orgs} organizations x {days:g} days every {interval}s: backfilling (load {loadavg()})")
    filled: Backfill = backfill(data_dir, names, shape)
    log(
        f"{filled.samples:,} samples: text {filled.text_bytes / 2**30:.2f} GiB in {filled.text_seconds:.0f}s, "
        f"promtool {filled.promtool_seconds:.0f}s"
    )
    result: dict[str, Any] = {"backfill": dataclasses.asdict(filled), "series_per_org": SERIES_PER_ORG}
    result["disk_backfilled"] = disk(data_dir)
    began = time.monotonic()
    with Prometheus(workdir / "prometheus", data_dir=data_dir) as prometheus:
        pid = pids_with_arg(str(data_dir.resolve()), ["prometheus"])["prometheus"]
        result["prometheus_start_s"] = round(time.monotonic() - began, 1)
        result["prometheus_started"] = {**memory(pid), "loadavg": loadavg()}
        log(f"Prometheus ready in {result['prometheus_start_s']}s: {result['prometheus_started']}")
        if options.routes:
            result["routes"] = routes(workdir, names, shape, (prometheus.url, pid), options)
        result["prometheus_after"] = {**memory(pid), "loadavg": loadavg()}
        result["disk_after"] = disk(data_dir)
    log(f"Prometheus after: {result['prometheus_after']}; disk {result['disk_after']}")
    if not options.keep_data:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def routes(
    workdir: Path, names: list[str], shape: Shape, prometheus: tuple[str, int], options: argparse.Namespace
) -> Any:
    """Each route at each client count beside its bound, with the CPU each process spent per request."""
    prometheus_url, prometheus_pid = prometheus
    issuer = Issuer()
    valid = int(time.time()) + TOKEN_SECONDS  # the issuer's default (5 minutes) is shorter than a run at 10,000
    tokens = [issuer.token(org=name, groups=["org-admin"], exp=valid) for name in names]
    objects_file = workdir / "objects.json"
    objects_file.write_text(json.dumps(cluster_objects(names, shape)))
    api_port, constant_port = free_ports(2)
    env = {
        **os.environ,
        "OIDC_ISSUER_URL": issuer.url,
        "PROMETHEUS_URL": prometheus_url,
        "ORGANIZATION_PROJECTS_LIMIT": "3",
        "ORGQUOTA_ACCESS_LOG": options.access_log,
        "PYTHONPATH": str(REPO),
    } | ({"BENCH_NO_FREEZE": "1"} if options.no_freeze else {})
    me = [sys.executable, "-m", "bench.history_api"]
    api_log, constant_log = workdir / "api.log", workdir / "constant.log"
    api = spawn([*me, "--serve-api", str(api_port), str(objects_file)], api_log, detached=False, env=env)
    constant = None
    rows = []
    try:
        wait_http(f"http://127.0.0.1:{api_port}/readyz", api, api_log)
        base = f"http://127.0.0.1:{api_port}/api/billing"
        bodies = {route.split("?")[0]: fetch_body(base + route, tokens[0]) for route in ROUTES}
        bodies_file = workdir / "bodies.json"
        bodies_file.write_text(json.dumps(bodies))
        constant = spawn(
            [sys.executable, "-m", "bench.billing_api", "--serve-constant", str(constant_port), str(bodies_file)],
            constant_log,
            detached=False,
            env=env,
        )
        wait_http(f"http://127.0.0.1:{constant_port}/api/billing/forecast", constant, constant_log)
        for route in ROUTES:
            path = route.split("?")[0]
            first: dict[str, Any] | None = None
            if options.first:
                first = asyncio.run(first_requests(base + route, tokens)) | {"loadavg": loadavg()}
                log(
                    f"{path}: one request per organization, 16 clients: {first['rps']:.0f} req/s, p50 "
                    f"{first['p50_ms']:.1f} ms, p99 {first['p99_ms']:.1f} ms, errors {first['errors']:.0f} "
                    f"(load {first['loadavg']})"
                )
            for n in options.clients:
                pids = {"api": api.pid, "prometheus": prometheus_pid, "bench": os.getpid()}
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                measured: dict[str, Any] = asyncio.run(load(base + route, tokens, n, options.seconds))
                requests = measured["rps"] * (options.seconds + 1)  # with load()'s one-second warm-up, about
                measured["loadavg"] = loadavg()
                measured["cpu_ms_per_request"] = {
                    name: round(1000 * (cpu_seconds(pid) - before[name]) / max(requests, 1), 2)
                    for name, pid in pids.items()
                }
                constant_url = f"http://127.0.0.1:{constant_port}/api/billing{route}"
                bound = asyncio.run(load(constant_url, tokens, n, options.seconds))
                row = {"route": path, "clients": n, "bytes": len(bodies[path]), "first": first}
                if measured["errors"]:
                    row["an_error"] = an_error(base + route, random.choice(tokens))
                rows.append(row | {"measured": measured, "bound": bound | {"loadavg": loadavg()}})
                log(
                    f"{path} x{n}: {measured['rps']:.0f} req/s, p50 {measured['p50_ms']:.1f} ms, p99 "
                    f"{measured['p99_ms']:.1f} ms, errors {measured['errors']:.0f} (bound {bound['rps']:.0f} req/s, "
                    f"p99 {bound['p99_ms']:.1f} ms; load {measured['loadavg']})"
                )
        return {"rows": rows, "api_rss_mib": round(rss_mb(api.pid))}
    finally:
        stop(api, constant)
        issuer.close()


def an_error(url: str, token: str) -> str:
    """What one more request answers, when some failed: its status and the start of its body."""
    try:
        return "200 " + fetch_body(url, token)[:200]
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.read().decode(errors='replace')[:300]}"


def print_run(run: dict[str, Any]) -> None:
    filled = run["backfill"]
    samples, orgs = filled["samples"], filled["organizations"]
    after = run["disk_after"]
    print(
        f"\n{orgs} organizations x {filled['days']:g} days, a sample every {filled['interval']}s"
        f"{' (CPU and memory differ at every sample)' if filled['every_sample'] else ''}: {samples:,} samples, "
        f"{SERIES_PER_ORG * orgs:,} series ({SERIES_PER_ORG} per organization, + 6 recorded by the rule)"
    )
    print(
        f"  disk: {after['total'] / 2**20:.1f} MiB (chunks {after['chunks'] / 2**20:.1f}, index "
        f"{after['index'] / 2**20:.1f}, WAL and head {after['wal_and_head'] / 2**20:.1f}); chunks "
        f"{after['chunks'] / samples:.3f} byte/sample, index {after['index'] / (SERIES_PER_ORG * orgs):.0f} "
        f"byte/series"
    )
    for when in ("prometheus_started", "prometheus_after"):
        m = run[when]
        print(
            f"  Prometheus {when.split('_')[1]:8}: VmRSS {m['VmRSS']:.0f} MiB (anon {m['RssAnon']:.0f}, file "
            f"{m['RssFile']:.0f}), VmHWM {m['VmHWM']:.0f} MiB; load {m['loadavg']}"
        )
    if "routes" not in run:
        return
    print(
        f"  {'route':15} {'clients':>7} {'bytes':>6} {'req/s':>6} {'bound':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'bound p50':>9} {'bound p99':>9} {'errors':>6} {'CPU ms/req: API':>15} {'Prometheus':>10} "
        f"{'client':>6}  loadavg"
    )
    for row in run["routes"]["rows"]:
        m, b, first = row["measured"], row["bound"], row["first"]
        if first is not None and row["clients"] == run["routes"]["rows"][0]["clients"]:
            print(
                f"  {row['route']:15} {'1st x16':>7} {row['bytes']:>6} {first['rps']:>6.0f} {'':>6} "
                f"{first['p50_ms']:>7.1f} {first['p99_ms']:>7.1f} {'':>9} {'':>9} {first['errors']:>6.0f} {'':>15} "
                f"{'':>10} {'':>6}  {first['loadavg']}"
            )
        cpu = m["cpu_ms_per_request"]
        print(
            f"  {row['route']:15} {row['clients']:>7} {row['bytes']:>6} {m['rps']:>6.0f} {b['rps']:>6.0f} "
            f"{m['p50_ms']:>7.1f} {m['p99_ms']:>7.1f} {b['p50_ms']:>9.2f} {b['p99_ms']:>9.2f} {m['errors']:>6.0f} "
            f"{cpu['api']:>15.2f} {cpu['prometheus']:>10.2f} {cpu['bench']:>6.2f}  {m['loadavg']}"
        )
        if "an_error" in row:
            print(f"    an error of {row['route']} x{row['clients']}: {row['an_error']}")
    print(f"  API process RSS after the run: {run['routes']['api_rss_mib']} MiB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, nargs="+", default=[1000])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--interval", type=int, default=3600, help="seconds between backfilled samples")
    parser.add_argument("--every-sample", action="store_true", help="CPU and memory differ at every sample")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--clients", type=int, nargs="+", default=[16])
    parser.add_argument("--no-routes", dest="routes", action="store_false", help="Prometheus's disk and memory only")
    parser.add_argument("--no-first", dest="first", action="store_false", help="skip one request per organization")
    parser.add_argument("--access-log", choices=["all", "errors"], default="all")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument(
        "--no-freeze", action="store_true", help="the baseline: the listed objects left in the collector's walks"
    )
    parser.add_argument("--out", type=Path, help="JSON results (default bench/results/history-api-<UTC>.json)")
    parser.add_argument(
        "--scrape", type=float, metavar="SECONDS", help="instead: Prometheus scraping N organizations for SECONDS"
    )
    parser.add_argument("--scrape-interval", type=int, default=30, help="with --scrape (the chart's: 30)")
    parser.add_argument("--serve-api", nargs=2, metavar=("PORT", "OBJECTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_api:
        history_api_server(int(args.serve_api[0]), Path(args.serve_api[1]))
        return
    stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime())
    out = args.out or REPO / "bench" / "results" / f"history-api-{stamp}.json"
    runs = []
    for orgs in args.orgs:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-history-{orgs}-"))
        if args.scrape:
            runs.append(scrape(workdir, orgs, args.scrape_interval, args.scrape))
            print_scrape(runs[-1])
        else:
            runs.append(measure(workdir, orgs, args.days, args.interval, args.every_sample, args))
            print_run(runs[-1])
        out.write_text(json.dumps({"argv": sys.argv[1:] if argv is None else argv, "runs": runs}, indent=1))
        log(f"logs in {workdir}")
    log(f"results in {out}")


if __name__ == "__main__":
    main()
