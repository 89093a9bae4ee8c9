"""The Kopf edge: watch streams in, observations out to the Reconciler.

Only `@kopf.on.event` handlers: Kopf then writes nothing onto the watched objects (no
finalizers, no progress annotations), every input is level-triggered, and the Reconciler's
own work queue does retries and fan-out (KOPF-NOTES.md: why not indexes or timers). They are
`async` although they never wait: Kopf runs plain functions in a thread pool, per event.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

import kopf
from kopf._cogs.helpers.typedefs import Logger

from orgquota.controller import metrics
from orgquota.controller.reconciler import Issue, Reconciler
from orgquota.controller.settings import Settings
from orgquota.core import manifests as objects
from orgquota.core.catalog import CATALOG_KEY, CatalogError, parse_configmap_data
from orgquota.core.topology import PUBLIC_EIP_LABEL
from orgquota.kube.client import CONFIGMAP, EIP, ORGANIZATION, Kube, KubeError
from orgquota.kube.events import WARNING, EventRecorder
from orgquota.kube.last_good import LastGoodCatalog

STORAGE_PREFIX = "orgquota.kube-dc.com"
LIST_CHUNK: Final = 500
KOPF_WORKERS: Final = 500
KOPF_IDLE_SECONDS: Final = 0.1


class NoDiffBase(kopf.AnnotationsDiffBaseStorage):
    """No essence at all: it serves only `on.create/update` handlers, which this operator has none of,
    yet Kopf would deep-copy every body of every event to build it (measured: a sixth of its work)."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: Any, logger: Logger, **_: Any) -> None:
    config = Settings.from_env()
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=STORAGE_PREFIX)
    settings.persistence.diffbase_storage = NoDiffBase(prefix=STORAGE_PREFIX)
    settings.persistence.finalizer = f"{STORAGE_PREFIX}/finalizer"
    settings.posting.level = logging.WARNING
    # Kopf's defaults suit tens of objects, not tens of thousands: an unpaginated initial LIST, and
    # a task per object kept alive 5 s after its last event. Every handler here returns at once, so
    # a short idle time and a bound on live tasks cost nothing but memory (KOPF-NOTES: no indexes,
    # so a limit below the object count cannot deadlock).
    settings.watching.chunk_size = LIST_CHUNK
    settings.queueing.worker_limit = KOPF_WORKERS
    settings.queueing.idle_timeout = KOPF_IDLE_SECONDS
    catalog_selector = f"metadata.namespace={config.catalog_namespace},metadata.name={config.catalog_name}"
    settings.watching.field_selectors[("v1", "configmaps")] = catalog_selector
    settings.watching.field_selectors[("v1", "limitranges")] = f"metadata.name={objects.LIMIT_RANGE_NAME}"
    settings.watching.field_selectors[("hnc.x-k8s.io", "hierarchicalresourcequotas")] = (
        f"metadata.name={objects.HRQ_NAME}"
    )
    settings.watching.label_selectors[("kube-dc.com", "eips")] = f"{PUBLIC_EIP_LABEL}=public"
    if config.webhooks:
        settings.admission.server = kopf.WebhookServer(
            addr="0.0.0.0",
            port=config.webhook_port,
            certfile=config.webhook_cert,
            pkeyfile=config.webhook_key,
        )

    kube = await Kube.connect(max_connections=config.workers * 2)
    reconciler = Reconciler(kube, config, EventRecorder(kube))
    last_good = LastGoodCatalog(kube, config.catalog_namespace, config.last_good_name)
    memo.config, memo.kube, memo.reconciler, memo.last_good = config, kube, reconciler, last_good
    metrics.QUEUE_DEPTH.set_function(lambda: len(reconciler.queue) + len(reconciler.statuses))
    metrics.count_organizations(reconciler.count_by_mode)

    # The catalog is read before any organization is reconciled, so none is judged without it;
    # if it is bad or missing, the saved last good one stands in (no cold-start hole).
    saved = await last_good.load()
    if saved is not None:
        reconciler.set_catalog(saved, None)
    configmap = await kube.get(CONFIGMAP.path(config.catalog_namespace, config.catalog_name))
    await _load_catalog(memo, configmap, logger)
    # What reconciles compare with is read before the first one: the managed objects (so that a
    # converged organization costs no request at all), and what usage figures depend on (or a
    # restart would rewrite every status with partial counts).
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
    memo.workers = asyncio.create_task(reconciler.run(), name="orgquota-workers")
    memo.event_senders = asyncio.create_task(
        reconciler.events.run(after=reconciler.queue.drained), name="orgquota-events"
    )
    logger.info(
        "orgquota started: catalog %s/%s, projects limit %d, %d workers, webhooks %s",
        config.catalog_namespace,
        config.catalog_name,
        config.projects_limit,
        config.workers,
        f"on port {config.webhook_port}" if config.webhooks else "off",
    )


