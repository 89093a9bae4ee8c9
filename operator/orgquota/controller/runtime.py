"""The operator's parts, built and started in order at start-up, and stopped at the end.

Order matters: the catalog is read before any organization is reconciled (so none is judged
without it; a bad or missing one has the saved last good one stand in), and what reconciles
compare with is read before the first one: the managed objects (so a converged organization
costs no request at all) and the public EIps usage depends on (or a restart would rewrite
every status with partial counts).
"""

from __future__ import annotations

import asyncio

from orgquota.controller import metrics, org_metrics
from orgquota.controller.catalog_loading import load_catalog
from orgquota.controller.memo import OperatorMemo
from orgquota.controller.model import Logger
from orgquota.controller.reconciler import Reconciler
from orgquota.core.topology import PUBLIC_EIP_LABEL
from orgquota.kube.client import CONFIGMAP, EIP, ORGANIZATION, Kube, KubeError
from orgquota.kube.events import EventRecorder
from orgquota.kube.last_good import LastGoodCatalog


async def start(memo: OperatorMemo, logger: Logger) -> None:
    """Build the operator's parts into `memo`, read what reconciles start from, and start them."""
    config = memo.config
    kube = memo.kube = await Kube.connect(max_connections=config.workers * 2)
    reconciler = memo.reconciler = Reconciler(kube, config, EventRecorder(kube))
    memo.last_good = LastGoodCatalog(kube, config.catalog_namespace, config.last_good_name)
    metrics.QUEUE_DEPTH.set_function(lambda: len(reconciler.queue) + len(reconciler.statuses))
    metrics.count_organizations(reconciler.count_by_mode)
    org_metrics.export(reconciler.org_metrics)

    saved = await memo.last_good.load()
    if saved is not None:
        reconciler.set_catalog(saved, None)
    configmap = await kube.get(CONFIGMAP.path(config.catalog_namespace, config.catalog_name))
    await load_catalog(reconciler, memo.last_good, configmap, logger)
    await reconciler.prime()
    try:
        for eip in await kube.list(EIP.path(""), labelSelector=f"{PUBLIC_EIP_LABEL}=public"):
            await reconciler.observe_eip(eip)
    except KubeError as exc:
        if exc.status != 404:  # 404: no EIp CRD in this cluster, so no public IPs to count
            raise
    try:
        await reconciler.observe_initial_list(kube.pages(ORGANIZATION.path("")))
    except KubeError as exc:
        logger.error("cannot list Organizations (is the CRD installed?): %s", exc)
    memo.tasks = [
        asyncio.create_task(reconciler.run(), name="orgquota-workers"),
        asyncio.create_task(reconciler.events.run(after=reconciler.queue.drained), name="orgquota-events"),
    ]
    logger.info(
        "orgquota started: catalog %s/%s, projects limit %d, %d workers, webhooks %s",
        config.catalog_namespace,
        config.catalog_name,
        config.projects_limit,
        config.workers,
        f"on port {config.webhook_port}" if config.webhooks else "off",
    )


async def stop(memo: OperatorMemo) -> None:
    for task in memo.tasks:
        task.cancel()
    await asyncio.gather(*memo.tasks, return_exceptions=True)
    await memo.kube.close()
