"""The data types the controller's modules pass each other: what a reconcile found and what it wrote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from orgquota.core import manifests

HRQ_KIND: Final = "HierarchicalResourceQuota"


@dataclass(frozen=True)
class Issue:
    """Something outside the annotations that keeps an organization from being ready."""

    reason: str
    message: str


@dataclass(frozen=True)
class Change:
    """One managed object written by a reconcile: `Created LimitRange default-resource-limits: plan pro`."""

    verb: str
    kind: str
    detail: str

    def __str__(self) -> str:
        name = manifests.HRQ_NAME if self.kind == HRQ_KIND else manifests.LIMIT_RANGE_NAME
        return f"{self.verb} {self.kind} {name}: {self.detail}"
