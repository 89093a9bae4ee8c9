"""/usage-history, /forecast and /recommendations over a Prometheus stand-in on loopback (the
`prometheus` fixture: acme grows by exactly 0.1 core a day and reaches its 10.3 cores 13 days from now).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest
from fastapi.testclient import TestClient

from orgquota.api.cluster import Cluster
from orgquota.api.history.daily_maxima import DailyMaxima, Points
from orgquota.api.history.prometheus import Prometheus
from orgquota.core.annotations import CURRENCY
from orgquota.core.timestamps import parse_rfc3339
from tests.support.api_cluster import MULTI_CURRENCY_CATALOG, set_annotations, use_catalog
from tests.support.envelope import assert_error
from tests.support.fake_prometheus import FakePrometheus

API = "/api/billing"


def test_usage_history_in_cores_with_the_limit(history_client: TestClient, admin: dict[str, str]) -> None:
    body = history_client.get(f"{API}/usage-history?resource=cpu&range=30d&step=1d", headers=admin).json()["data"]
    assert (body["resource"], body["unit"], body["range"], body["step"]) == ("cpu", "cores", "2592000s", "86400s")
    assert len(body["used"]) == 31
    assert all(at % 86400 == 0 for at, _ in body["used"])  # whole steps, the same for every caller
    values = [value for _, value in body["used"]]
    assert [round(b - a, 3) for a, b in itertools.pairwise(values)] == [0.1] * 30
    assert {value for _, value in body["limit"]} == {10.3}


def test_forecast_gives_the_date_arithmetic_gives(
    history_client: TestClient, prometheus: FakePrometheus, admin: dict[str, str]
) -> None:
    body = history_client.get(f"{API}/forecast", headers=admin).json()["data"]
    assert prometheus.encodings == ["identity"]  # gzip costs Prometheus more CPU than the query itself
    cpu = body["resources"]["cpu"]
    assert (body["windowDays"], cpu["unit"], cpu["used"], cpu["limit"], cpu["enoughHistory"]) == (
        30,
        "cores",
        9,
        10.3,
        True,
    )
    assert cpu["ratePerDay"] == pytest.approx(0.1, abs=1e-3)
    expected = datetime.now(UTC) + timedelta(days=13)
    assert abs(parse_rfc3339(cpu["runsOutAt"]) - expected) < timedelta(days=1)
    assert (
        parse_rfc3339(cpu["band"]["earliest"])
        <= parse_rfc3339(cpu["runsOutAt"])
        <= parse_rfc3339(cpu["band"]["latest"])
    )
    pods = body["resources"]["pods"]
    assert (pods["enoughHistory"], pods["runsOutAt"], pods["used"], pods["limit"]) == (False, None, 23, 200)


def test_a_full_public_ip_quota_is_named_first(history_client: TestClient, admin: dict[str, str]) -> None:
    """acme holds its plan's one public IP: the advice names that (no self-service plan has more)."""
    suggestion = history_client.get(f"{API}/recommendations", headers=admin).json()["data"]["suggestion"]
    assert (suggestion["kind"], suggestion["monthlyCostDelta"]) == ("none", 0)
    assert suggestion["reason"].startswith("The public IPv4 quota is full")


def test_recommendation_when_cpu_runs_out_within_two_weeks(
    history_client: TestClient, cluster: Cluster, admin: dict[str, str]
) -> None:
    cluster.eips.replace([])
    body = history_client.get(f"{API}/recommendations", headers=admin).json()["data"]
    assert body["current"] == {"planId": "pro-pool", "monthlyCost": 228, "currency": "EUR"}
    suggestion = body["suggestion"]
    assert suggestion["kind"] in ("upgrade", "addon")
    assert suggestion["monthlyCostDelta"] > 0
    assert suggestion["simulate"]["fits"] is True
    assert "CPU" in suggestion["reason"]


