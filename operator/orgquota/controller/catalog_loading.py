"""Adopting the plan catalog from its ConfigMap, or keeping the last good one and saying why."""

from __future__ import annotations

from typing import Any

from orgquota.controller import metrics
from orgquota.controller.model import Issue, Logger
from orgquota.controller.reconciler import Reconciler
from orgquota.core.catalog import CATALOG_KEY
from orgquota.core.catalog_in_force import judge_live, standing
from orgquota.kube.events import WARNING
from orgquota.kube.last_good import LastGoodCatalog


async def load_catalog(
    reconciler: Reconciler,
    last_good: LastGoodCatalog,
    configmap: dict[str, Any] | None,
    logger: Logger,
) -> None:
    """Adopt a valid catalog (and save it); for a bad or missing one keep the last good one and say why."""
    config = reconciler.settings
    where = f"{config.catalog_namespace}/{config.catalog_name}"
    live = judge_live(where, (configmap or {}).get("data"), exists=configmap is not None)
    catalog = live.catalog
    problem = Issue(live.reason, f"{live.problem}: {standing(reconciler.catalog.catalog)}") if live.reason else None
    metrics.CATALOG_VALID.set(0 if problem else 1)
    if catalog is not None and configmap is not None:
        await last_good.save(configmap["data"][CATALOG_KEY], catalog)
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
        logger.info("ConfigMap %s loaded: %d plans, %d add-ons", where, len(catalog.plans), len(catalog.addons))
    reconciler.set_catalog(catalog, problem)
