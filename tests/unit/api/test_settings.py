"""Settings: defaults, secrets from files, and a bad value that stops the API naming the variable."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from orgquota.api.settings import ApiSettings, Provider

ISSUER = {"OIDC_ISSUER_URL": "https://login.example.com/realms/kube-dc/"}


def test_defaults() -> None:
    settings = ApiSettings.from_env(ISSUER)
    assert settings.provider == Provider.NONE
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


def test_secrets_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "webhook-secret"
    secret.write_text("whsec_123\n")
    settings = ApiSettings.from_env({**ISSUER, "STRIPE_WEBHOOK_SECRET_FILE": str(secret)})
    assert settings.stripe_webhook_secret is not None
    assert settings.stripe_webhook_secret.get_secret_value() == "whsec_123"


def test_secret_file_problems_are_named_and_the_secret_never_shown(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="STRIPE_SECRET_KEY_FILE='/nowhere': cannot be read"):
        ApiSettings.from_env({**ISSUER, "STRIPE_SECRET_KEY_FILE": "/nowhere"})
    with pytest.raises(SystemExit, match="set one of them, not both"):
        ApiSettings.from_env({**ISSUER, "STRIPE_SECRET_KEY": "sk", "STRIPE_SECRET_KEY_FILE": "/x"})


def test_stripe_prices_by_id() -> None:
    settings = ApiSettings.from_env({**ISSUER, "STRIPE_PRICE_PRO_POOL": "price_1", "STRIPE_PRICE_TURBO_X1": "price_2"})
    assert settings.stripe_prices == {"PRO_POOL": "price_1", "TURBO_X1": "price_2"}


def test_a_provider_this_version_lacks_stops_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    from orgquota.api.app import create_app
    from orgquota.api.cluster import Cluster

    def not_built(name: str) -> None:  # a build without the provider's module
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(importlib, "import_module", not_built)
    settings = ApiSettings.from_env({**ISSUER, "BILLING_PROVIDER": "whmcs"})
    with pytest.raises(SystemExit, match="BILLING_PROVIDER=whmcs: this version has no whmcs provider"):
        create_app(settings, Cluster(settings))


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
