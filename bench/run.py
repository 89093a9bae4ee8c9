"""`make bench`: how orgquota scales with the number of Organizations (issue 7).

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
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final, TypeVar

import aiohttp
from kubernetes.aio import client, config

from localcluster.controlplane import ControlPlane, free_ports
from localcluster.kubectl import Cluster, install_crds
from localcluster.versions import ETCD_VERSION
from orgquota.controller.settings import Settings
from orgquota.core import manifests as objects
from orgquota.core.annotations import PLAN_ID, PLAN_LABEL, SUBSCRIPTION
from orgquota.core.catalog import Catalog, parse_configmap_data
from orgquota.core.desired import DesiredQuota, desired_quota
from orgquota.core.quantity import Quantity
from orgquota.kube.client import HRQ, LIMIT_RANGE, ORGANIZATION, Kube, KubeError, Manifest

T = TypeVar("T")
DESCRIPTION: Final = "How orgquota scales with the number of Organizations (issue 7); see bench/README.md."

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
EXAMPLES: Final = REPO_ROOT / "examples" / "organization"
NAMESPACES_FILE: Final = EXAMPLES / "00-namespaces.yaml"
CATALOG_FILE: Final = EXAMPLES / "04-billing-plans-configmap.yaml"
RESULTS_DIR: Final = REPO_ROOT / "bench" / "results"
TRACED_OPERATOR: Final = REPO_ROOT / "bench" / "traced_operator.py"

PLAN: Final = "pro-pool"
OTHER_PLAN: Final = "scale-pool"
# Exact snippets of the example catalog that the bench edits (each must occur once).
FANOUT_EDIT: Final = ('requests: {cpu: "8", memory: 24Gi', 'requests: {cpu: "10", memory: 24Gi')
NOOP_EDIT: Final = ("displayName: Pro Pool\n", "displayName: Pro Pool (renamed by bench)\n")

WRITE_VERBS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"})
SETUP_CONCURRENCY: Final = 32
STARTUP_LOG: Final = "organizations reconciled in"
"""the operator's start-up line: `startup: N organizations reconciled in X s`"""
RECONCILES_TOTAL: Final = "orgquota_reconciles_total"
QUEUE_DEPTH: Final = "orgquota_queue_depth"
RECONCILE_SECONDS_SUM: Final = "orgquota_reconcile_seconds_sum"
OPERATOR_METRICS: Final = (RECONCILES_TOTAL, QUEUE_DEPTH, RECONCILE_SECONDS_SUM)
CLK_TCK: Final = os.sysconf("SC_CLK_TCK")
PAGE_KB: Final = os.sysconf("SC_PAGE_SIZE") // 1024


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- /proc --------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MB."""
    found: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found


def system_busy_seconds() -> float:
    """CPU time the whole machine spent not idle (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def pids_with_arg(fragment: str, names: Sequence[str]) -> dict[str, int]:
    """Pids of processes named `names` whose command line contains `fragment` (our control plane's dir)."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name = Path(argv[0].decode(errors="replace")).name
        if name in names and any(fragment.encode() in arg for arg in argv):
            found[name] = int(entry.name)
    return found


def machine_facts() -> dict[str, Any]:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    models = [
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    ]

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": models[0] if models else platform.processor(),
        "memory_total_mb": int(meminfo["MemTotal"].split()[0]) // 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "kopf": version("kopf"),
        "kubernetes_client": version("kubernetes"),
        "aiohttp": version("aiohttp"),
        "pydantic": version("pydantic"),
        "etcd": ETCD_VERSION,
    }


def code_version() -> dict[str, Any]:
    """Which operator code was measured: the commit, uncommitted changes under operator/, a digest of it."""

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "operator" / "orgquota").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "operator_uncommitted": git("status", "--porcelain", "--", "operator").splitlines(),
        "operator_sources_sha256": digest.hexdigest()[:16],
    }


@dataclass
class Processes:
    """The processes whose CPU time the bench accounts for (pids of 0 are not known: external cluster)."""

    operator: int = 0
    apiserver: int = 0
    etcd: int = 0

    def snapshot(self) -> dict[str, float]:
        own = cpu_seconds(os.getpid())
        return {
            "wall": time.monotonic(),
            "operator": cpu_seconds(self.operator) if self.operator else 0.0,
            "apiserver": cpu_seconds(self.apiserver) if self.apiserver else 0.0,
            "etcd": cpu_seconds(self.etcd) if self.etcd else 0.0,
            "bench": own,
            "machine": system_busy_seconds(),
        }


def reconcile_stats(before: Mapping[str, float] | None, after: Mapping[str, float] | None) -> dict[str, Any] | None:
    """Reconciles between two scrapes of the operator's metrics, and their mean duration."""
    if not after or RECONCILES_TOTAL not in after:
        return None
    before = before or {}
    count = after[RECONCILES_TOTAL] - before.get(RECONCILES_TOTAL, 0.0)
    seconds = after.get(RECONCILE_SECONDS_SUM, 0.0) - before.get(RECONCILE_SECONDS_SUM, 0.0)
    return {"count": int(count), "mean_ms": round(1000 * seconds / count, 1) if count else None}


def cpu_cost(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """CPU seconds per process between two snapshots; `other` is the rest of the machine (other users)."""
    cost = {key: round(after[key] - before[key], 2) for key in before}
    ours = sum(cost[key] for key in ("operator", "apiserver", "etcd", "bench"))
    cost["other"] = round(max(cost.pop("machine") - ours, 0.0), 2)
    cost["wall"] = round(cost["wall"], 2)
    return cost


# --- the API ------------------------------------------------------------------------------------------


class Api:
    """`orgquota.kube.client.Kube` for JSON requests, plus raw access (for /metrics and watch streams).

    `kube` is the very client class the operator uses; `watch_client` is a second connection
    pool, so that long-lived watches never take a connection from the request workers.
    """

    def __init__(self, kubeconfig: Path, max_connections: int) -> None:
        self.kubeconfig = kubeconfig
        self.max_connections = max_connections
        self.kube: Kube
        self._clients: list[Any] = []
        self._watch_client: Any = None

    async def _client(self, max_connections: int) -> Any:
        configuration = client.Configuration()
        await config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig), client_configuration=configuration
        )
        configuration.connection_pool_maxsize = max_connections
        api_client = client.ApiClient(configuration)
        self._clients.append(api_client)
        return api_client

    async def __aenter__(self) -> Api:
        self.kube = Kube(await self._client(self.max_connections))
        self._watch_client = await self._client(8)
        return self

    async def __aexit__(self, *_: object) -> None:
        for api_client in self._clients:
            await api_client.close()

    async def raw(self, path: str, query: Mapping[str, str] | None = None, *, stream: bool = False) -> Any:
        """GET `path`; the kubernetes.aio RESTResponse (`.response` is the aiohttp response)."""
        method, url, headers, _, _ = await self._watch_client.param_serialize(
            "GET",
            path,
            query_params=list((query or {}).items()),
            header_params={"Accept": "application/json, text/plain"},
            auth_settings=["BearerToken"],
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None) if stream else 60
        return await self._watch_client.call_api(method, url, header_params=headers, _request_timeout=timeout)

    async def request_counts(self) -> Counter[tuple[str, str, str, str]]:
        """`apiserver_request_total` summed by (verb, group, resource, subresource), from /metrics."""
        response = await self.raw("/metrics")
        text = (await response.read()).decode()
        if response.status != 200:
            raise RuntimeError(f"GET /metrics: {response.status}: {text[:200]}")
        counts: Counter[tuple[str, str, str, str]] = Counter()
        for line in text.splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            labels_text, _, value = line[len("apiserver_request_total{") :].rpartition("} ")
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels_text))
            key = (labels.get("verb", ""), labels.get("group", ""), labels.get("resource", ""))
            counts[(*key, labels.get("subresource", ""))] += int(float(value))
        return counts

    async def server_version(self) -> str:
        response = await self.raw("/version")
        return str(json.loads(await response.read()).get("gitVersion", "?"))


