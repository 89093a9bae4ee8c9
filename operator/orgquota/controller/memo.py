"""Kopf's `memo`: what the handlers and webhooks share, one typed field per concern.

The CLI builds it with the settings and hands it to `kopf.run(memo=...)`; the startup handler
fills in the parts that need a running event loop (`runtime.start`). Kopf runs no resource
handler and serves no webhook before its startup handlers have finished, so they all find
every field set.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from orgquota.controller.reconciler import Reconciler
from orgquota.controller.settings import Settings
from orgquota.kube.client import Kube
from orgquota.kube.last_good import LastGoodCatalog


@dataclass(eq=False, repr=False)  # a live container: compared by identity, no repr of fields unset till start-up
class OperatorMemo:
    config: Settings
    """read before Kopf starts, so a bad setting stops the operator before it connects anywhere"""
    kube: Kube = field(init=False)
    reconciler: Reconciler = field(init=False)
    last_good: LastGoodCatalog = field(init=False)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    """the operator's own background work, cancelled at cleanup"""

    def __copy__(self) -> OperatorMemo:
        """One memo for the whole operator: Kopf copies the operator's memo for every object it
        sees, which here would be one more object per Organization, all alike."""
        return self
