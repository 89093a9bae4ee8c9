"""The plan catalog as the API serves it: the live ConfigMap while it is valid, else the last good one.

Parsed with the operator's own `parse_catalog`, only when its text changes. A bad edit never
empties the plan list: the last good catalog this process saw (or, after a restart, the
operator's saved copy) stays in force, and `/health` says the live one is invalid.
"""

from __future__ import annotations

import logging

from orgquota.core.catalog import CATALOG_KEY, Catalog, CatalogError, parse_catalog
from orgquota.core.catalog_in_force import judge_live, standing
from orgquota.kube.watch import WatchCache

logger = logging.getLogger(__name__)


class CatalogView:
    def __init__(
        self, live: WatchCache[dict[str, str]], last_good: WatchCache[dict[str, str]], name: str, saved_name: str
    ) -> None:
        self.live = live
        self.last_good = last_good
        self._name = name
        self._saved_name = saved_name
        self._text: str | None = None
        self._saved_text: str | None = None
        self.catalog: Catalog | None = None
        """the catalog in force (None: no good one was ever seen)"""
        self.valid = False
        """whether the live ConfigMap holds a valid catalog"""
        self.problem = "not read yet"
        """what is wrong with the live catalog ('' when it is valid)"""
        self._from_live = False
        self._seen = False
        live.on_change = self._live_changed
        last_good.on_change = self._saved_changed

    @staticmethod
    def _data_of(cache: WatchCache[dict[str, str]], name: str) -> dict[str, str] | None:
        return next((obj for _, found, obj in cache.items() if found == name), None)

    def _live_changed(self) -> None:
        data = self._data_of(self.live, self._name)
        text = None if data is None else data.get(CATALOG_KEY)
        if text == self._text and self._seen:
            return
        self._text, self._seen = text, True
        live = judge_live(self._name, data, exists=data is not None)
        self.valid, self.problem = live.catalog is not None, live.problem
        if live.catalog is not None:
            self.catalog, self._from_live = live.catalog, True
            return
        logger.error("%s: %s", self.problem, standing(self.catalog))

    def _saved_changed(self) -> None:
        text = (self._data_of(self.last_good, self._saved_name) or {}).get(CATALOG_KEY)
        if text is None or text == self._saved_text:
            return
        self._saved_text = text
        if self._from_live:
            return  # a valid live catalog was seen: it is newer than any saved copy
        try:
            self.catalog = parse_catalog(text)
        except CatalogError as exc:
            logger.error("the saved last good catalog %s does not parse: %s", self._saved_name, exc)

    @property
    def loaded(self) -> bool:
        return self.catalog is not None
