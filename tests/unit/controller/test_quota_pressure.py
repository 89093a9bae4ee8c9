"""Quota pressure in the operator: status.alerts, the QuotaPressure condition, one Event per transition
and orgquota_organization_alert, on an in-memory apiserver; a restart or a failover announces nothing twice."""

from __future__ import annotations

from typing import Any

from orgquota.core.annotations import PLAN_ID
from orgquota.core.catalog import Catalog
from tests.support.controller_harness import Harness, hrq_path, org_path, run
from tests.support.waiting import present
from tests.unit.controller.test_org_metrics import Scraped, hnc_counts

PRO = {PLAN_ID: "pro-pool"}  # 200 pods


def pods(h: Harness, count: int) -> None:
    hnc_counts(h, "acme", {"pods": str(count)})


def pressure(h: Harness) -> dict[str, Any]:
    return next(c for c in h.status("acme")["conditions"] if c["type"] == "QuotaPressure")


def alert_series(scraped: Scraped) -> list[str]:
    return [line for line in scraped.lines("acme") if line.startswith("orgquota_organization_alert")]


def test_each_level_is_announced_once_recorded_in_the_status_and_exported(catalog: Catalog) -> None:
    async def scenario() -> None:
        h = Harness(catalog)
        scraped = Scraped(h)
        h.add_org("acme", PRO)
        await h.converge()
        assert h.status("acme")["alerts"] == []
        assert (pressure(h)["status"], pressure(h)["reason"]) == ("False", "WithinThresholds")
        pods(h, 159)  # 79.5 %
        await h.converge()
        assert h.status("acme")["alerts"] == []
        pods(h, 160)  # 80 %
        await h.converge()
        (alert,) = h.status("acme")["alerts"]
        assert (alert["resource"], alert["level"], alert["percent"]) == ("pods", "warning", 80)
        assert (pressure(h)["status"], pressure(h)["message"]) == ("True", "warning: pods")
        assert alert_series(scraped) == [
            'orgquota_organization_alert{level="warning",organization="acme",resource="pods"} 1.0'
        ]
        pods(h, 170)
        await h.converge()
        pods(h, 200)  # 100 %: HNC admits exactly the limit
        await h.converge()
        assert h.status("acme")["alerts"][0]["level"] == "critical"
        assert alert_series(scraped) == [
            'orgquota_organization_alert{level="critical",organization="acme",resource="pods"} 1.0'
        ]
        pods(h, 149)  # 74.5 %
        await h.converge()
        assert h.status("acme")["alerts"] == []
        assert alert_series(scraped) == []
        assert [r for r in h.events.reasons() if r != "QuotaCreated"] == [
            "QuotaWarning",
            "QuotaCritical",
            "QuotaRecovered",
        ]
        types = {reason: type_ for type_, reason, _ in h.events.recorded}
        assert (types["QuotaWarning"], types["QuotaRecovered"]) == ("Warning", "Normal")

    run(scenario)


def test_a_restarted_operator_announces_nothing_already_recorded(catalog: Catalog) -> None:
    async def scenario() -> None:
        first = Harness(catalog)
        first.add_org("acme", PRO)
        await first.converge()
        pods(first, 190)
        await first.converge()
        assert first.events.reasons()[-1] == "QuotaWarning"
        restarted = Harness(catalog, kube=first.kube)
        await restarted.reconciler.observe_initial_list(_pages(restarted))
        await restarted.converge()
        assert restarted.events.reasons() == []
        assert restarted.status("acme")["alerts"][0]["level"] == "warning"

    run(scenario)


def test_a_standby_taking_over_reads_what_the_leader_recorded(catalog: Catalog) -> None:
    async def scenario() -> None:
        leader = Harness(catalog)
        leader.add_org("acme", PRO)
        await leader.converge()
        standby = Harness(catalog, kube=leader.kube)
        await standby.reconciler.observe_initial_list(_pages(standby))  # its start-up LIST, before the alert
        await standby.converge()
        pods(leader, 200)
        await leader.converge()
        assert leader.events.reasons()[-1] == "QuotaCritical"
        standby.reconciler.observe_org(present(leader.kube.stored(org_path("acme"))), listed=True)  # it resumes
        standby.reconciler.observe_object("hrq", present(leader.kube.stored(hrq_path("acme"))))
        await standby.converge()
        assert standby.events.reasons() == []
        assert standby.status("acme")["alerts"][0]["level"] == "critical"

    run(scenario)


async def _pages(h: Harness) -> Any:
    yield [present(h.kube.stored(org_path("acme")))]
