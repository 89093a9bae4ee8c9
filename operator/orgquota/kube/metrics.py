"""Metrics of the apiserver edge, shared by every process that writes through `Kube` (operator, API)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

WRITES: Final = Counter(
    "orgquota_api_writes", "Write requests this process sent to the apiserver", ["verb", "resource"]
)
