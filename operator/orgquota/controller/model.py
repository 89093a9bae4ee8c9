"""The types the controller's modules pass each other: what a reconcile found and what it wrote, and
the loggers Kopf hands its handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

from orgquota.core import manifests

HRQ_KIND: Final = "HierarchicalResourceQuota"

Logger = logging.Logger | logging.LoggerAdapter[Any]
"""`kopf.Logger` spelt without Kopf: what handlers pass on to the modules that log for them"""


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
