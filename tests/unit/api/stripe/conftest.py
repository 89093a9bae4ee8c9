"""The billing API with BILLING_PROVIDER=stripe over the in-memory cluster, calling a real stripe-mock.

Organization writes go to an in-memory apiserver (tests/support/fake_kube.py: GET and merge patch
with the resourceVersion precondition), which can be told to fail; the same chain against the real
apiserver and operator is in tests/e2e/quota/test_stripe.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from localcluster.stripe_mock import StripeMock
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from tests.support.api_cluster import organizations_apiserver
from tests.support.fake_kube import FakeKube
from tests.support.oidc import Issuer
from tests.support.stripe_events import FIXTURE_PRICE, SECRET_KEY, WEBHOOK_SECRET

PRICES = {
    "STRIPE_PRICE_PRO_POOL": FIXTURE_PRICE,  # stripe-mock's subscriptions are on pro-pool
    "STRIPE_PRICE_DEV_POOL": "price_dev_pool",
    "STRIPE_PRICE_TURBO_X1": "price_turbo_x1",
}  # turbo-x2 has no price: it is not for sale


@pytest.fixture(scope="session")
def stripe_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with StripeMock(tmp_path_factory.mktemp("stripe-mock")) as mock:
        yield mock.api_base


@pytest.fixture
def settings(issuer: Issuer, stripe_api: str) -> ApiSettings:
    return ApiSettings.from_env(
        {
            "OIDC_ISSUER_URL": issuer.url,
            "ORGANIZATION_PROJECTS_LIMIT": "3",
            "BILLING_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": stripe_api,
            "CONSOLE_URL": "https://console.example.com",
            **PRICES,
        }
    )


@pytest.fixture
def orgs(settings: ApiSettings) -> FakeKube:
    return organizations_apiserver(settings)


@pytest.fixture
def client(settings: ApiSettings, cluster: Cluster, issuer: Issuer, orgs: FakeKube) -> Iterator[TestClient]:
    cluster.kube = orgs
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        yield client
