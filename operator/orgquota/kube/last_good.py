"""The last good catalog, kept in a ConfigMap of its own so that it outlives the process.

Without it, an operator restarted while the live catalog is bad or missing would know no
plans at all: new organizations would get no quota (Kube-DC's cold-start hole). It is
written only when a new good catalog would enforce something else than the saved one, so
restarts and edits of what only people read (a plan's displayName, its price) write nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from orgquota.core.catalog import CATALOG_KEY, Catalog, CatalogError, parse_catalog
from orgquota.core.timestamps import format_rfc3339
from orgquota.kube.client import CONFIGMAP, Kube, KubeError

logger = logging.getLogger(__name__)
SAVED_AT = "orgquota.kube-dc.com/saved-at"


class LastGoodCatalog:
    def __init__(self, kube: Kube, namespace: str, name: str) -> None:
        self._kube = kube
        self.namespace = namespace
        self.name = name
        self._saved: str | None = None
        self._enforced: dict[str, Any] | None = None

    async def load(self) -> Catalog | None:
        """The saved catalog, if there is one and it still parses."""
        configmap = await self._kube.get(CONFIGMAP.path(self.namespace, self.name))
        text = ((configmap or {}).get("data") or {}).get(CATALOG_KEY)
        if text is None:
            return None
        self._saved = text
        try:
            catalog = parse_catalog(text)
        except CatalogError as exc:
            logger.error("the saved catalog %s/%s does not parse, ignored: %s", self.namespace, self.name, exc)
            return None
        self._enforced = catalog.enforced()
        return catalog

    async def save(self, text: str, catalog: Catalog) -> None:
        """Keep `text` (which parsed as `catalog`); no write if the saved one enforces the same."""
        if text == self._saved:
            return
        enforced = catalog.enforced()
        if enforced == self._enforced:
            return
        now = format_rfc3339(datetime.now(UTC))
        body = {
            "metadata": {"name": self.name, "annotations": {SAVED_AT: now}},
            "data": {CATALOG_KEY: text},
        }
        try:
            await self._kube.merge_patch(CONFIGMAP.path(self.namespace, self.name), body)
        except KubeError as exc:
            if exc.status != 404:
                raise
            await self._kube.create(CONFIGMAP.path(self.namespace), {"apiVersion": "v1", "kind": "ConfigMap", **body})
        self._saved, self._enforced = text, enforced
        logger.info("saved the catalog as the last good one in ConfigMap %s/%s", self.namespace, self.name)
