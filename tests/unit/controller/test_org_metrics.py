"""The per-organization series on the operator's /metrics: they appear with a reconcile, follow HNC's
counts and the annotations, and vanish with the organization."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, generate_latest

from orgquota.core.annotations import ADDONS, BUDGET, PLAN_ID, SUBSCRIPTION
from orgquota.core.catalog import Catalog, parse_catalog
from orgquota.kube.client import EIP
from tests.support.catalog import CATALOG, example_catalog
from tests.support.controller_harness import Harness, hrq_path, org_path, run
from tests.support.waiting import present

PRO = {PLAN_ID: "pro-pool"}


class Scraped:
    """The reconciler's organization metrics as a scrape sees them."""

    def __init__(self, h: Harness) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(h.reconciler.org_metrics)

    def value(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def used(self, org: str, resource: str) -> float | None:
        return self.value("orgquota_organization_quota_used", organization=org, resource=resource)

    def hard(self, org: str, resource: str) -> float | None:
        return self.value("orgquota_organization_quota_hard", organization=org, resource=resource)

    def lines(self, org: str) -> list[str]:
        text = generate_latest(self.registry).decode()
        return [line for line in text.splitlines() if f'organization="{org}"' in line]


def hnc_counts(h: Harness, org: str, used: dict[str, str]) -> None:
    """HNC writes what the organization's tree uses into the HRQ's status; the watch delivers it."""
    body = h.kube.stored(hrq_path(org))
    assert body is not None
    body["status"] = {"hard": dict(body["spec"]["hard"]), "used": used}
    h.reconciler.observe_object("hrq", h.kube.put(hrq_path(org), body))


def test_series_appear_with_the_first_reconcile_in_base_units(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog, projects_limit=3)
        scraped = Scraped(h)
        h.add_org("acme", PRO)
        await h.converge()
        assert scraped.hard("acme", "cpu") == 8.3  # 8 + 3 x 100m of project overhead
        assert scraped.hard("acme", "memory") == (24 * 1024 + 3 * 128) * 2**20
        assert scraped.hard("acme", "storage") == 160 * 2**30
        assert scraped.hard("acme", "pods") == 200
        assert scraped.hard("acme", "services_loadbalancers") == 100
        assert scraped.hard("acme", "public_ipv4") == 1  # eipQuota of pro-pool
        assert scraped.used("acme", "cpu") == 0
        assert scraped.used("acme", "public_ipv4") == 0
        plan = {"organization": "acme", "plan": "pro-pool", "subscription": "active", "mode": "plan"}
        assert scraped.value("orgquota_organization_plan_info", **plan) == 1
        assert scraped.value("orgquota_catalog_alert_run_out_days") == 7

    run(scenario)


def test_used_follows_what_hnc_counts_and_the_public_ips(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        scraped = Scraped(h)
        h.add_org("acme", PRO)
        await h.converge()
        hnc_counts(h, "acme", {"requests.cpu": "2500m", "requests.memory": "3Gi", "pods": "4"})
        eip = {"metadata": {"labels": {"network.kube-dc.com/external-network-type": "public"}}}
        await h.reconciler.observe_eip(h.kube.put(EIP.path("acme", "ip-1"), eip))
        await h.converge()
        assert scraped.used("acme", "cpu") == 2.5
        assert scraped.used("acme", "memory") == 3 * 2**30
        assert scraped.used("acme", "pods") == 4
        assert scraped.used("acme", "storage") == 0
        assert scraped.used("acme", "public_ipv4") == 1

    run(scenario)


def test_a_plan_change_replaces_the_plan_series_and_suspension_floors_the_public_ips(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        scraped = Scraped(h)
        h.add_org("acme", {PLAN_ID: "dev-pool"})
        await h.converge()
        assert scraped.hard("acme", "public_ipv4") is None  # dev-pool has no eipQuota: unlimited
        h.annotate("acme", {**PRO, SUBSCRIPTION: "suspended"})
        await h.converge()
        info = [line for line in scraped.lines("acme") if line.startswith("orgquota_organization_plan_info")]
        assert info == [
            'orgquota_organization_plan_info{mode="floor",organization="acme",plan="pro-pool",'
            'subscription="suspended"} 1.0'
        ]
        assert scraped.hard("acme", "cpu") == 0.5  # the catalog's suspendedPlan
        assert scraped.hard("acme", "public_ipv4") == 0

    run(scenario)


def test_the_monthly_cost_follows_the_add_ons() -> None:
    async def scenario() -> None:
        h = Harness(example_catalog())
        scraped = Scraped(h)
        h.add_org("acme", {**PRO, ADDONS: json.dumps([{"addonId": "turbo-x1", "quantity": 1}])})
        await h.converge()
        assert scraped.value("orgquota_organization_monthly_cost", organization="acme", currency="USD") == 228
        h.annotate("acme", {ADDONS: json.dumps([{"addonId": "turbo-x1", "quantity": 2}])})
        await h.converge()
        cost = [line for line in scraped.lines("acme") if line.startswith("orgquota_organization_monthly_cost")]
        assert cost == ['orgquota_organization_monthly_cost{currency="USD",organization="acme"} 257.0']

    run(scenario)


def test_the_budget_is_exported_while_a_readable_one_is_set() -> None:
    async def scenario() -> None:
        h = Harness(example_catalog())
        scraped = Scraped(h)
        h.add_org("acme", {**PRO, BUDGET: '{"monthly":"249.50","currency":"USD"}'})
        await h.converge()
        assert scraped.value("orgquota_organization_budget", organization="acme", currency="USD") == 249.5
        h.annotate("acme", {BUDGET: "250 dollars"})
        await h.converge()
        assert not [line for line in scraped.lines("acme") if line.startswith("orgquota_organization_budget")]

    run(scenario)


def test_a_deleted_organization_has_no_series_left_and_others_keep_theirs(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        scraped = Scraped(h)
        h.add_org("acme", PRO)
        h.add_org("globex", PRO)
        await h.converge()
        assert scraped.lines("acme")
        body = present(h.kube.stored(org_path("acme")))
        h.kube.drop(org_path("acme"))
        h.reconciler.observe_org(body, deleted=True)
        await h.converge()
        assert scraped.lines("acme") == []
        assert scraped.used("globex", "cpu") == 0

    run(scenario)


def test_an_organization_without_a_plan_has_only_its_plan_series(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        scraped = Scraped(h)
        h.add_org("acme", {})
        await h.converge()
        assert scraped.lines("acme") == [
            'orgquota_organization_plan_info{mode="none",organization="acme",plan="",subscription=""} 1.0'
        ]

    run(scenario)


def test_the_run_out_horizon_is_the_catalogs() -> None:
    async def scenario() -> None:
        h = Harness(example_catalog())
        scraped = Scraped(h)
        assert scraped.value("orgquota_catalog_alert_run_out_days") == 7
        h.reconciler.set_catalog(parse_catalog(CATALOG + "\nalerts: {runOutDays: 14}\n"), None)
        assert scraped.value("orgquota_catalog_alert_run_out_days") == 14

    run(scenario)
