"""One benchmark run at one N: its setup, the bare-client bound, and the operator's baseline memory."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from bench.api import Api, request_diff, writes_summary
from bench.measure import Processes, cpu_cost, cpu_seconds, memory_mb
from bench.operator import Operator
from bench.report import log
from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from orgquota.controller.settings import Settings
from orgquota.core import manifests
from orgquota.core.annotations import PLAN_ID, SUBSCRIPTION
from orgquota.core.catalog import Catalog, parse_configmap_data
from orgquota.core.desired import DesiredQuota, desired_quota
from orgquota.kube.client import HRQ, LIMIT_RANGE, ORGANIZATION, KubeError, Manifest
from tests.support.files import CATALOG_FILE, EXAMPLES

T = TypeVar("T")
NAMESPACES_FILE: Final = EXAMPLES / "00-namespaces.yaml"

PLAN: Final = "pro-pool"
OTHER_PLAN: Final = "scale-pool"
# Exact snippets of the example catalog that the bench edits (each must occur once).
FANOUT_EDIT: Final = ('requests: {cpu: "8", memory: 24Gi', 'requests: {cpu: "10", memory: 24Gi')
NOOP_EDIT: Final = ("displayName: Pro Pool\n", "displayName: Pro Pool (renamed by bench)\n")

SETUP_CONCURRENCY: Final = 32


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
        operator.launch()
        try:
            await operator.wait_startup(120)
            await operator.wait_cpu_idle(quiet=1.0)
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
        labels = manifests.managed_labels(PLAN)
        assert desired.limit_range is not None
        owners = {name: manifests.owner_reference(name, str(uuid.uuid4())) for name in self.bare}
        sample = manifests.hrq_manifest(desired.hard, labels, owners[self.bare[0]])
        patch = manifests.hard_patch(sample, after_fanout.hard, labels)
        assert patch, "the fan-out edit must change the HRQ"
        limit_range = desired.limit_range

        async def create(name: str) -> None:
            await kube.create(HRQ.path(name), manifests.hrq_manifest(desired.hard, labels, owners[name]))
            await kube.create(LIMIT_RANGE.path(name), manifests.limit_range_manifest(limit_range, labels, owners[name]))

        async def merge_patch(name: str) -> None:
            await kube.merge_patch(HRQ.path(name, manifests.HRQ_NAME), patch)

        async def delete(name: str) -> None:
            await with_retries(lambda: kube.delete(HRQ.path(name, manifests.HRQ_NAME)))
            await with_retries(lambda: kube.delete(LIMIT_RANGE.path(name, manifests.LIMIT_RANGE_NAME)))

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
