"""Per-organization usage, quota, plan and cost as Prometheus series: the usage history's source.

Made at scrape time from what the last reconcile of each organization found, so a label set that
changed (another plan, a currency) or an organization that was deleted leaves no stale series behind.
Only the replica that reconciles fills it; Prometheus keeps the history (docs/history.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orgquota.controller.inventory import OrgKey
from orgquota.core.alert_thresholds import DEFAULT_RUN_OUT_DAYS
from orgquota.core.usage_series import OrgSeries


class OrganizationMetrics(Collector):
    """The latest `OrgSeries` of every organization, keyed like the inventory."""

    def __init__(self) -> None:
        self._series: dict[OrgKey, OrgSeries] = {}
        self.run_out_days = DEFAULT_RUN_OUT_DAYS

    def update(self, key: OrgKey, series: OrgSeries) -> None:
        self._series[key] = series

    def forget(self, key: OrgKey) -> None:
        self._series.pop(key, None)

    def clear(self) -> None:
        """Export none of these any more (a replica that no longer reconciles)."""
        self._series.clear()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        used = GaugeMetricFamily(
            "orgquota_organization_quota_used",
            "What the organization uses of a quota resource (HNC's count in the HRQ; public EIps counted by the "
            "operator), in cores, bytes or a count",
            labels=["organization", "resource"],
        )
        hard = GaugeMetricFamily(
            "orgquota_organization_quota_hard",
            "The limit enforced on the organization (the HRQ's hard; public_ipv4: the plan's eipQuota, absent when "
            "unlimited), in cores, bytes or a count",
            labels=["organization", "resource"],
        )
        plan = GaugeMetricFamily(
            "orgquota_organization_plan_info",
            "1 for the organization's plan, subscription state and quota mode",
            labels=["organization", "plan", "subscription", "mode"],
        )
        cost = GaugeMetricFamily(
            "orgquota_organization_monthly_cost",
            "The organization's plan and add-ons per month, in major units of the currency",
            labels=["organization", "currency"],
        )
        # A snapshot: the scrape runs in prometheus_client's thread while reconciles change the dict.
        budget = GaugeMetricFamily(
            "orgquota_organization_budget",
            "The organization's monthly budget (billing.kube-dc.com/budget), in major units of the currency",
            labels=["organization", "currency"],
        )
        alert = GaugeMetricFamily(
            "orgquota_organization_alert",
            "1 while a quota of the organization is at that level of pressure (the catalog's alerts thresholds)",
            labels=["organization", "resource", "level"],
        )
        for (_, organization), series in sorted(self._series.copy().items()):
            for resource, value in series.used.items():
                used.add_metric([organization, resource], float(value))
            for resource, value in series.hard.items():
                hard.add_metric([organization, resource], float(value))
            plan.add_metric([organization, series.plan, series.subscription, series.mode], 1)
            if series.cost is not None:
                cost.add_metric([organization, series.cost.currency], float(series.cost.amount))
            if series.budget is not None:
                budget.add_metric([organization, series.budget.currency], float(series.budget.amount))
            for resource, level in series.alerts.items():
                alert.add_metric([organization, resource, level], 1)
        run_out = GaugeMetricFamily(
            "orgquota_catalog_alert_run_out_days",
            "Days ahead within which a forecast run-out of a quota alerts (the catalog's alerts.runOutDays)",
            value=self.run_out_days,
        )
        yield from (used, hard, plan, cost, budget, alert, run_out)


class _Exported(Collector):
    """The registry's entry: the metrics of the reconciler this process runs, once it runs one."""

    source: OrganizationMetrics | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return iter(()) if self.source is None else self.source.collect()


_EXPORTED: Final = _Exported()
REGISTRY.register(_EXPORTED)


def export(source: OrganizationMetrics) -> None:
    """Serve `source` on the operator's /metrics."""
    _EXPORTED.source = source
