"""The Kopf edge: watch streams in, observations out to the Reconciler.

Only `@kopf.on.event` handlers: Kopf then writes nothing onto the watched objects (no
finalizers, no progress annotations), every input is level-triggered, and the Reconciler's
own work queue does retries and fan-out (docs/design.md: why not Kopf's indexes or timers).
They are `async` although they never wait: Kopf runs plain functions in a thread pool, per event.
"""

from __future__ import annotations

from typing import Any

import kopf

from orgquota.controller import runtime
from orgquota.controller.catalog_loading import load_catalog
from orgquota.controller.kopf_tuning import tune
from orgquota.controller.memo import OperatorMemo
from orgquota.core import manifests


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: OperatorMemo, logger: kopf.Logger, **_: Any) -> None:
    tune(settings, memo.config)
    await runtime.start(memo, logger)


@kopf.on.cleanup()
async def stop(memo: OperatorMemo, **_: Any) -> None:
    await runtime.stop(memo)


@kopf.on.event("v1", "configmaps")
async def catalog_changed(
    event: kopf.RawEvent,
    body: kopf.Body,
    name: str,
    namespace: str | None,
    memo: OperatorMemo,
    logger: kopf.Logger,
    **_: Any,
) -> None:
    if (namespace, name) != (memo.config.catalog_namespace, memo.config.catalog_name):
        return  # the field selector should keep others out; never trust a catalog by accident
    await load_catalog(memo.reconciler, memo.last_good, None if event["type"] == "DELETED" else dict(body), logger)


@kopf.on.event("kube-dc.com", "v1", "organizations")
async def organization_changed(event: kopf.RawEvent, body: kopf.Body, memo: OperatorMemo, **_: Any) -> None:
    memo.reconciler.observe_org(body, deleted=event["type"] == "DELETED", listed=event["type"] is None)


@kopf.on.event("hnc.x-k8s.io", "v1alpha2", "hierarchicalresourcequotas")
async def quota_changed(
    event: kopf.RawEvent, body: kopf.Body, name: str, namespace: str | None, memo: OperatorMemo, **_: Any
) -> None:
    if name == manifests.HRQ_NAME and namespace:
        memo.reconciler.observe_object("hrq", body, deleted=event["type"] == "DELETED")


@kopf.on.event("v1", "limitranges")
async def limit_range_changed(
    event: kopf.RawEvent, body: kopf.Body, name: str, namespace: str | None, memo: OperatorMemo, **_: Any
) -> None:
    if name == manifests.LIMIT_RANGE_NAME and namespace:
        memo.reconciler.observe_object("lr", body, deleted=event["type"] == "DELETED")


@kopf.on.event("kube-dc.com", "v1", "eips")
async def eip_changed(event: kopf.RawEvent, body: kopf.Body, memo: OperatorMemo, **_: Any) -> None:
    await memo.reconciler.observe_eip(body, deleted=event["type"] == "DELETED")
