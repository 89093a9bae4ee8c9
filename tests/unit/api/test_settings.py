"""Settings: defaults, secrets from files, and a bad value that stops the API naming the variable."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from orgquota.api.providers.stripe.config import StripeSettings
from orgquota.api.settings import ApiSettings

ISSUER = {"OIDC_ISSUER_URL": "https://login.example.com/realms/kube-dc/"}
STRIPE = {**ISSUER, "BILLING_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test"}


def test_defaults() -> None:
    settings = ApiSettings.from_env(ISSUER)
    assert settings.provider == "none"
    assert settings.issuer_url == "https://login.example.com/realms/kube-dc"
    assert (settings.audience, settings.client_id, settings.projects_limit) == ("billing-api", "kube-dc", 50)
    assert (settings.catalog_namespace, settings.catalog_name) == ("kube-dc", "billing-plans")
    assert str(settings.console_url) == "http://127.0.0.1:8000/"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "OIDC_ISSUER_URL: required"),
        ({"OIDC_ISSUER_URL": "not a url"}, "OIDC_ISSUER_URL='not a url'"),
        ({**ISSUER, "BILLING_PROVIDER": "paypal"}, "BILLING_PROVIDER='paypal'"),
        ({**ISSUER, "ORGANIZATION_PROJECTS_LIMIT": "-1"}, "ORGANIZATION_PROJECTS_LIMIT='-1'"),
        ({**ISSUER, "ORGANIZATION_PROJECTS_LIMIT": "10001"}, "ORGANIZATION_PROJECTS_LIMIT='10001'"),
        ({**ISSUER, "BILLING_API_URL": "ftp//x"}, "BILLING_API_URL="),
        ({**ISSUER, "ORGQUOTA_LOG_LEVEL": "loud"}, "ORGQUOTA_LOG_LEVEL='loud'"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SystemExit, match="invalid setting") as raised:
        ApiSettings.from_env(environ)
    assert named in str(raised.value)


def stripe_settings(environ: dict[str, str]) -> StripeSettings:
    settings = ApiSettings.from_env(environ).provider_settings
    assert isinstance(settings, StripeSettings)
    return settings


def test_secrets_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "webhook-secret"
    secret.write_text("whsec_123\n")
    settings = stripe_settings({**STRIPE, "STRIPE_WEBHOOK_SECRET_FILE": str(secret)})
    assert settings.webhook_secret.get_secret_value() == "whsec_123"


def test_secret_file_problems_are_named_and_the_secret_never_shown(tmp_path: Path) -> None:
    environ = {**STRIPE, "STRIPE_WEBHOOK_SECRET": "whsec_shown"}
    with pytest.raises(SystemExit, match="STRIPE_SECRET_KEY_FILE='/nowhere': cannot be read"):
        ApiSettings.from_env({**environ, "STRIPE_SECRET_KEY": "", "STRIPE_SECRET_KEY_FILE": "/nowhere"})
    with pytest.raises(SystemExit, match="set one of them, not both"):
        ApiSettings.from_env({**environ, "STRIPE_SECRET_KEY_FILE": "/x"})
    with pytest.raises(SystemExit, match="STRIPE_API_BASE='nowhere'") as raised:
        ApiSettings.from_env({**environ, "STRIPE_API_BASE": "nowhere"})
    assert "whsec_shown" not in str(raised.value)


def test_stripe_prices_by_id() -> None:
    environ = {**STRIPE, "STRIPE_WEBHOOK_SECRET": "whsec", "STRIPE_PRICE_PRO_POOL": "price_1"}
    assert stripe_settings({**environ, "STRIPE_PRICE_TURBO_X1": "price_2"}).prices == {
        "PRO_POOL": "price_1",
        "TURBO_X1": "price_2",
    }


def test_a_providers_settings_are_read_only_when_it_is_selected() -> None:
    settings = ApiSettings.from_env({**ISSUER, "STRIPE_SECRET_KEY_FILE": "/nowhere", "WHMCS_CLIENT_AREA_URL": "x"})
    assert settings.provider == "none"


def test_a_provider_this_version_lacks_is_named_with_those_it_has() -> None:
    with pytest.raises(SystemExit) as raised:
        ApiSettings.from_env({**ISSUER, "BILLING_PROVIDER": "paypal"})
    assert "BILLING_PROVIDER='paypal'" in str(raised.value)
    assert "this version's providers are none, stripe, whmcs" in str(raised.value)


def test_a_provider_that_cannot_be_imported_stops_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_built(name: str) -> None:  # an image without the provider's dependencies
        raise ModuleNotFoundError("No module named 'whmcs_sdk'", name="whmcs_sdk")

    monkeypatch.setattr(importlib, "import_module", not_built)
    with pytest.raises(SystemExit, match="BILLING_PROVIDER=whmcs: the provider cannot be loaded"):
        ApiSettings.from_env({**ISSUER, "BILLING_PROVIDER": "whmcs"})


def test_the_api_never_loads_kopf() -> None:
    """`orgquota api` imports the API and the CLI, never the operator's Kopf machinery."""
    import subprocess
    import sys

    code = (
        "import sys, orgquota.cli, orgquota.api.server, orgquota.api.app; "
        "print(sorted(m for m in sys.modules if m == 'kopf' or m.startswith(('kopf.', 'orgquota.controller'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
