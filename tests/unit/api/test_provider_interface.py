"""A provider is its package and nothing else: a third one (tests/unit/api/fake_providers/acme) is
selected, configured, mounted and offered in /config without an edit to the API's shared files."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from orgquota.api import providers
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from tests.support.oidc import Issuer
from tests.unit.api.fixtures import P, cluster_objects
from tests.unit.api.stripe.conftest import Organizations

FAKES = Path(__file__).parent / "fake_providers"
PORTAL = "https://billing.acme.example/"


@pytest.fixture
def with_acme(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This version as if it had been built with the acme package among its providers."""
    monkeypatch.setattr(providers, "__path__", [*providers.__path__, str(FAKES)])
    yield
    sys.modules.pop(f"{providers.__name__}.acme", None)


@pytest.fixture
def settings(issuer: Issuer, with_acme: None) -> ApiSettings:
    environ = {"BILLING_PROVIDER": "acme", "ACME_API_KEY": "k3y", "ACME_PORTAL_URL": PORTAL}
    return ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url, **environ})


def counted(outcome: str) -> float:
    labels = {"provider": "acme", "type": "cancel", "outcome": outcome}
    return REGISTRY.get_sample_value("orgquota_webhook_events_total", labels) or 0.0


def test_a_provider_package_is_a_name_billing_provider_accepts(with_acme: None) -> None:
    assert providers.names() == ["acme", "none", "stripe", "whmcs"]


def test_its_settings_are_read_by_the_apis_rules(issuer: Issuer, with_acme: None) -> None:
    environ = {"OIDC_ISSUER_URL": issuer.url, "BILLING_PROVIDER": "acme", "ACME_API_KEY": "k3y"}
    with pytest.raises(SystemExit, match="orgquota api: invalid setting: ACME_PORTAL_URL: required"):
        ApiSettings.from_env(environ)
    with pytest.raises(SystemExit, match="ACME_PORTAL_URL='portal'") as raised:
        ApiSettings.from_env({**environ, "ACME_PORTAL_URL": "portal"})
    assert "k3y" not in str(raised.value)
    with pytest.raises(SystemExit, match="ACME_API_KEY and ACME_API_KEY_FILE: set one of them"):
        ApiSettings.from_env({**environ, "ACME_PORTAL_URL": PORTAL, "ACME_API_KEY_FILE": "/x"})


def test_its_features_are_in_config_and_its_route_is_mounted(
    client: TestClient, project_user: dict[str, str], admin: dict[str, str]
) -> None:
    assert client.get("/api/billing/config", headers=project_user).json()["config"] == {
        "provider": "acme",
        "features": {
            "quotas": True,
            "plans": True,
            "checkout": False,
            "portal": True,
            "webhooks": True,
            "addons": False,
            "history": False,  # the API's own (PROMETHEUS_URL), whatever the provider
        },
        "externalBillingUrl": PORTAL,
    }
    assert client.get("/api/billing/acme-portal", headers=admin).json()["data"] == {"url": PORTAL + "acme"}
    assert client.get("/api/billing/health", headers=project_user).json()["data"]["provider"] == "acme"


def test_its_notices_go_through_the_one_webhook_pipeline(settings: ApiSettings, cluster: Cluster) -> None:
    organizations = Organizations(cluster_objects(settings)["orgs"])
    cluster.kube = organizations  # type: ignore[assignment]
    before = counted("applied")
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        notice = json.dumps({"event": "cancel", "organization": "acme", "at": 1_900_000_000}).encode()
        refused = client.post("/api/billing/webhook", content=notice, headers={"X-Acme-Key": "wrong"})
        assert refused.status_code == 401
        applied = client.post("/api/billing/webhook", content=notice, headers={"X-Acme-Key": "k3y"})
        assert applied.json()["data"]["changes"] == {
            P + "subscription": "canceling",
            P + "provider-event-created": "1900000000",
        }
        again = client.post("/api/billing/webhook", content=notice, headers={"X-Acme-Key": "k3y"})
        assert again.json()["data"]["changes"] == {}  # the one state machine: a duplicate changes nothing
        assert client.post("/api/billing/webhook", content=b"{" * 2000).status_code == 413
    assert organizations.annotations("acme")[P + "subscription"] == "canceling"
    assert counted("applied") == before + 1
    assert counted("unchanged") >= 1
