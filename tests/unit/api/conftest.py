"""The billing API over an in-memory cluster, with tokens signed by a local issuer.

The issuer is a tiny HTTP server on loopback serving a discovery document and a JWKS, so tokens
are checked through the real PyJWKClient path (fetch, cache, refetch on an unknown kid). Usage
history comes from a Prometheus stand-in (`history_client`), alert mail goes to a real SMTP server on
loopback (`mail`), and the API's writes to an in-memory apiserver holding the same Organizations (`kube`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from localcluster.mailserver import MailServer
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.kube.client import ORGANIZATION
from tests.support.api_cluster import (
    in_memory_cluster,
    notification_settings,
)
from tests.support.fake_kube import FakeKube
from tests.support.fake_prometheus import FakePrometheus
from tests.support.oidc import Issuer, bearer

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
    return in_memory_cluster(settings)


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


@pytest.fixture(scope="session")
def mail() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture
def kube(cluster: Cluster) -> FakeKube:
    """The apiserver behind the informers: the same Organizations, each with its owner's spec.email."""
    fake = FakeKube()
    for _, name, record in cluster.orgs.items():
        body = {"metadata": {"annotations": dict(record.annotations)}, "spec": {"email": f"owner@{name}.example"}}
        fake.put(ORGANIZATION.path(name, name), {**body, "status": dict(record.status)})
    cluster.kube = fake
    return fake


@pytest.fixture
def history_client(
    issuer: Issuer, cluster: Cluster, prometheus: FakePrometheus, mail: MailServer, kube: FakeKube
) -> Iterator[TestClient]:
    """The application with PROMETHEUS_URL set to the `prometheus` stand-in, and alerts mailed to `mail`."""
    settings = ApiSettings.from_env(
        {
            "OIDC_ISSUER_URL": issuer.url,
            "ORGANIZATION_PROJECTS_LIMIT": "3",
            "PROMETHEUS_URL": prometheus.url,
            **notification_settings(mail),
        }
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
