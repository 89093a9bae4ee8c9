"""The operator's series of N organizations over D days, backfilled for `make bench-api --history`.

Per organization the real operator exports 14 series (`orgquota.controller.org_metrics`, for a plan
that limits public EIps): `quota_used` and `quota_hard` of the 6 resources of `core.advice.RESOURCES`,
`plan_info` and `monthly_cost`; all 14 are backfilled here, without the `job` and `instance` labels
a scrape adds. Prometheus records 6 more from them (the rule in deploy/prometheus/rules/), evaluated
by the running Prometheus from its start, not backfilled.

The values are what HNC would count, changing as usage does: CPU requests every sample (the worst
case for compression), memory in 128 MiB steps, storage daily, pods every few hours, load balancers
and public IPs never; limits, plan and cost are constant. `every_sample` makes CPU and memory differ
at every sample (a 30 s history of busy organizations). Text is written a series at a time from
precomputed lines (`prefix.join`): 10,000 organizations x 30 days (100 M samples, 9 GB of text) in
a few minutes, most of it promtool's.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from localcluster.prometheus import debian_binary
from orgquota.core.advice import RESOURCES
from tests.support.prom_history import HELP, MAX_BLOCK_DURATION

GIB: Final = 2**30
MIB: Final = 2**20
CLASSES: Final = 10
"""organizations fall into this many growth rates (organization index modulo); lines are shared by a class"""
HARD: Final = {
    "cpu": "10.3",
    "memory": str(29056 * MIB),
    "storage": str(180 * GIB),
    "pods": "200",
    "services_loadbalancers": "100",
    "public_ipv4": "1",
}
"""pro-pool with one turbo-x1 and 3 projects' overhead (bench/billing_api.py's HRQ), in base units"""
HRQ_HARD: Final = {"requests.cpu": "10300m", "requests.memory": "29056Mi", "requests.storage": "180Gi", "pods": "200"}
HRQ_HARD_LB: Final = {"services.loadbalancers": "100"}
MONTHLY_COST: Final = "228"
"""pro-pool (199) + turbo-x1 (29), USD"""
SERIES_PER_ORG: Final = 2 * len(RESOURCES) + 2
RECORDED_PER_ORG: Final = len(RESOURCES)
"""organization:orgquota_organization_quota_used:max_over_time1d, one per resource, every 5 minutes"""
assert set(HARD) == set(RESOURCES)


def used(resource: str, cls: int, hours: float) -> float:
    """Usage of an organization of growth class `cls`, `hours` after its history begins, in base units."""
    days = hours / 24
    if resource == "cpu":
        wobble = ((int(hours * 120) * 7 + cls) % 13) / 52  # a different value at each sample
        return round(1 + (cls + 1) / 120 * days + wobble, 3)
    if resource == "memory":
        return (4 * GIB + (cls + 1) * 64 * MIB * days) // (128 * MIB) * (128 * MIB)
    if resource == "storage":
        return (20 + (cls % 3) * int(days)) * GIB
    if resource == "pods":
        return 10 + int(hours) // (4 * (cls % 5 + 1))
    if resource == "services_loadbalancers":
        return 1 + cls % 3
    return cls % 2  # public_ipv4


def shown(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


@dataclass(frozen=True)
class Shape:
    """Sample times of a history and the text after each series' labels, per resource and class."""

    times: tuple[int, ...]
    every_sample: bool

    @property
    def first(self) -> int:
        return self.times[0]

    def value(self, resource: str, cls: int, t: int) -> str:
        hours = (t - self.first) / 3600
        if not self.every_sample:
            hours = float(int(hours))  # what changed within the hour shows at its next hour
        value = used(resource, cls, hours)
        if self.every_sample and resource == "memory":
            value += (t - self.first) // 30 % 97 * MIB  # memory differs at every sample too
        return shown(value)

    def tails(self, resource: str, cls: int) -> list[str]:
        return [f" {self.value(resource, cls, t)} {t}\n" for t in self.times]

    def constant(self, text: str) -> list[str]:
        return [f" {text} {t}\n" for t in self.times]

    def now_used(self, resource: str, cls: int) -> str:
        """The last sample: what the HRQ says now."""
        return self.value(resource, cls, self.times[-1])


