"""`POST /trial` in quota-only mode: one trial per organization, ever; refusals write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orgquota.api.cluster import Cluster
from orgquota.core import annotations as ann
from orgquota.core.timestamps import parse_rfc3339
from tests.support.api_cluster import CATALOG_TEXT, configmap
from tests.support.envelope import assert_data, assert_error
from tests.support.fake_kube import FakeKube
from tests.support.oidc import Issuer, bearer

API = "/api/billing"
TRIALS = (
    CATALOG_TEXT.replace("price: 199\n    currency: EUR", "price: 199\n    currency: EUR\n    trial: {days: 14}")
    .replace("price: 49\n    currency: EUR", "price: 49\n    currency: EUR\n    prices: {JPY: '7900'}")
    .replace("price: 199\n    currency: EUR", "price: 199\n    currency: EUR\n    prices: {JPY: '31000'}")
    .replace("price: 29, currency: EUR,", "price: 29, currency: EUR, prices: {JPY: '4500'},")
    .replace("price: 49, currency: EUR,", "price: 49, currency: EUR, prices: {JPY: '7600'},")
)


@pytest.fixture
def beta_admin(issuer: Issuer) -> dict[str, str]:
    return bearer(issuer.token(org="beta", groups=["org-admin"], namespaces=[]))


@pytest.fixture
def trials(client: TestClient, cluster: Cluster, kube: FakeKube) -> TestClient:
    cluster.catalog.live.replace([configmap(cluster.settings.catalog_name, TRIALS)])
    return client


def stored(kube: FakeKube, org: str) -> dict[str, str]:
    return {k: v for k, v in kube.annotations(org).items() if k.startswith(ann.PREFIX)}


def test_a_trial_grants_the_plan_until_its_end_and_fixes_the_currency(
    trials: TestClient, kube: FakeKube, beta_admin: dict[str, str]
) -> None:
    before = datetime.now(UTC)
    answer = assert_data(
        trials.post(f"{API}/trial", json={"planId": "pro-pool", "currency": "JPY"}, headers=beta_admin)
    )
    ends = parse_rfc3339(answer["trialEndsAt"])
    assert before + timedelta(days=14) - timedelta(seconds=1) <= ends <= datetime.now(UTC) + timedelta(days=14)
    assert (answer["status"], answer["currency"], answer["planId"]) == ("trialing", "JPY", "pro-pool")
    assert stored(kube, "beta") == {
        ann.SUBSCRIPTION: "trialing",
        ann.PLAN_ID: "pro-pool",
        ann.PLAN_NAME: "Pro Pool",
        ann.TRIAL_ENDS_AT: answer["trialEndsAt"],
        ann.CURRENCY: "JPY",
    }


def test_one_trial_per_organization_even_after_it_ended(
    trials: TestClient, kube: FakeKube, beta_admin: dict[str, str]
) -> None:
    ended = {ann.SUBSCRIPTION: "suspended", ann.PLAN_ID: "pro-pool", ann.TRIAL_ENDS_AT: "2026-01-01T00:00:00Z"}
    kube.annotate("beta", ended)
    body = assert_error(trials.post(f"{API}/trial", json={"planId": "pro-pool"}, headers=beta_admin), 409, "trial")
    assert body["details"] == {"trialEndsAt": "2026-01-01T00:00:00Z"}
    assert stored(kube, "beta") == ended


@pytest.mark.parametrize(
    ("request_body", "status", "problem"),
    [
        ({"planId": "no-such-plan"}, 400, "unknown plan 'no-such-plan'"),
        ({"planId": "dev-pool"}, 400, "no trial is offered for plan 'dev-pool'"),
        ({"planId": "internal"}, 400, "unknown plan 'internal'"),
        ({"planId": "pro-pool", "currency": "USD"}, 400, "currency: 'USD' is not a currency the plans are sold in"),
        ({"planId": "x" * 5000}, 422, "planId"),
        ({"planId": "pro-pool", "extra": 1}, 422, "extra"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(
    trials: TestClient,
    kube: FakeKube,
    beta_admin: dict[str, str],
    request_body: dict[str, Any],
    status: int,
    problem: str,
) -> None:
    before = stored(kube, "beta")
    response = trials.post(f"{API}/trial", json=request_body, headers=beta_admin)
    body = assert_error(response, status, problem)
    assert len(body["error"]) < 300
    assert stored(kube, "beta") == before


def test_an_organization_with_a_subscription_or_another_currency_gets_409(
    trials: TestClient, kube: FakeKube, admin: dict[str, str], beta_admin: dict[str, str]
) -> None:
    before = stored(kube, "acme")
    assert_error(trials.post(f"{API}/trial", json={"planId": "pro-pool"}, headers=admin), 409, "already has a subscr")
    assert stored(kube, "acme") == before
    kube.annotate("beta", {ann.CURRENCY: "EUR"})
    body = assert_error(
        trials.post(f"{API}/trial", json={"planId": "pro-pool", "currency": "JPY"}, headers=beta_admin), 409, "pays in"
    )
    assert body["details"] == {"currency": "EUR"}
    assert stored(kube, "beta") == {ann.CURRENCY: "EUR"}


def test_the_route_needs_an_org_admin(trials: TestClient, project_user: dict[str, str]) -> None:
    assert_error(trials.post(f"{API}/trial", json={"planId": "pro-pool"}, headers=project_user), 403, "")
    assert_error(trials.post(f"{API}/trial", json={"planId": "pro-pool"}), 401, "")
