"""The catalog in force: the last good one, what is wrong with the newest, and what it makes of
each set of billing annotations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from orgquota.controller.model import Issue
from orgquota.core.catalog import Catalog
from orgquota.core.desired import DesiredQuota, QuotaSettings, desired_quota

DESIRED_CACHE_SIZE: Final = 4096


class CatalogState:
    def __init__(self) -> None:
        self.catalog: Catalog | None = None
        self.problem: Issue | None = None
        self._desired: dict[tuple[tuple[str, str], ...], DesiredQuota] = {}

    def set(self, catalog: Catalog | None, problem: Issue | None) -> None:
        """A new catalog (None keeps the last good one) and the problem with the newest, if any."""
        if catalog is not None:
            self.catalog = catalog
            self._desired.clear()
        self.problem = problem

    def desired_of(self, annotations: Mapping[str, str], catalog: Catalog, quota: QuotaSettings) -> DesiredQuota:
        """`desired_quota`, computed once per distinct set of annotations: organizations on one plan
        share one result (and its Quantities, in memory too)."""
        key = tuple(sorted(annotations.items()))
        desired = self._desired.get(key)
        if desired is None:
            if len(self._desired) >= DESIRED_CACHE_SIZE:
                self._desired.clear()
            desired = self._desired[key] = desired_quota(annotations, catalog, quota)
        return desired