def sample_times(end: int, days: float, interval: int) -> tuple[int, ...]:
    count = int(days * 86400 // interval)
    return tuple(end - k * interval for k in reversed(range(count)))


def org_names(count: int) -> list[str]:
    return [f"bench-{index:05d}" for index in range(count)]


def write_openmetrics(path: Path, names: Sequence[str], shape: Shape) -> int:
    """The OpenMetrics text of every organization's 14 series; the number of samples."""
    samples = 0
    used_tails = {(r, c): shape.tails(r, c) for r in RESOURCES for c in range(CLASSES)}
    hard_tails = {r: shape.constant(HARD[r]) for r in RESOURCES}
    one, cost = shape.constant("1"), shape.constant(MONTHLY_COST)
    with path.open("w", buffering=8 * MIB) as out:

        def family(name: str, series: list[tuple[str, list[str]]]) -> int:
            out.write(f"# HELP {name} {HELP[name]}\n# TYPE {name} gauge\n")
            for labels, tails in series:
                prefix = f"{name}{{{labels}}}"
                out.write(prefix + prefix.join(tails))
            return sum(len(tails) for _, tails in series)

        samples += family(
            "orgquota_organization_quota_used",
            [
                (f'organization="{n}",resource="{r}"', used_tails[r, i % CLASSES])
                for i, n in enumerate(names)
                for r in RESOURCES
            ],
        )
        samples += family(
            "orgquota_organization_quota_hard",
            [(f'organization="{n}",resource="{r}"', hard_tails[r]) for n in names for r in RESOURCES],
        )
        samples += family(
            "orgquota_organization_plan_info",
            [(f'mode="plan",organization="{n}",plan="pro-pool",subscription="active"', one) for n in names],
        )
        samples += family(
            "orgquota_organization_monthly_cost", [(f'currency="USD",organization="{n}"', cost) for n in names]
        )
        out.write("# EOF\n")
    return samples


@dataclass(frozen=True)
class Backfill:
    organizations: int
    days: float
    interval: int
    every_sample: bool
    samples: int
    text_bytes: int
    text_seconds: float
    promtool_seconds: float


def backfill(data_dir: Path, names: Sequence[str], shape: Shape) -> Backfill:
    """Write the history into `data_dir` as TSDB blocks (promtool), the text removed afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    text = data_dir.parent / "history.om"
    began = time.monotonic()
    samples = write_openmetrics(text, names, shape)
    written = time.monotonic()
    size = text.stat().st_size
    try:
        subprocess.run(
            [
                str(debian_binary("promtool")),
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                f"--max-block-duration={MAX_BLOCK_DURATION}",
                str(text),
                str(data_dir),
            ],
            check=True,
            capture_output=True,
        )
    finally:
        text.unlink()
    interval = shape.times[1] - shape.times[0]
    days = len(shape.times) * interval / 86400
    return Backfill(
        len(names), days, interval, shape.every_sample, samples, size, written - began, time.monotonic() - written
    )


def disk(data_dir: Path) -> dict[str, int]:
    """Bytes of the data directory: blocks' chunks and indexes, the head's WAL and chunks, all."""
    sizes = {"chunks": 0, "index": 0, "wal_and_head": 0, "total": 0}
    for root, _, files in os.walk(data_dir):
        for name in files:
            size = (Path(root) / name).stat().st_size
            sizes["total"] += size
            relative = Path(root).relative_to(data_dir).parts
            if relative and relative[0] in ("wal", "chunks_head"):
                sizes["wal_and_head"] += size
            elif name == "index":
                sizes["index"] += size
            elif relative and relative[-1] == "chunks":
                sizes["chunks"] += size
    return sizes


def memory(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon and RssFile of a process, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            found[key] = int(rest.split()[0]) / 1024
    return found


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
