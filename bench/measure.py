"""What the bench measures with: /proc (CPU time, memory, load), the machine and the code measured."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import platform
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from localcluster.versions import ETCD_VERSION

REPO_ROOT: Final = Path(__file__).resolve().parents[1]

RECONCILES_TOTAL: Final = "orgquota_reconciles_total"
QUEUE_DEPTH: Final = "orgquota_queue_depth"
RECONCILE_SECONDS_SUM: Final = "orgquota_reconcile_seconds_sum"
OPERATOR_METRICS: Final = (RECONCILES_TOTAL, QUEUE_DEPTH, RECONCILE_SECONDS_SUM)
CLK_TCK: Final = os.sysconf("SC_CLK_TCK")
PAGE_KB: Final = os.sysconf("SC_PAGE_SIZE") // 1024


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
    package = REPO_ROOT / "operator" / "orgquota"
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
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


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


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
