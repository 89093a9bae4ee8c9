"""Which plan catalog is in force: the live ConfigMap's while it is valid, else the last good one.

The operator and the API judge the live ConfigMap the same way and say the same thing about it; a
bad or missing catalog never replaces the one in force (no quota is loosened by a bad edit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orgquota.core.catalog import Catalog, CatalogError, parse_configmap_data


@dataclass(frozen=True)
class LiveCatalog:
    """The live ConfigMap judged: its catalog when valid, else the condition reason and the problem."""

    catalog: Catalog | None
    reason: str = ""
    """`CatalogMissing` or `CatalogInvalid`; empty when the catalog is valid"""
    problem: str = ""

    def in_force(self, previous: Catalog | None) -> Catalog | None:
        return self.catalog if self.catalog is not None else previous


def judge_live(where: str, data: Mapping[str, str] | None, *, exists: bool = True) -> LiveCatalog:
    """The ConfigMap named `where` (e.g. `kube-dc/billing-plans`) with its `data`."""
    if not exists:
        return LiveCatalog(None, "CatalogMissing", f"ConfigMap {where} does not exist")
    try:
        return LiveCatalog(parse_configmap_data(dict(data) if data is not None else None))
    except CatalogError as exc:
        return LiveCatalog(None, "CatalogInvalid", f"ConfigMap {where} is invalid ({exc})")


def standing(in_force: Catalog | None) -> str:
    """What a bad or missing live catalog leaves in force, in words."""
    return "the last good catalog stays in force" if in_force is not None else "no quota is changed"
