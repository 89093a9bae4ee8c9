"""The history routes over a real Prometheus holding 30 backfilled days (tests.support.prom_history):

`growing` 7 -> 9.9 cores at exactly 0.1 a day toward a 10-core limit, `flat` at 3, `noisy` around 4
with spikes, `young` only 5 days old. Each organization exists in the API's informers with an HRQ
whose usage is the last backfilled sample, as HNC would report it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.history.daily_maxima import daily_maxima_query
from orgquota.api.settings import ApiSettings
from orgquota.core.annotations import PREFIX
from orgquota.core.forecast import daily_maxima
from orgquota.core.timestamps import parse_rfc3339
from tests.support.api_cluster import CATALOG_TEXT, catalog_configmap, hnc_namespace, organization
from tests.support.oidc import Issuer, bearer
from tests.support.prom_history import History

API = "/api/billing"
USED = "orgquota_organization_quota_used"
NAMES = ("growing", "flat", "noisy", "young")


def _hrq(name: str, used_cores: float) -> dict[str, Any]:
    hard = {"requests.cpu": "10", "pods": "200"}
    return {
        "metadata": {"namespace": name, "name": "plan-quota"},
        "spec": {"hard": hard},
        "status": {"hard": hard, "used": {"requests.cpu": f"{round(used_cores * 1000)}m", "pods": "3"}},
    }


@pytest.fixture
def client(history: History, issuer: Issuer) -> Iterator[TestClient]:
    settings = ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url, "PROMETHEUS_URL": history.prometheus.url})
    cluster = Cluster(settings)
    last = {name: history.find(USED, name).samples[-1][1] for name in NAMES}
    objects = {
        "orgs": [
            organization(name, {PREFIX + "plan-id": "pro-pool", PREFIX + "subscription": "active"}) for name in NAMES
        ],
        "hrqs": [_hrq(name, last[name]) for name in NAMES],
        "namespaces": [hnc_namespace(name) for name in NAMES],
    }
    for each in cluster.caches:
        each.replace([])
    for name, items in objects.items():
        getattr(cluster, name).replace(items)
    cluster.catalog.live.replace([catalog_configmap(settings.catalog_name, CATALOG_TEXT)])
    issuer.up = True
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        yield client


def admin_of(issuer: Issuer, org: str) -> dict[str, str]:
    return bearer(issuer.token(org=org, groups=["org-admin"], namespaces=[]))


def cpu_forecast(client: TestClient, issuer: Issuer, org: str) -> dict[str, Any]:
    response = client.get(f"{API}/forecast", headers=admin_of(issuer, org))
    assert response.status_code == 200, response.text
    cpu: dict[str, Any] = response.json()["data"]["resources"]["cpu"]
    return cpu


def test_growing_runs_out_when_arithmetic_says(client: TestClient, issuer: Issuer, history: History) -> None:
    cpu = cpu_forecast(client, issuer, "growing")
    assert cpu["enoughHistory"] is True
    assert cpu["ratePerDay"] == pytest.approx(0.1, abs=0.002)
    last_at, last = history.find(USED, "growing").samples[-1]
    expected = datetime.fromtimestamp(last_at, UTC) + timedelta(days=(10 - last) / 0.1)
    assert abs(parse_rfc3339(cpu["runsOutAt"]) - expected) <= timedelta(days=1)


def test_flat_never_runs_out(client: TestClient, issuer: Issuer) -> None:
    cpu = cpu_forecast(client, issuer, "flat")
    assert (cpu["enoughHistory"], cpu["runsOutAt"], cpu["ratePerDay"], cpu["used"]) == (True, None, 0, 3)


def test_noisy_has_a_band_around_its_date(client: TestClient, issuer: Issuer) -> None:
    cpu = cpu_forecast(client, issuer, "noisy")
    assert cpu["enoughHistory"] is True
    assert 0 <= cpu["fit"] <= 1
    if cpu["runsOutAt"] is not None:
        assert parse_rfc3339(cpu["band"]["earliest"]) <= parse_rfc3339(cpu["runsOutAt"])


def test_five_days_are_not_enough_history(client: TestClient, issuer: Issuer) -> None:
    cpu = cpu_forecast(client, issuer, "young")
    assert (cpu["enoughHistory"], cpu["runsOutAt"]) == (False, None)


def test_usage_history_is_what_was_backfilled(client: TestClient, issuer: Issuer, history: History) -> None:
    response = client.get(f"{API}/usage-history?resource=cpu&range=2d&step=1h", headers=admin_of(issuer, "flat"))
    body = response.json()["data"]
    assert {value for _, value in body["used"]} == {3}
    assert {value for _, value in body["limit"]} == {10}
    assert len(body["used"]) >= 48


def test_growing_is_advised_to_move_before_it_runs_out(client: TestClient, issuer: Issuer) -> None:
    suggestion = client.get(f"{API}/recommendations", headers=admin_of(issuer, "growing")).json()["data"]["suggestion"]
    assert suggestion["kind"] in ("upgrade", "addon"), suggestion
    assert suggestion["simulate"]["fits"] is True


def test_prometheus_gives_each_days_maximum(history: History) -> None:
    """The forecast's query answers, day by day, the largest of the samples themselves (spikes included)."""
    now = datetime.now(UTC)
    query, start, end, step = daily_maxima_query("noisy", now)
    data = history.prometheus.query(
        "/api/v1/query_range", query=query, start=repr(start), end=repr(end), step=str(step)
    )
    (cpu,) = [series["values"] for series in data["result"] if series["metric"]["resource"] == "cpu"]
    answered = daily_maxima([(float(at), float(value)) for at, value in cpu], now)
    assert len(answered) == 30
    assert answered == daily_maxima(history.find(USED, "noisy").samples, now)
