"""Hands the heap's free pages back to the OS once a burst of work is over.

glibc keeps the pages of freed allocations for reuse, so after a start-up or a catalog fan-out
over thousands of organizations (every watch event and response decoded, then dropped) a
process's RSS would stay at its peak for good. `malloc_trim(0)` returns them; on a C library
without it (musl) nothing is done.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release() -> None:
    """Return free heap pages to the OS (a few milliseconds for a few hundred MB)."""
    if _TRIM is not None:
        _TRIM(0)
