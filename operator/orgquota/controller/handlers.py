"""The Kopf edge: watch streams in, observations out to the Reconciler.

Only `@kopf.on.event` handlers: Kopf then writes nothing onto the watched objects (no
finalizers, no progress annotations), every input is level-triggered, and the Reconciler's
own work queue does retries and fan-out (docs/design.md: why not Kopf's indexes or timers).
They are `async` although they never wait: Kopf runs plain functions in a thread pool, per event.
"""

from __future__ import annotations

from typing import Any

import kopf
from kopf._cogs.helpers.typedefs import Logger

from orgquota.controller import runtime
from orgquota.controller.catalog_loading import load_catalog
from orgquota.controller.kopf_tuning import tune
from orgquota.controller.settings import Settings
from orgquota.core import manifests
from orgquota.core.project_caps import CAP_NAME


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: Any, logger: Logger, **_: Any) -> None:
    config = Settings.from_env()
    tune(settings, config)
    parts = memo.runtime = await runtime.start(config, logger)
    memo.config, memo.kube, memo.reconciler = parts.config, parts.kube, parts.reconciler  # for the webhooks


@kopf.on.cleanup()
async def stop(memo: Any, **_: Any) -> None:
    await runtime.stop(memo.runtime)


@kopf.on.event("v1", "configmaps")
async def catalog_changed(
    event: kopf.RawEvent, body: kopf.Body, name: str, namespace: str | None, memo: Any, logger: Logger, **_: Any
) -> None:
    parts: runtime.Runtime = memo.runtime
    if (namespace, name) != (parts.config.catalog_namespace, parts.config.catalog_name):
        return  # the field selector should keep others out; never trust a catalog by accident
    await load_catalog(parts.reconciler, parts.last_good, None if event["type"] == "DELETED" else dict(body), logger)


@kopf.on.event("kube-dc.com", "v1", "organizations")
async def organization_changed(event: kopf.RawEvent, body: kopf.Body, memo: Any, **_: Any) -> None:
    memo.reconciler.observe_org(body, deleted=event["type"] == "DELETED", listed=event["type"] is None)


@kopf.on.event("hnc.x-k8s.io", "v1alpha2", "hierarchicalresourcequotas")
async def quota_changed(
    event: kopf.RawEvent, body: kopf.Body, name: str, namespace: str | None, memo: Any, **_: Any
) -> None:
    if name == manifests.HRQ_NAME and namespace:
        memo.reconciler.observe_object("hrq", body, deleted=event["type"] == "DELETED")
    elif name == CAP_NAME and namespace:
        memo.reconciler.caps.observe_object(body, deleted=event["type"] == "DELETED")


@kopf.on.event("v1", "limitranges")
async def limit_range_changed(
    event: kopf.RawEvent, body: kopf.Body, name: str, namespace: str | None, memo: Any, **_: Any
) -> None:
    if name == manifests.LIMIT_RANGE_NAME and namespace:
        memo.reconciler.observe_object("lr", body, deleted=event["type"] == "DELETED")


@kopf.on.event("v1", "namespaces")
async def namespace_changed(event: kopf.RawEvent, body: kopf.Body, memo: Any, **_: Any) -> None:
    memo.reconciler.caps.observe_namespace(body, deleted=event["type"] == "DELETED")


@kopf.on.event("kube-dc.com", "v1", "eips")
async def eip_changed(event: kopf.RawEvent, body: kopf.Body, memo: Any, **_: Any) -> None:
    await memo.reconciler.observe_eip(body, deleted=event["type"] == "DELETED")