def request_diff(
    before: Counter[tuple[str, str, str, str]], after: Counter[tuple[str, str, str, str]]
) -> Counter[tuple[str, str, str, str]]:
    diff = Counter(after)
    diff.subtract(before)
    return Counter({key: count for key, count in diff.items() if count > 0})


def writes_summary(diff: Counter[tuple[str, str, str, str]], bench: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Requests served, by `VERB resource[/subresource]`.

    `operator` is every write except the bench's own (`bench`, e.g. its ConfigMap edit) and the
    apiserver's own lease renewals: nothing else writes to this control plane while the bench waits.
    """
    writes = {
        f"{verb} {resource}{'/' + sub if sub else ''}": count
        for (verb, _group, resource, sub), count in sorted(diff.items())
        if verb in WRITE_VERBS
    }
    internal = sum(
        count for (verb, _g, resource, _s), count in diff.items() if verb in WRITE_VERBS and resource == "leases"
    )
    own = sum((bench or {}).values())
    operator = sum(writes.values()) - internal - own
    reads = sum(count for (verb, *_), count in diff.items() if verb in ("GET", "LIST"))
    reads_by_request = {
        f"{verb} {resource or '(non-resource)'}{'/' + sub if sub else ''}": count
        for (verb, _group, resource, sub), count in sorted(diff.items())
        if verb in ("GET", "LIST", "WATCH")
    }
    return {
        "operator": operator,
        "all": sum(writes.values()),
        "bench_own": dict(bench or {}),
        "by_request": writes,
        "reads": reads,
        "reads_by_request": reads_by_request,
    }


# --- watches ------------------------------------------------------------------------------------------


@dataclass
class Expectation:
    """Waits until `want` holds for the watched object of every namespace in `keys`."""

    keys: frozenset[str]
    want: Callable[[Manifest], bool]
    pending: set[str] = field(default_factory=set)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    finished_at: float = 0.0


class Watcher:
    """A watch over one kind (one object name per namespace), keeping the latest object per namespace."""

    def __init__(self, api: Api, path: str, field_selector: str) -> None:
        self.api = api
        self.path = path
        self.field_selector = field_selector
        self.objects: dict[str, Manifest] = {}
        self.events = 0
        self._expectation: Expectation | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"watch {self.path}")
        await asyncio.wait_for(self._connected.wait(), 30)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        resource_version = ""
        while True:
            query = {"watch": "1", "fieldSelector": self.field_selector, "timeoutSeconds": "3600"}
            if resource_version:
                query["resourceVersion"] = resource_version
            response = await self.api.raw(self.path, query, stream=True)
            if response.status != 200:
                raise RuntimeError(f"watch {self.path}: {response.status} {await response.read()!r}")
            self._connected.set()
            async for line in response.response.content:
                event = json.loads(line)
                if event["type"] == "ERROR":  # 410 Gone: start over from the current state
                    resource_version = ""
                    break
                obj = event["object"]
                resource_version = obj["metadata"]["resourceVersion"]
                if event["type"] == "BOOKMARK":
                    continue
                self._observe(event["type"], obj)
            response.response.release()

    def _observe(self, kind: str, obj: Manifest) -> None:
        now = time.monotonic()
        self.events += 1
        namespace = obj["metadata"]["namespace"]
        if kind == "DELETED":
            self.objects.pop(namespace, None)
        else:
            self.objects[namespace] = obj
        expectation = self._expectation
        if expectation is None or namespace not in expectation.keys:
            return
        if kind != "DELETED" and expectation.want(obj):
            expectation.pending.discard(namespace)
        else:
            expectation.pending.add(namespace)
        if not expectation.pending and not expectation.done.is_set():
            expectation.finished_at = now
            expectation.done.set()

    def expect(self, keys: Iterable[str], want: Callable[[Manifest], bool]) -> Expectation:
        """From now on, track which of `keys` lack an object for which `want` holds."""
        expectation = Expectation(frozenset(keys), want)
        expectation.pending = {
            key for key in expectation.keys if key not in self.objects or not want(self.objects[key])
        }
        if not expectation.pending:
            expectation.finished_at = time.monotonic()
            expectation.done.set()
        self._expectation = expectation
        return expectation

    async def wait(self, expectation: Expectation, within: float, what: str) -> float:
        """The monotonic time at which the expectation was met."""
        try:
            await asyncio.wait_for(expectation.done.wait(), within)
        except TimeoutError:
            missing = sorted(expectation.pending)
            raise TimeoutError(
                f"{what}: {len(missing)} of {len(expectation.keys)} still pending after {within:.0f}s "
                f"(e.g. {missing[:3]})"
            ) from None
        return expectation.finished_at


def exists(_: Manifest) -> bool:
    return True


def status_plan_is(plan: str) -> Callable[[Manifest], bool]:
    """The Organization's status reports `plan`: the last write of a reconcile."""
    return lambda org: bool((org.get("status") or {}).get("plan") == plan)


def hrq_matches(desired: DesiredQuota) -> Callable[[Manifest], bool]:
    """The HRQ carries the desired plan label and exactly the desired `spec.hard` (compared by value)."""
    want = dict(desired.hard)

    def check(obj: Manifest) -> bool:
        labels = obj["metadata"].get("labels") or {}
        hard = obj.get("spec", {}).get("hard") or {}
        if labels.get(PLAN_LABEL) != desired.plan_id or set(hard) != set(want):
            return False
        return all(Quantity.parse(hard[key]) == value for key, value in want.items())

    return check


# --- the operator process -----------------------------------------------------------------------------


class Operator:
    """`python -m orgquota run` as a separate process, its log in a file (as the e2e tests run it)."""

    def __init__(self, env: Mapping[str, str], log_path: Path, py_spy: str | None, traced: Path | None = None) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.py_spy = py_spy
        self.traced = traced
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._offset = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as out:
            self.started_at = time.monotonic()
            command = [sys.executable, "-m", "orgquota", "run"]
            if self.traced is not None:
                command = [sys.executable, str(TRACED_OPERATOR), str(self.traced)]
            self.proc = subprocess.Popen(
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        """What the current process has logged so far."""
        with self.log_path.open("rb") as out:
            out.seek(self._offset)
            return out.read().decode(errors="replace")

    def count(self, text: str) -> int:
        return self.log().count(text)

    async def wait_log(self, text: str, within: float, after: int = 0) -> float:
        """Wait until `text` occurs more than `after` times in this process's log; the time it was seen."""
        deadline = time.monotonic() + within
        while True:
            assert self.proc is not None
            if self.count(text) > after:
                return time.monotonic()
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"operator did not log {text!r} within {within:.0f}s")
            await asyncio.sleep(0.05)

    async def wait_startup(self, within: float) -> tuple[float, float]:
        """Wait for the operator's `startup: N organizations reconciled in X s` line; (when it was
        seen, the X it reports: seconds from its own first LIST)."""
        seen_at = await self.wait_log(STARTUP_LOG, within)
        startup = re.search(rf"startup: \d+ {STARTUP_LOG} ([\d.]+)s", self.log())
        assert startup is not None
        return seen_at, float(startup.group(1))

    async def wait_idle(self, quiet: float = 1.0, within: float = 600.0, poll: float = 0.05) -> float:
        """Wait until the operator has used no CPU for `quiet` seconds; the time its last work ended.

        The operator has no "work queue drained" signal (no log line, metric or endpoint), so the
        bench takes an idle process for a drained queue: every reconcile costs CPU (JSON, kopf).
        """
        deadline = time.monotonic() + within
        last = cpu_seconds(self.pid)
        last_busy = time.monotonic()
        while True:
            await asyncio.sleep(poll)
            now, used = time.monotonic(), cpu_seconds(self.pid)
            if used != last:
                last, last_busy = used, now
            elif now - last_busy >= quiet:
                return last_busy
            if now > deadline:
                raise TimeoutError(f"operator still busy after {within:.0f}s")

    async def memory_report(self) -> dict[str, Any] | None:
        """With `--tracemalloc`: what the live memory was allocated by (bench/traced_operator.py)."""
        if self.traced is None:
            return None
        self.traced.unlink(missing_ok=True)
        assert self.proc is not None
        self.proc.send_signal(signal.SIGUSR1)
        for _ in range(1200):
            if self.traced.exists():
                report: dict[str, Any] = json.loads(self.traced.read_text())
                self.traced.unlink()
                return report
            await asyncio.sleep(0.1)
        return {"error": "no tracemalloc report within 120 s"}

    async def metrics(self) -> dict[str, float] | None:
        """The operator's own Prometheus metrics (reconciles, queue depth), if it serves them."""
        port = self.env.get("ORGQUOTA_METRICS_PORT")
        if not port:
            return None
        try:
            async with (
                aiohttp.ClientSession(trust_env=False) as session,
                session.get(f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=10)) as resp,
            ):
                text = await resp.text()
        except (aiohttp.ClientError, TimeoutError):
            return None
        found: dict[str, float] = {}
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            for metric in OPERATOR_METRICS:
                if name == metric or name.startswith(metric + "{"):
                    found[metric] = found.get(metric, 0.0) + float(value)
        return found or None

    def profile(self, output: Path) -> subprocess.Popen[bytes] | None:
        """Attach py-spy (sampling, collapsed stacks) until `stop_profile`; None without `--py-spy`."""
        if not self.py_spy:
            return None
        return subprocess.Popen(
            [
                *(self.py_spy, "record", "--pid", str(self.pid), "--format", "raw", "--function"),
                *("--rate", "100", "--nonblocking", "--output", str(output)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def stop_profile(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Where a py-spy sample belongs. Main-thread samples are attributed to the callback the event loop
# was running (the frame after the last `Handle._run`): for a task, its outermost coroutine.
ACTIVITIES: Final = (
    ("WorkQueue._work", "orgquota reconciles (WorkQueue._work)"),
    ("EventRecorder._send", "orgquota Event posting (EventRecorder._send)"),
    ("startup_cleanup_activities", "orgquota start handler (initial lists, observe)"),
    ("Scheduler._task_", "kopf scheduler (per-object worker tasks)"),
    ("_release_waiter", "asyncio wake-ups (timeouts, waiters)"),
    ("process_resource_event", "kopf event processing (handlers, diff-base, loggers)"),
    ("worker (kopf/", "kopf event processing (handlers, diff-base, loggers)"),
    ("watcher (kopf/", "kopf watch streams (decode, multiplex)"),
    ("guard (kopf/", "kopf watch streams (decode, multiplex)"),
    ("_read_ready", "socket reads + TLS (responses, watch streams)"),
    ("write_bytes", "request body writes + TLS"),
    ("_read_from_self", "event loop wake-ups from executor threads"),
    ("_set_state", "event loop wake-ups from executor threads"),
)
THREAD_ACTIVITIES: Final = (
    ("_get_netrc_auth", "thread: aiohttp trust_env netrc lookup, per request"),
    ("netrc", "thread: aiohttp trust_env netrc lookup, per request"),
    ("get_env_proxy_for_url", "thread: aiohttp trust_env proxy lookup, per request"),
    ("orgquota/handlers.py", "thread: kopf runs the sync handlers in an executor"),
    ("call_soon_threadsafe", "thread: executor hop completions (call_soon_threadsafe)"),
    ("kopf/", "thread: kopf (other)"),
)
# Inside a reconcile (inclusive): which parts of the operator's own code cost what.
RECONCILE_PARTS: Final = (
    ("EventRecorder.record", "posting Events"),
    ("Logger.", "logging (format + write)"),
    ("Kube.request", "HTTP requests (client + TLS + JSON)"),
    ("desired_quota", "desired_quota"),
    ("hard_patch", "comparing HRQs (Quantity parsing)"),
    ("limit_range_patch", "comparing LimitRanges (Quantity parsing)"),
    ("quota_status", "building the status"),
)
KOPF_PARTS: Final = (
    ("invoke (kopf/", "invoking handlers (sync ones via an executor)"),
    ("DiffBaseStorage.build", "diff-base essence (deepcopy of every body)"),
    ("ObjectLogger.__init__", "per-event object loggers"),
    ("ProgressStorage", "progress storage"),
)


def _activity(frames: Sequence[str]) -> str:
    if not frames[0].startswith("_run_module_as_main"):
        for fragment, label in THREAD_ACTIVITIES:
            if any(fragment in frame for frame in frames):
                return label
        if frames[-1].startswith("_worker (concurrent/futures/thread.py"):
            return "thread: executor worker waiting (idle, counted by --nonblocking sampling)"
        return "thread: other"
    handles = [i for i, frame in enumerate(frames) if frame.startswith("Handle._run")]
    if not handles:
        return "event loop itself (select, scheduling) and start-up imports"
    callback = ";".join(frames[handles[-1] + 1 : handles[-1] + 3])
    for fragment, label in ACTIVITIES:
        if fragment in callback:
            return label
    return "other callbacks"


def summarize_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Where the samples of a py-spy raw (collapsed) profile went: by activity, and inside the big ones."""
    if not path.exists():
        return {"error": f"no profile written at {path}"}
    activities: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    reconcile: Counter[str] = Counter()
    kopf: Counter[str] = Counter()
    total = reconciling = kopf_total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        activity = _activity(frames)
        if "idle" in activity:
            continue  # not CPU time
        total += count
        activities[activity] += count
        leaf[frames[-1]] += count
        if activity.startswith("orgquota reconciles"):
            reconciling += count
            for fragment, label in RECONCILE_PARTS:
                if any(fragment in frame for frame in frames):
                    reconcile[label] += count
        elif activity.startswith("kopf event processing"):
            kopf_total += count
            for fragment, label in KOPF_PARTS:
                if any(fragment in frame for frame in frames):
                    kopf[label] += count

    def share(counter: Counter[str], of: int) -> list[list[Any]]:
        return [[name, round(100 * n / of, 1)] for name, n in counter.most_common(top)] if of else []

    return {
        "busy_samples": total,
        "busy_seconds_at_100hz": round(total / 100, 1),
        "by_activity_pct": share(activities, total),
        "inside_reconciles_pct_of_reconcile": share(reconcile, reconciling),
        "inside_kopf_event_processing_pct_of_it": share(kopf, kopf_total),
        "top_leaf_functions_pct": share(leaf, total),
        "raw": str(path),
    }


# --- the benchmark ------------------------------------------------------------------------------------


async def pool(items: Sequence[T], work: Callable[[T], Awaitable[object]], concurrency: int) -> float:
    """Run `work` over `items` with `concurrency` workers; the wall time it took."""
    iterator = iter(items)
    began = time.monotonic()

    async def worker() -> None:
        for item in iterator:
            await work(item)

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    return time.monotonic() - began


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
    """Setup requests only: retry the apiserver's 429/5xx (measured requests are never retried)."""
    for attempt in range(attempts):
        try:
            return await call()
        except KubeError as exc:
            if exc.status not in (429, 500, 503, 504) or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def edit_catalog(text: str, edit: tuple[str, str]) -> str:
    old, new = edit
    if text.count(old) != 1:
        raise SystemExit(f"bench: the catalog must contain {old!r} exactly once to be edited")
    return text.replace(old, new)


def catalog_of(plans_yaml: str) -> Catalog:
    return parse_configmap_data({"plans.yaml": plans_yaml})


def org_manifest(name: str, plan: str) -> Manifest:
    return {
        "apiVersion": "kube-dc.com/v1",
        "kind": "Organization",
        "metadata": {
            "name": name,
            "namespace": name,
            "annotations": {PLAN_ID: plan, SUBSCRIPTION: "active"},
        },
        "spec": {"email": f"admin@{name}.example"},
    }


@dataclass
class Run:
    """One benchmark at one N, against one cluster."""

    n: int
    cluster: Cluster
    api: Api
    procs: Processes
    settings: Settings
    workers: int
    workdir: Path
    py_spy: str | None
    prefix: str
    tracemalloc: bool = False
    started: list[Operator] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    catalog_text: str = ""

    @property
    def orgs(self) -> list[str]:
        return [f"{self.prefix}-org-{i:05d}" for i in range(self.n)]

    @property
    def bare(self) -> list[str]:
        return [f"{self.prefix}-bare-{i:05d}" for i in range(self.n)]

    def desired(self, plan: str, catalog_text: str | None = None) -> DesiredQuota:
        catalog = catalog_of(catalog_text or self.catalog_text)
        return desired_quota({PLAN_ID: plan, SUBSCRIPTION: "active"}, catalog, self.settings.quota)

    def operator(self) -> Operator:
        # Its Prometheus endpoint on a free port: a fixed one may be held by another operator on this machine.
        env = {
            **self.cluster.env,
            "ORGQUOTA_WORKERS": str(self.workers),
            "ORGQUOTA_METRICS_PORT": str(free_ports(1)[0]),
        }
        traced = self.workdir / "tracemalloc.json" if self.tracemalloc else None
        operator = Operator(env, self.workdir / f"operator-{self.n}.log", self.py_spy, traced)
        self.started.append(operator)
        return operator

    async def set_catalog(self, text: str) -> None:
        self.catalog_text = text
        path = f"/api/v1/namespaces/{self.settings.catalog_namespace}/configmaps/{self.settings.catalog_name}"
        await self.api.kube.merge_patch(path, {"data": {"plans.yaml": text}})

    # -- phases ---------------------------------------------------------------------------------------

    async def setup(self) -> None:
        self.cluster.kubectl("apply", "-f", str(NAMESPACES_FILE))
        self.cluster.kubectl("apply", "-f", str(CATALOG_FILE))
        configmap = await self.api.kube.get(
            f"/api/v1/namespaces/{self.settings.catalog_namespace}/configmaps/{self.settings.catalog_name}"
        )
        assert configmap is not None
        self.catalog_text = configmap["data"]["plans.yaml"]

    async def create_objects(self) -> None:
        kube = self.api.kube

        async def namespace(name: str) -> None:
            await with_retries(
                lambda: kube.create(
                    "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                )
            )

        async def organization(name: str) -> None:
            await namespace(name)
            await with_retries(lambda: kube.create(ORGANIZATION.path(name), org_manifest(name, PLAN)))

        log(f"N={self.n}: creating {self.n} namespaces for the bare client")
        bare_seconds = await pool(self.bare, namespace, SETUP_CONCURRENCY)
        log(f"N={self.n}: creating {self.n} namespaces + {self.n} Organizations ({PLAN}, active)")
        org_seconds = await pool(self.orgs, organization, SETUP_CONCURRENCY)
        self.result["setup"] = {
            "create_bare_namespaces_s": round(bare_seconds, 2),
            "create_org_namespaces_and_orgs_s": round(org_seconds, 2),
            "concurrency": SETUP_CONCURRENCY,
        }

    async def baseline_memory(self) -> None:
        """The operator's memory with the catalog and no Organizations (done before any exists)."""
        operator = self.operator()
        operator.start()
        try:
            await operator.wait_startup(120)
            await operator.wait_idle(quiet=1.0)
            self.result["operator_zero_orgs"] = {
                **{k: round(v, 1) for k, v in memory_mb(operator.pid).items()},
                "startup_cpu_s": round(cpu_seconds(operator.pid), 2),
            }
        finally:
            operator.stop()

    async def bare_client(self) -> None:
        """The bound: HRQ + LimitRange creates, then HRQ merge-patches, by a plain loop of `workers` workers."""
        kube = self.api.kube
        desired = self.desired(PLAN)
        after_fanout = self.desired(PLAN, edit_catalog(self.catalog_text, FANOUT_EDIT))
        labels = objects.managed_labels(PLAN)
        assert desired.limit_range is not None
        owners = {name: objects.owner_reference(name, str(uuid.uuid4())) for name in self.bare}
        sample = objects.hrq_manifest(desired.hard, labels, owners[self.bare[0]])
        patch = objects.hard_patch(sample, after_fanout.hard, labels)
        assert patch, "the fan-out edit must change the HRQ"
        limit_range = desired.limit_range

        async def create(name: str) -> None:
            await kube.create(HRQ.path(name), objects.hrq_manifest(desired.hard, labels, owners[name]))
            await kube.create(LIMIT_RANGE.path(name), objects.limit_range_manifest(limit_range, labels, owners[name]))

        async def merge_patch(name: str) -> None:
            await kube.merge_patch(HRQ.path(name, objects.HRQ_NAME), patch)

        async def delete(name: str) -> None:
            await with_retries(lambda: kube.delete(HRQ.path(name, objects.HRQ_NAME)))
            await with_retries(lambda: kube.delete(LIMIT_RANGE.path(name, objects.LIMIT_RANGE_NAME)))

        log(f"N={self.n}: bare client: {self.n} x (POST HRQ, POST LimitRange), {self.workers} workers")
        before = self.procs.snapshot()
        counts = await self.api.request_counts()
        create_seconds = await pool(self.bare, create, self.workers)
        middle = self.procs.snapshot()
        counts_mid = await self.api.request_counts()
        log(f"N={self.n}: bare client: {self.n} x PATCH HRQ")
        patch_seconds = await pool(self.bare, merge_patch, self.workers)
        after = self.procs.snapshot()
        counts_after = await self.api.request_counts()
        await pool(self.bare, delete, SETUP_CONCURRENCY)  # the operator must not see them
        self.result["bare"] = {
            "create_s": round(create_seconds, 2),
            "create_requests_per_s": round(2 * self.n / create_seconds, 1),
            "create_cpu_s": cpu_cost(before, middle),
            "create_writes": writes_summary(request_diff(counts, counts_mid))["by_request"],
            "patch_s": round(patch_seconds, 2),
            "patch_requests_per_s": round(self.n / patch_seconds, 1),
            "patch_cpu_s": cpu_cost(middle, after),
            "patch_writes": writes_summary(request_diff(counts_mid, counts_after))["by_request"],
            "workers": self.workers,
            "max_connections": self.api.max_connections,
        }

    async def operator_phases(self, hrqs: Watcher, limit_ranges: Watcher) -> None:
        operator = self.operator()
        n = self.n
        # 1. initial convergence
        expect_hrq = hrqs.expect(self.orgs, exists)
        expect_lr = limit_ranges.expect(self.orgs, exists)
        counts = await self.api.request_counts()
        before = self.procs.snapshot()
        log(f"N={n}: starting the operator; waiting for {n} HRQs and {n} LimitRanges")
        operator.start()
        self.procs.operator = operator.pid
        profile = operator.profile(self.workdir / f"profile-initial-{n}.txt")
        timeout = (120 + n * 0.2) * (10 if self.tracemalloc else 1)
        hrq_at = await hrqs.wait(expect_hrq, timeout, "initial HRQs")
        lr_at = await limit_ranges.wait(expect_lr, timeout, "initial LimitRanges")
        converged_at = max(hrq_at, lr_at)
        logged_at, from_first_list_s = await operator.wait_startup(timeout)
        idle_at = await operator.wait_idle(quiet=1.0)
        stop_profile(profile)
        after = self.procs.snapshot()
        counts_after = await self.api.request_counts()
        bare = self.result["bare"]
        converge_s = converged_at - operator.started_at
        self.result["initial"] = {
            "operator_s": round(converge_s, 2),
            "operator_from_first_list_s": from_first_list_s,
            "operator_startup_log_after_s": round(logged_at - operator.started_at, 2),
            "operator_idle_after_s": round(idle_at - operator.started_at, 2),
            "bare_s": bare["create_s"],
            "ratio_operator_over_bare": round(converge_s / bare["create_s"], 2),
            "ratio_operator_from_list_over_bare": round(from_first_list_s / bare["create_s"], 2),
            "cpu_s": cpu_cost(before, after),
            "requests": writes_summary(request_diff(counts, counts_after)),
            "operator_memory_mb": {k: round(v, 1) for k, v in memory_mb(operator.pid).items()},
            "watch_events": {"hrq": hrqs.events, "limitrange": limit_ranges.events},
            "reconciles": reconcile_stats({}, await operator.metrics()),
        }
        if profile is not None:
            self.result["initial"]["profile"] = summarize_profile(self.workdir / f"profile-initial-{n}.txt")
        if self.tracemalloc:
            self.result["initial"]["tracemalloc"] = await operator.memory_report()
        idle_s = idle_at - operator.started_at
        log(f"N={n}: converged in {converge_s:.2f}s (bare {bare['create_s']:.2f}s), idle at {idle_s:.2f}s")

        self.result["initial"]["settle"] = await self.settle(timeout)

        # 2. catalog fan-out
        fanned = edit_catalog(self.catalog_text, FANOUT_EDIT)
        expect = hrqs.expect(self.orgs, hrq_matches(self.desired(PLAN, fanned)))
        counts = await self.api.request_counts()
        before = self.procs.snapshot()
        metrics = await operator.metrics()
        profile = operator.profile(self.workdir / f"profile-fanout-{n}.txt")
        log(f"N={n}: fan-out: {PLAN} requests.cpu 8 -> 10")
        sent = time.monotonic()
        await self.set_catalog(fanned)
        done_at = await hrqs.wait(expect, timeout, "fan-out")
        idle_at = await operator.wait_idle(quiet=1.0)
        stop_profile(profile)
        after = self.procs.snapshot()
        counts_after = await self.api.request_counts()
        fanout_s = done_at - sent
        self.result["fanout"] = {
            "operator_s": round(fanout_s, 2),
            "operator_idle_after_s": round(idle_at - sent, 2),
            "bare_s": bare["patch_s"],
            "ratio_operator_over_bare": round(fanout_s / bare["patch_s"], 2),
            "cpu_s": cpu_cost(before, after),
            "requests": writes_summary(request_diff(counts, counts_after), {"PATCH configmaps": 1}),
            "reconciles": reconcile_stats(metrics, await operator.metrics()),
        }
        if profile is not None:
            self.result["fanout"]["profile"] = summarize_profile(self.workdir / f"profile-fanout-{n}.txt")
        log(f"N={n}: fan-out in {fanout_s:.2f}s (bare {bare['patch_s']:.2f}s)")

        self.result["fanout"]["settle"] = await self.settle(timeout)

        # 3. no-op edit
        loaded = f"ConfigMap {self.settings.catalog_namespace}/{self.settings.catalog_name} loaded"
        loads = operator.count(loaded)
        counts = await self.api.request_counts()
        metrics = await operator.metrics()
        before = self.procs.snapshot()
        log(f"N={n}: no-op edit: {PLAN} displayName")
        sent = time.monotonic()
        await self.set_catalog(edit_catalog(self.catalog_text, NOOP_EDIT))
        signal_used = await self.wait_reconciled(operator, n, counts, metrics, timeout)
        reconciled_at = time.monotonic()
        idle_at = await operator.wait_idle(quiet=2.0)
        after = self.procs.snapshot()
        counts_after = await self.api.request_counts()
        self.result["noop"] = {
            # Logged through Kopf's per-object logger ("kopf.objects"), which `orgquota run` mutes below
            # DEBUG: so it is recorded, not waited for.
            "reload_logged": operator.count(loaded) > loads,
            "all_reconciled_after_s": round(reconciled_at - sent, 2),
            "reconciled_signal": signal_used,
            "operator_idle_after_s": round(idle_at - sent, 2),
            "cpu_s": cpu_cost(before, after),
            "requests": writes_summary(request_diff(counts, counts_after), {"PATCH configmaps": 1}),
            "reconciles": reconcile_stats(metrics, await operator.metrics()),
        }
        self.result["noop"]["settle"] = await self.settle(timeout)
        memory_first = memory_mb(operator.pid)
        cpu_first = cpu_seconds(operator.pid)

        # 4. restart with everything converged
        log(f"N={n}: restart")
        operator.stop()
        sample = self.orgs[0]
        status_before = ((await self.api.kube.get(ORGANIZATION.path(sample, sample))) or {}).get("status") or {}
        counts = await self.api.request_counts()
        operator = self.operator()
        before = self.procs.snapshot()
        operator.start()
        self.procs.operator = operator.pid
        profile = operator.profile(self.workdir / f"profile-restart-{n}.txt")
        logged_at, from_first_list_s = await operator.wait_startup(timeout)
        idle_at = await operator.wait_idle(quiet=2.0)
        stop_profile(profile)
        after = self.procs.snapshot()
        counts_after = await self.api.request_counts()
        self.result["restart"] = {
            "startup_log_after_s": round(logged_at - operator.started_at, 2),
            "operator_from_first_list_s": from_first_list_s,
            "operator_idle_after_s": round(idle_at - operator.started_at, 2),
            "cpu_s": cpu_cost(before, after),
            "requests": writes_summary(request_diff(counts, counts_after)),
            "operator_memory_mb": {k: round(v, 1) for k, v in memory_mb(operator.pid).items()},
            "reconciles": reconcile_stats({}, await operator.metrics()),
        }
        if profile is not None:
            self.result["restart"]["profile"] = summarize_profile(self.workdir / f"profile-restart-{n}.txt")
        status_after = ((await self.api.kube.get(ORGANIZATION.path(sample, sample))) or {}).get("status") or {}
        if status_after != status_before:  # evidence for restart writes: what the operator changed
            changed = sorted(set(status_before) | set(status_after))
            self.result["restart"]["status_changed"] = {
                "organization": sample,
                "before": {k: status_before.get(k) for k in changed if status_before.get(k) != status_after.get(k)},
                "after": {k: status_after.get(k) for k in changed if status_before.get(k) != status_after.get(k)},
            }
        if self.tracemalloc:
            self.result["restart"]["tracemalloc"] = await operator.memory_report()

        # 5. single plan change latency while idle
        try:
            await self.single_changes(operator, hrqs, limit_ranges)
            memory_second = memory_mb(operator.pid)
            cpu_second = cpu_seconds(operator.pid)
        finally:
            operator.stop()

        # 6. resources
        zero = self.result.get("operator_zero_orgs", {})
        converged_rss = self.result["initial"]["operator_memory_mb"].get("VmRSS", 0.0)
        self.result["resources"] = {
            "first_process": {
                "peak_rss_mb": round(memory_first.get("VmHWM", 0.0), 1),
                "rss_end_mb": round(memory_first.get("VmRSS", 0.0), 1),
                "cpu_s": round(cpu_first, 2),
                "phases": "start + initial convergence + fan-out + no-op edit",
            },
            "restarted_process": {
                "peak_rss_mb": round(memory_second.get("VmHWM", 0.0), 1),
                "rss_end_mb": round(memory_second.get("VmRSS", 0.0), 1),
                "cpu_s": round(cpu_second, 2),
                "phases": "restart + 200 single changes",
            },
            "rss_zero_orgs_mb": zero.get("VmRSS"),
            "rss_per_org_kb_after_convergence": (
                round((converged_rss - zero["VmRSS"]) * 1024 / n, 1) if zero.get("VmRSS") else None
            ),
            "rss_per_org_kb_after_restart": (
                round((self.result["restart"]["operator_memory_mb"]["VmRSS"] - zero["VmRSS"]) * 1024 / n, 1)
                if zero.get("VmRSS")
                else None
            ),
            "peak_rss_per_org_kb": (
                round((memory_first.get("VmHWM", 0.0) - zero["VmRSS"]) * 1024 / n, 1) if zero.get("VmRSS") else None
            ),
        }

    async def wait_reconciled(
        self,
        operator: Operator,
        n: int,
        counts: Counter[tuple[str, str, str, str]],
        metrics: Mapping[str, float] | None,
        within: float,
    ) -> str:
        """Wait until the operator has reconciled all N organizations since `counts`/`metrics` were taken.

        Its own metrics when it has them (reconciles +N, queue depth 0); otherwise the apiserver's
        GET count of LimitRanges (+N: the operator of commit caf05a2 reads each one once per reconcile).
        """
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            if metrics is not None and RECONCILES_TOTAL in metrics:
                now = await operator.metrics() or {}
                done = now.get(RECONCILES_TOTAL, 0.0) - metrics[RECONCILES_TOTAL] >= n
                if done and now.get(QUEUE_DEPTH, 0.0) == 0:
                    return f"operator metrics: {RECONCILES_TOTAL} +N and {QUEUE_DEPTH} 0"
            else:
                gets = (await self.api.request_counts())[("GET", "", "limitranges", "")]
                if gets - counts[("GET", "", "limitranges", "")] >= n:
                    return "apiserver: N more GETs of LimitRanges"
        raise TimeoutError(f"the operator did not reconcile all {n} organizations within {within:.0f}s")

    async def settle(self, within: float) -> dict[str, Any]:
        """Wait until the operator has written nothing for longer than its usage interval, and count
        what it wrote meanwhile: status writes it defers (`ORGQUOTA_USAGE_INTERVAL`) must not land in
        the next phase's count.
        """
        interval = getattr(self.settings, "usage_interval", None)
        window = (interval.total_seconds() if interval is not None else 0.0) + 3.0
        start = await self.api.request_counts()
        began = last_change = time.monotonic()
        written = 0
        while time.monotonic() - last_change < window:
            await asyncio.sleep(1.0)
            now_written = writes_summary(request_diff(start, await self.api.request_counts()))["operator"]
            if now_written != written:
                written, last_change = now_written, time.monotonic()
            if time.monotonic() - began > within:
                raise TimeoutError(f"the operator kept writing for {within:.0f}s")
        summary = writes_summary(request_diff(start, await self.api.request_counts()))
        return {
            "quiet_window_s": window,
            "last_write_after_s": round(last_change - began, 1) if summary["operator"] else None,
            "operator_writes": summary["operator"],
            "by_request": summary["by_request"],
        }

    async def single_changes(self, operator: Operator, hrqs: Watcher, limit_ranges: Watcher) -> None:
        """One organization's plan-id flipped `changes` times; each time, latency until its HRQ shows it."""
        changes = self.result["single_change_count"]
        name = self.orgs[0]
        desired = {plan: self.desired(plan) for plan in (PLAN, OTHER_PLAN)}
        status = Watcher(self.api, ORGANIZATION.path(name), f"metadata.name={name}")
        await status.start()
        latencies: list[float] = []
        settle: list[float] = []
        log(f"N={self.n}: {changes} single plan changes on {name}")
        try:
            for i in range(changes):
                plan = OTHER_PLAN if i % 2 == 0 else PLAN
                expect = hrqs.expect({name}, hrq_matches(desired[plan]))
                expect_status = status.expect({name}, status_plan_is(plan))
                sent = time.monotonic()
                await self.api.kube.merge_patch(
                    ORGANIZATION.path(name, name), {"metadata": {"annotations": {PLAN_ID: plan}}}
                )
                latencies.append(await hrqs.wait(expect, 30, "single change") - sent)
                # Idle between changes: the status is the reconcile's last write; then no CPU for 0.2 s
                # (the echo reconciles triggered by the operator's own HRQ/LimitRange writes).
                await status.wait(expect_status, 30, "single change status")
                settle.append(await operator.wait_idle(quiet=0.2, poll=0.02) - sent)
        finally:
            await status.stop()
        ms = [1000 * v for v in latencies]
        self.result["single_change"] = {
            "changes": len(ms),
            "p50_ms": round(percentile(ms, 50), 1),
            "p90_ms": round(percentile(ms, 90), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1),
            "min_ms": round(min(ms), 1),
            "until_operator_idle_p50_ms": round(percentile([1000 * v for v in settle], 50), 1),
            "method": "merge-patch of the plan-id annotation (what kubectl annotate sends), "
            "HRQ update seen by a watch; alternating scale-pool / pro-pool",
        }

    async def execute(self) -> None:
        await self.setup()
        try:
            await self.baseline_memory()
        finally:
            for operator in self.started:
                operator.stop()
        await self.create_objects()
        await self.bare_client()
        hrqs = Watcher(self.api, HRQ.path(""), f"metadata.name={objects.HRQ_NAME}")
        limit_ranges = Watcher(self.api, LIMIT_RANGE.path(""), f"metadata.name={objects.LIMIT_RANGE_NAME}")
        await hrqs.start()
        await limit_ranges.start()
        try:
            await self.operator_phases(hrqs, limit_ranges)
        finally:
            for operator in self.started:  # after a failure, one may still run
                operator.stop()
            await hrqs.stop()
            await limit_ranges.stop()


class LoadSampler:
    """/proc/loadavg every few seconds, while the bench runs."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self.samples: list[list[float]] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.samples.append(loadavg())
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, Any]:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.samples.append(loadavg())
        one = [s[0] for s in self.samples]
        return {
            "loadavg_1m_min": min(one),
            "loadavg_1m_max": max(one),
            "loadavg_1m_mean": round(sum(one) / len(one), 2),
            "samples": len(one),
        }


@contextlib.asynccontextmanager
async def cluster_for(workdir: Path) -> AsyncIterator[tuple[Cluster, Processes, str]]:
    """$KUBECONFIG's cluster, or a fresh local control plane in `workdir`."""
    external = os.environ.get("KUBECONFIG")
    if external:
        cluster = Cluster(Path(external), cache_dir=workdir / "kubectl-cache")
        install_crds(cluster)
        yield cluster, Processes(), "external ($KUBECONFIG)"
        return
    with ControlPlane(workdir / "controlplane") as plane:
        cluster = Cluster(plane.kubeconfig, cache_dir=workdir / "kubectl-cache")
        install_crds(cluster)
        found = pids_with_arg(str(plane.workdir), ("kube-apiserver", "etcd"))
        yield (
            cluster,
            Processes(apiserver=found.get("kube-apiserver", 0), etcd=found.get("etcd", 0)),
            "local control plane (etcd + kube-apiserver, no controller-manager)",
        )


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
            await run.execute()
        finally:
            run.result["load"] = await sampler.stop()
            run.result["wall_s"] = round(time.monotonic() - began, 1)


# --- output -------------------------------------------------------------------------------------------


def _cpu(phase: str) -> Callable[[Mapping[str, Any]], str]:
    def cell(run: Mapping[str, Any]) -> str:
        c = run[phase]["cpu_s"]
        return f"op {c['operator']} / api {c['apiserver']} / etcd {c['etcd']} / bench {c['bench']} / other {c['other']}"

    return cell


def _reconciles(phase: Mapping[str, Any]) -> str:
    stats = phase.get("reconciles")
    return f"{stats['count']} ({stats['mean_ms']})" if stats else "n/a (no operator metrics)"


def _deferred(settle: Mapping[str, Any]) -> str:
    if not settle["operator_writes"]:
        return f"0 (none within {settle['quiet_window_s']:.0f} s)"
    return f"{settle['operator_writes']} ({settle['last_write_after_s']}): {_requests(settle['by_request'])}"


def _requests(by_request: Mapping[str, int]) -> str:
    return ", ".join(f"{key}: {count}" for key, count in by_request.items()) or "none"


def _rss(run: Mapping[str, Any]) -> str:
    res = run["resources"]
    converged = run["initial"]["operator_memory_mb"]["VmRSS"]
    restarted = run["restart"]["operator_memory_mb"]["VmRSS"]
    return f"{res['rss_zero_orgs_mb']} / {converged} / {restarted}"


def _per_org(run: Mapping[str, Any]) -> str:
    res = run["resources"]
    return (
        f"{res['rss_per_org_kb_after_convergence']} / {res['rss_per_org_kb_after_restart']}"
        f" / {res['peak_rss_per_org_kb']}"
    )


ROWS: Final[list[tuple[str, Callable[[Mapping[str, Any]], Any]]]] = [
    ("setup: N namespaces + N orgs (s)", lambda r: r["setup"]["create_org_namespaces_and_orgs_s"]),
    ("**1. initial: operator, process start -> all HRQ+LR (s)**", lambda r: r["initial"]["operator_s"]),
    ("initial: operator's own `startup: ... in` (s)", lambda r: r["initial"]["operator_from_first_list_s"]),
    ("initial: operator idle again (s)", lambda r: r["initial"]["operator_idle_after_s"]),
    ("initial: bare client, 2N POSTs (s)", lambda r: r["initial"]["bare_s"]),
    ("**initial: ratio operator / bare**", lambda r: r["initial"]["ratio_operator_over_bare"]),
    (
        "initial: writes / reads served (operator's kinds / all reads)",
        lambda r: "{operator} / {reads}".format(**r["initial"]["requests"]),
    ),
    ("initial: CPU s", _cpu("initial")),
    ("initial: reconciles (mean ms each)", lambda r: _reconciles(r["initial"])),
    ("initial: deferred writes after it (last one after s)", lambda r: _deferred(r["initial"]["settle"])),
    ("**2. fan-out: operator, edit -> all HRQs (s)**", lambda r: r["fanout"]["operator_s"]),
    ("fan-out: operator idle again (s)", lambda r: r["fanout"]["operator_idle_after_s"]),
    ("fan-out: bare client, N PATCHes (s)", lambda r: r["fanout"]["bare_s"]),
    ("**fan-out: ratio operator / bare**", lambda r: r["fanout"]["ratio_operator_over_bare"]),
    ("fan-out: writes / reads served", lambda r: "{operator} / {reads}".format(**r["fanout"]["requests"])),
    ("fan-out: CPU s", _cpu("fanout")),
    ("fan-out: reconciles (mean ms each)", lambda r: _reconciles(r["fanout"])),
    ("fan-out: deferred writes after it (last one after s)", lambda r: _deferred(r["fanout"]["settle"])),
    ("**3. no-op edit: operator writes (target 0)**", lambda r: r["noop"]["requests"]["operator"]),
    ("no-op edit: all writes served, by request", lambda r: _requests(r["noop"]["requests"]["by_request"])),
    (
        "no-op edit: reads; all N reconciled after (s)",
        lambda r: f"{r['noop']['requests']['reads']}; {r['noop']['all_reconciled_after_s']}",
    ),
    ("no-op edit: reconciles (mean ms each)", lambda r: _reconciles(r["noop"])),
    ("no-op edit: deferred writes after it", lambda r: _deferred(r["noop"]["settle"])),
    ("**4. restart: operator writes (target 0)**", lambda r: r["restart"]["requests"]["operator"]),
    ("**restart: process start -> `startup:` log (s)**", lambda r: r["restart"]["startup_log_after_s"]),
    ("restart: operator busy until (idle again) (s)", lambda r: r["restart"]["operator_idle_after_s"]),
    ("restart: writes served, by request", lambda r: _requests(r["restart"]["requests"]["by_request"])),
    (
        "restart: reads; operator CPU s; reconciles (mean ms)",
        lambda r: (
            f"{r['restart']['requests']['reads']}; {r['restart']['cpu_s']['operator']}; " + _reconciles(r["restart"])
        ),
    ),
    (
        "**5. single plan change -> HRQ: p50 / p99 (ms)**",
        lambda r: f"{r['single_change']['p50_ms']} / {r['single_change']['p99_ms']}",
    ),
    ("single change: max (ms), changes", lambda r: f"{r['single_change']['max_ms']}, {r['single_change']['changes']}"),
    ("**6. operator peak RSS (MB), first process**", lambda r: r["resources"]["first_process"]["peak_rss_mb"]),
    ("operator RSS: 0 orgs / converged / restarted (MB)", _rss),
    ("operator RSS per org: converged / restarted / peak (KB)", _per_org),
    (
        "operator CPU s: first process / restarted",
        lambda r: f"{r['resources']['first_process']['cpu_s']} / {r['resources']['restarted_process']['cpu_s']}",
    ),
    (
        "loadavg 1m during run: min / mean / max",
        lambda r: "{loadavg_1m_min} / {loadavg_1m_mean} / {loadavg_1m_max}".format(**r["load"]),
    ),
    ("run wall time (s)", lambda r: r["wall_s"]),
]


def markdown(report: Mapping[str, Any]) -> str:
    runs: list[Mapping[str, Any]] = report["runs"]
    m = report["machine"]
    version = runs[0].get("apiserver_version", "?") if runs else "?"
    lines = [
        f"orgquota bench {report['started']}: {m['nproc']} CPUs ({m['cpu_model']}), "
        f"{m['memory_total_mb']} MB, Python {m['python']}, kopf {m['kopf']}, "
        f"kubernetes client {m['kubernetes_client']}, aiohttp {m['aiohttp']}, "
        f"kube-apiserver {version}, etcd {m['etcd']}; ORGQUOTA_WORKERS={report['workers']}",
        "",
        "| | " + " | ".join(f"N={run['n']}" + (" (failed, see JSON)" if "error" in run else "") for run in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for label, value in ROWS:
        cells = []
        for run in runs:
            try:
                cells.append(str(value(run)))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(out: Path, report: Mapping[str, Any]) -> str:
    """The JSON, and the Markdown table beside it (a failed run shows what it measured before failing)."""
    out.write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    out.with_suffix(".md").write_text(table)
    return table


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
    parser = argparse.ArgumentParser(prog="bench/run.py", description=DESCRIPTION)
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
