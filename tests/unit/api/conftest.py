"""The billing API over an in-memory cluster, with tokens signed by a local issuer.

The issuer is a tiny HTTP server on loopback serving a discovery document and a JWKS, so tokens
are checked through the real PyJWKClient path (fetch, cache, refetch on an unknown kid). Usage
history comes from a Prometheus stand-in (`history_client`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from tests.support.fake_prometheus import FakePrometheus
from tests.support.oidc import Issuer, bearer
from tests.unit.api.fixtures import CATALOG_TEXT, cluster_objects

DAY = 86400.0


@pytest.fixture(scope="session")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    yield issuer
    issuer.close()


@pytest.fixture
def settings(issuer: Issuer) -> ApiSettings:
    return ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url, "ORGANIZATION_PROJECTS_LIMIT": "3"})


@pytest.fixture
def cluster(settings: ApiSettings) -> Cluster:
    cluster = Cluster(settings)
    for cache, objects in cluster_objects(settings).items():
        getattr(cluster, cache).replace(objects)
    cluster.catalog.live.replace([_configmap(settings.catalog_name, CATALOG_TEXT)])
    cluster.catalog.last_good.replace([])
    return cluster


def _configmap(name: str, text: str) -> dict[str, Any]:
    return {"metadata": {"namespace": "kube-dc", "name": name}, "data": {"plans.yaml": text}}


@pytest.fixture
def client(settings: ApiSettings, cluster: Cluster, issuer: Issuer) -> Iterator[TestClient]:
    issuer.up = True
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    """acme (pro-pool + 1 turbo-x1, 3 projects: 10.3 cores enforced) uses 9 cores now, after 30 days of
    growing by exactly 0.1 core a day: the line reaches 10.3 cores 13 days from now."""
    fake = FakePrometheus()
    now = time.time()
    fake.series[("orgquota_organization_quota_used", "acme", "cpu")] = lambda at: 9.0 - 0.1 * (now - at) / DAY
    fake.series[("orgquota_organization_quota_hard", "acme", "cpu")] = lambda at: 10.3
    fake.series[("orgquota_organization_quota_used", "acme", "pods")] = lambda at: 23.0 if now - at < 5 * DAY else None
    yield fake
    fake.close()


@pytest.fixture
def history_client(issuer: Issuer, cluster: Cluster, prometheus: FakePrometheus) -> Iterator[TestClient]:
    """The application with PROMETHEUS_URL set to the `prometheus` stand-in."""
    settings = ApiSettings.from_env(
        {"OIDC_ISSUER_URL": issuer.url, "ORGANIZATION_PROJECTS_LIMIT": "3", "PROMETHEUS_URL": prometheus.url}
    )
    issuer.up = True
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def admin(issuer: Issuer) -> dict[str, str]:
    return bearer(issuer.token(org="acme", groups=["org-admin", "user"], namespaces=[]))


@pytest.fixture
def project_user(issuer: Issuer) -> dict[str, str]:
    return bearer(issuer.token(org="acme", groups=["user"], namespaces=["acme-dev"]))


@pytest.fixture
def guest(issuer: Issuer) -> dict[str, str]:
    return bearer(issuer.token(groups=[]))