@kopf.on.cleanup()
async def stop(memo: Any, **_: Any) -> None:
    memo.workers.cancel()
    memo.event_senders.cancel()
    await asyncio.gather(memo.workers, memo.event_senders, return_exceptions=True)
    await memo.kube.close()


@kopf.on.event("v1", "configmaps")
async def catalog_changed(
    event: kopf.RawEvent,
    body: kopf.Body,
    name: str,
    namespace: str | None,
    memo: Any,
    logger: Logger,
    **_: Any,
) -> None:
    config: Settings = memo.config
    if (namespace, name) != (config.catalog_namespace, config.catalog_name):
        return  # the field selector should keep others out; never trust a catalog by accident
    await _load_catalog(memo, None if event["type"] == "DELETED" else dict(body), logger)


@kopf.on.event("kube-dc.com", "v1", "organizations")
async def organization_changed(event: kopf.RawEvent, body: kopf.Body, memo: Any, **_: Any) -> None:
    memo.reconciler.observe_org(body, deleted=event["type"] == "DELETED", listed=event["type"] is None)


@kopf.on.event("hnc.x-k8s.io", "v1alpha2", "hierarchicalresourcequotas")
async def quota_changed(
    event: kopf.RawEvent, body: kopf.Body, name: str, namespace: str | None, memo: Any, **_: Any
) -> None:
    if name == objects.HRQ_NAME and namespace:
        memo.reconciler.observe_object("hrq", body, deleted=event["type"] == "DELETED")


@kopf.on.event("v1", "limitranges")
async def limit_range_changed(
    event: kopf.RawEvent, body: kopf.Body, name: str, namespace: str | None, memo: Any, **_: Any
) -> None:
    if name == objects.LIMIT_RANGE_NAME and namespace:
        memo.reconciler.observe_object("lr", body, deleted=event["type"] == "DELETED")


@kopf.on.event("kube-dc.com", "v1", "eips")
async def eip_changed(event: kopf.RawEvent, body: kopf.Body, memo: Any, **_: Any) -> None:
    await memo.reconciler.observe_eip(body, deleted=event["type"] == "DELETED")


async def _load_catalog(memo: Any, configmap: dict[str, Any] | None, logger: Logger) -> None:
    """Adopt a valid catalog (and save it); for a bad or missing one keep the last good one and say why."""
    reconciler: Reconciler = memo.reconciler
    config = reconciler.settings
    where = f"ConfigMap {config.catalog_namespace}/{config.catalog_name}"
    kept = "the last good catalog stays in force" if reconciler.catalog.catalog else "no quota is changed"
    catalog, problem = None, None
    if configmap is None:
        problem = Issue("CatalogMissing", f"{where} does not exist: {kept}")
    else:
        try:
            catalog = parse_configmap_data(configmap.get("data"))
        except CatalogError as exc:
            problem = Issue("CatalogInvalid", f"{where} is invalid ({exc}): {kept}")
    metrics.CATALOG_VALID.set(0 if problem else 1)
    if catalog is not None and configmap is not None:
        await memo.last_good.save(configmap["data"][CATALOG_KEY], catalog)
    if (catalog is None or catalog == reconciler.catalog.catalog) and problem == reconciler.catalog.problem:
        return
    if problem:
        logger.error("%s", problem.message)
        if configmap is not None:
            meta = configmap["metadata"]
            ref = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            }
            await reconciler.events.record(ref, WARNING, problem.reason, problem.message)
    else:
        assert catalog is not None
        logger.info("%s loaded: %d plans, %d add-ons", where, len(catalog.plans), len(catalog.addons))
    reconciler.set_catalog(catalog, problem)