def test_recommendation_is_in_the_currency_the_organization_pays_in(
    history_client: TestClient, cluster: Cluster, admin: dict[str, str]
) -> None:
    """acme pays in KWD: its cost and the advice's difference are KWD amounts with their three decimals."""
    use_catalog(cluster, MULTI_CURRENCY_CATALOG)
    set_annotations(cluster, {CURRENCY: "KWD"})
    cluster.eips.replace([])
    body = history_client.get(f"{API}/recommendations", headers=admin).json(parse_float=Decimal)["data"]
    assert body["current"] == {"planId": "pro-pool", "monthlyCost": Decimal("70.130"), "currency": "KWD"}
    suggestion = body["suggestion"]
    assert suggestion["kind"] in ("upgrade", "addon")
    assert suggestion["monthlyCostDelta"] % Decimal("0.001") == 0
    assert suggestion["monthlyCostDelta"] > 0


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("resource=gpu", "resource: not a resource with history"),
        ("range=401d", "range: must be"),
        ("range=30d&step=1s", "points asked"),
        ("range=soon", "is not a duration"),
    ],
)
def test_bad_parameters_are_400(history_client: TestClient, admin: dict[str, str], query: str, named: str) -> None:
    assert_error(history_client.get(f"{API}/usage-history?{query}", headers=admin), 400, named)


def test_a_slow_prometheus_is_503_and_the_rest_still_answers(
    history_client: TestClient, prometheus: FakePrometheus, admin: dict[str, str]
) -> None:
    prometheus.delay = 2.5
    assert_error(history_client.get(f"{API}/forecast", headers=admin), 503, "did not answer in time")
    assert history_client.get(f"{API}/quota-usage", headers=admin).status_code == 200


def test_a_refused_query_is_503(history_client: TestClient, prometheus: FakePrometheus, admin: dict[str, str]) -> None:
    prometheus.fail = "parse error"
    assert_error(history_client.get(f"{API}/usage-history", headers=admin), 503, "refused the query")


def test_without_prometheus_the_routes_are_503_and_config_says_so(client: TestClient, admin: dict[str, str]) -> None:
    for route in ("usage-history", "forecast", "recommendations"):
        assert_error(client.get(f"{API}/{route}", headers=admin), 503, "PROMETHEUS_URL is not set")
    assert client.get(f"{API}/config", headers=admin).json()["config"]["features"]["history"] is False


def test_history_is_for_org_admins(history_client: TestClient, project_user: dict[str, str]) -> None:
    assert history_client.get(f"{API}/forecast", headers=project_user).status_code == 403


def read_daily_maxima(
    prometheus: FakePrometheus, asked: list[tuple[str, datetime]], capacity: int
) -> list[dict[str, Points]]:
    async def read() -> list[dict[str, Points]]:
        async with aiohttp.ClientSession() as session:
            daily = DailyMaxima(Prometheus(prometheus.url, session), capacity)
            return [{r: list(points) for r, points in (await daily.of(org, now)).items()} for org, now in asked]

    return asyncio.run(read())


def test_daily_maxima_are_read_once_a_day(prometheus: FakePrometheus) -> None:
    """Ended days do not change: the forecast and the advice of a day ask Prometheus once."""
    noon = datetime(2026, 12, 2, 12, tzinfo=UTC)
    answers = read_daily_maxima(prometheus, [("acme", noon), ("acme", noon + timedelta(hours=11))], capacity=10)
    assert answers[0] == answers[1]
    assert len(answers[0]["cpu"]) == 30
    assert len(prometheus.queries) == 1


def test_daily_maxima_are_read_again_the_next_day_and_not_kept_while_it_settles(prometheus: FakePrometheus) -> None:
    midnight = datetime(2026, 12, 3, tzinfo=UTC)
    times = [midnight - timedelta(hours=1), midnight + timedelta(minutes=5), midnight + timedelta(minutes=9)]
    read_daily_maxima(prometheus, [("acme", at) for at in times], capacity=10)
    assert len(prometheus.queries) == 3


def test_daily_maxima_keep_the_organizations_asked_last(prometheus: FakePrometheus) -> None:
    noon = datetime(2026, 12, 2, 12, tzinfo=UTC)
    read_daily_maxima(prometheus, [("acme", noon), ("other", noon), ("other", noon), ("acme", noon)], capacity=1)
    assert len(prometheus.queries) == 3
