"""The informers' first LIST kept out of the garbage collector's full walks.

A full collection walks every object the collector tracks. At 10,000 organizations the informers
hold about 150,000 of them, and one walk (about 80 ms) stopped every request in flight: the tail of
`/usage-history` (docs/performance.md, "Usage history"). What they hold is parsed JSON and frozen
records, which never form cycles, so reference counting frees each one when a watch event replaces
it; `gc.freeze()` once every collection is listed moves them out of the walks. What the watches
bring later is walked as usual, so the gain shrinks as the objects are replaced.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from typing import Any

from orgquota.kube.watch import WatchCache

logger = logging.getLogger(__name__)


def freeze_once_listed(caches: Sequence[WatchCache[Any]]) -> None:
    """Freeze the collector's tracked objects once, as soon as every cache has listed its collection."""
    frozen = False

    def listed() -> None:
        nonlocal frozen
        if frozen or not all(cache.synced for cache in caches):
            return
        frozen = True
        for cache in caches:
            cache.listeners.remove(listed)
        gc.collect()  # what is garbage now is not frozen with the rest
        gc.freeze()
        logger.info("%d objects listed by the informers kept out of full collections", gc.get_freeze_count())

    for cache in caches:
        cache.listeners.append(listed)
    listed()
