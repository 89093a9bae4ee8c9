"""Prometheus metrics: what a platform team graphs and alerts on (`orgquota_api_writes` is counted
in `orgquota.kube.client`, where every request passes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Final

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CATALOG_VALID: Final = Gauge(
    "orgquota_catalog_valid",
    "1 while the live billing-plans catalog is valid, 0 while a bad or missing one is ignored",
)
RECONCILES: Final = Counter("orgquota_reconciles", "Organization reconciles by result", ["result"])
RECONCILE_SECONDS: Final = Histogram(
    "orgquota_reconcile_seconds",
    "Time to reconcile one organization",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUEUE_DEPTH: Final = Gauge(
    "orgquota_queue_depth", "Organizations waiting for or in a reconcile or a status write (0: idle)"
)
LEADER: Final = Gauge("orgquota_leader", "1 while this replica holds the Lease and reconciles, 0 while it stands by")
WEBHOOK_DECISIONS: Final = Counter(
    "orgquota_webhook_decisions", "Admission decisions by webhook and result", ["webhook", "allowed"]
)


def serve(port: int, host: str = "0.0.0.0") -> None:
    """Serve /metrics on `host`:`port` from a thread of its own; port 0 serves nothing."""
    if port:
        start_http_server(port, addr=host)


class _OrganizationsByMode(Collector):
    """Counted at scrape time from the operator's memory, so it can never drift from it."""

    count: Callable[[], Mapping[str, int]] = dict

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "orgquota_organizations", "Organizations by the mode of their quota", labels=["mode"]
        )
        for mode, number in sorted(self.count().items()):
            family.add_metric([mode], number)
        yield family


_ORGANIZATIONS: Final = _OrganizationsByMode()
REGISTRY.register(_ORGANIZATIONS)


def count_organizations(count: Callable[[], Mapping[str, int]]) -> None:
    _ORGANIZATIONS.count = count
