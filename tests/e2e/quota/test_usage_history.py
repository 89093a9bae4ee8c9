"""The usage history for real: a real Prometheus scraping the operator has, for an organization whose
project runs a pod, exactly the CPU that HNC counts in the HRQ, and the enforced limit; once the
organization is deleted, its series go stale (Prometheus answers nothing for them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcluster.kubectl import Cluster
from localcluster.prometheus import Prometheus
from orgquota.core.quantity import Quantity
from tests.support.operator_process import OperatorProcess
from tests.support.orgs import Orgs
from tests.support.promtool import prometheus_binary
from tests.support.tree import admitted, hrq_used, org_with_projects, pod
from tests.support.waiting import assert_eq, eventually


@pytest.fixture(scope="module")
def prometheus(operator: OperatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """Prometheus scraping the session's operator every second."""
    prometheus_binary("prometheus")
    target = f"127.0.0.1:{operator.env['ORGQUOTA_METRICS_PORT']}"
    with Prometheus(
        tmp_path_factory.mktemp("prometheus"), targets={"orgquota-operator": [target]}, scrape_interval="1s"
    ) as running:
        yield running


def scraped(prometheus: Prometheus, query: str) -> list[float]:
    """The values Prometheus has now for `query` (one per series)."""
    return [float(result["value"][1]) for result in prometheus.query("/api/v1/query", query=query)["result"]]


def test_prometheus_has_the_cpu_hnc_counts_and_forgets_a_deleted_organization(
    enforcing_cluster: Cluster, orgs: Orgs, prometheus: Prometheus
) -> None:
    cluster = enforcing_cluster
    name, (web,) = org_with_projects(cluster, orgs, "pro-pool", "web")
    admitted(cluster, pod(web, "a", cpu="1500m"), pod(name, "b", cpu="250m"))
    eventually(lambda: assert_eq(hrq_used(cluster, name).get("requests.cpu"), "1750m"), timeout=60)
    counted = float(Quantity.parse(hrq_used(cluster, name)["requests.cpu"]).value)

    used = f'orgquota_organization_quota_used{{organization="{name}",resource="cpu"}}'
    eventually(lambda: assert_eq(scraped(prometheus, used), [counted]), timeout=60)
    assert counted == 1.75
    hard = f'orgquota_organization_quota_hard{{organization="{name}",resource="cpu"}}'
    assert scraped(prometheus, hard) == [float(Quantity.parse(orgs.hard(name)["requests.cpu"]).value)]
    plan = f'orgquota_organization_plan_info{{organization="{name}",plan="pro-pool",mode="plan"}}'
    assert scraped(prometheus, plan) == [1.0]

    cluster.kubectl("delete", "organization", name, "-n", name)
    eventually(lambda: assert_eq(scraped(prometheus, f'{{organization="{name}"}}'), []), timeout=60)
