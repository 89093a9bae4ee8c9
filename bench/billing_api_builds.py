"""`make bench-api BENCH_API_ARGS='--builds before=DIR after=.'`: builds of the API compared in one run.

On a machine shared with other work two runs never see the same load, so the builds take turns
(A B A B, `--rounds`), each measured beside the framework's bound right after it, on one control
plane with the same organizations. A build is a source tree (a worktree, or `git archive` of a
commit): its `operator/` comes first on the API's PYTHONPATH, with this interpreter's
dependencies; `NAME=DIR@errors` runs it with ORGQUOTA_ACCESS_LOG=errors (no line per successful
read: what the access line costs), otherwise `all`. With each figure: the API's and the bound's
CPU per request (utime + stime of the process, its threads included: a log writer thread counts)
and the load average.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.billing_api import REPO, fetch_body, first_requests, load, stop, wait_http
from bench.measure import cpu_seconds, loadavg
from localcluster.controlplane import free_ports
from localcluster.procs import spawn
from tests.support.oidc import Issuer

ROUTE = "/organization-subscription"


def start_api(python_path: Path, port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "orgquota", "api", "--port", str(port)]
    api = spawn(command, log_path, detached=False, env={**env, "PYTHONPATH": str(python_path)})
    wait_http(f"http://127.0.0.1:{port}/readyz", api, log_path)
    return api


def measured(url: str, pid: int, tokens: list[str], clients: int, seconds: float) -> dict[str, float]:
    before = cpu_seconds(pid)
    figures = asyncio.run(load(url, tokens, clients, seconds))
    requests = figures["rps"] * seconds
    return {**figures, "cpu_ms": 1000 * (cpu_seconds(pid) - before) / max(requests, 1), "load": loadavg()[0]}


def compare(
    env: dict[str, str], names: list[str], workdir: Path, builds: dict[str, str], options: Any
) -> list[dict[str, Any]]:
    issuer = Issuer()
    tokens = [issuer.token(org=name, groups=["org-admin"]) for name in names]
    env = {**env, "OIDC_ISSUER_URL": issuer.url, "ORGANIZATION_PROJECTS_LIMIT": "3"}
    rows: list[dict[str, Any]] = []
    constant = None
    try:
        for round_number in range(1, options.rounds + 1):
            for build, spec in builds.items():
                api_port, constant_port = free_ports(2)
                tree, _, access_log = str(spec).partition("@")
                api_env = {**env, "ORGQUOTA_ACCESS_LOG": access_log or "all"}
                api = start_api(Path(tree).resolve() / "operator", api_port, api_env, workdir / f"api-{build}.log")
                try:
                    url = f"http://127.0.0.1:{api_port}/api/billing{ROUTE}"
                    if constant is None:  # the bound answers the body the first build answered
                        bodies_file = workdir / "bodies.json"
                        bodies_file.write_text(json.dumps({ROUTE: fetch_body(url, tokens[0])}))
                        serve = ["-m", "bench.billing_api", "--serve-constant", str(constant_port), str(bodies_file)]
                        constant = spawn(
                            [sys.executable, *serve],
                            workdir / "constant.log",
                            detached=False,
                            env={**env, "PYTHONPATH": str(REPO)},
                        )
                        bound_url = f"http://127.0.0.1:{constant_port}/api/billing{ROUTE}"
                        wait_http(bound_url, constant, workdir / "constant.log")
                    asyncio.run(first_requests(url, tokens))
                    for clients in options.clients:
                        api_figures = measured(url, api.pid, tokens, clients, options.seconds)
                        bound = measured(bound_url, constant.pid, tokens, clients, options.seconds)
                        rows.append(
                            {"build": build, "round": round_number, "clients": clients, "api": api_figures}
                            | {"bound": bound}
                        )
                        print_row(rows[-1])
                finally:
                    stop(api)
    finally:
        stop(constant)
        issuer.close()
    print_summary(rows, builds)
    return rows


def print_row(row: dict[str, Any]) -> None:
    api, bound = row["api"], row["bound"]
    print(
        f"{row['build']:>10} round {row['round']} x{row['clients']:<3} {api['rps']:>6.0f} req/s"
        f" (bound {bound['rps']:>5.0f}) ratio {api['rps'] / bound['rps']:.2f}"
        f"  p50/p99 {api['p50_ms']:.1f}/{api['p99_ms']:.1f} ms  CPU/request {api['cpu_ms']:.3f} ms"
        f" (bound {bound['cpu_ms']:.3f})  load {api['load']:.1f}/{bound['load']:.1f}  errors {api['errors']:.0f}",
        flush=True,
    )


def print_summary(rows: list[dict[str, Any]], builds: dict[str, str]) -> None:
    print(f"\nGET {ROUTE}: medians over rounds")
    for build in builds:
        for clients in sorted({row["clients"] for row in rows}):
            mine = [row for row in rows if row["build"] == build and row["clients"] == clients]
            if not mine:
                continue
            ratio = statistics.median(row["api"]["rps"] / row["bound"]["rps"] for row in mine)
            cpu = statistics.median(row["api"]["cpu_ms"] for row in mine)
            bound_cpu = statistics.median(row["bound"]["cpu_ms"] for row in mine)
            print(
                f"{build:>10} x{clients:<3} ratio {ratio:.2f}  API CPU/request {cpu:.3f} ms"
                f" (bound {bound_cpu:.3f})  rounds {len(mine)}"
            )
