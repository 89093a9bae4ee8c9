"""The billing API's settings, read once from the environment (docs/billing-api.md's table).

The fields the operator shares, and the reading rules (a bad value names its variable; secrets
also from `<NAME>_FILE`), are `orgquota.settings.SharedSettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import AnyHttpUrl, Field, SecretStr

from orgquota.settings import SharedSettings


class Provider(StrEnum):
    NONE = "none"
    STRIPE = "stripe"
    WHMCS = "whmcs"


ENVIRONMENT: Final = {
    **SharedSettings.ENVIRONMENT,
    "provider": "BILLING_PROVIDER",
    "issuer": "OIDC_ISSUER_URL",
    "jwks_url": "OIDC_JWKS_URL",
    "audience": "OIDC_AUDIENCE",
    "client_id": "OIDC_CLIENT_ID",
    "billing_api_url": "BILLING_API_URL",
    "prometheus_url": "PROMETHEUS_URL",
    "console_url": "CONSOLE_URL",
    "ui_dir": "ORGQUOTA_UI_DIR",
    "access_log": "ORGQUOTA_ACCESS_LOG",
    "stripe_secret_key": "STRIPE_SECRET_KEY",
    "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
    "stripe_api_base": "STRIPE_API_BASE",
    "whmcs_webhook_secret": "WHMCS_WEBHOOK_SECRET",
    "whmcs_client_area_url": "WHMCS_CLIENT_AREA_URL",
}
SECRETS: Final = frozenset({"stripe_secret_key", "stripe_webhook_secret", "whmcs_webhook_secret"})
STRIPE_PRICE_PREFIX: Final = "STRIPE_PRICE_"
DEFAULT_UI_DIR: Final = Path(__file__).resolve().parents[3] / "ui" / "dist"
"""the page built in a source checkout (`ui/dist`); an installed package sets ORGQUOTA_UI_DIR"""


class ApiSettings(SharedSettings):
    ENVIRONMENT: ClassVar[Mapping[str, str]] = ENVIRONMENT
    SECRETS: ClassVar[frozenset[str]] = SECRETS
    PROGRAM: ClassVar[str] = "orgquota api"

    provider: Provider = Provider.NONE
    issuer: AnyHttpUrl
    """the OIDC issuer: tokens' `iss`, and where the keys are found (its discovery document)"""
    jwks_url: AnyHttpUrl | None = None
    """the key set's address when it is not the discovery document's `jwks_uri`"""
    audience: Annotated[str, Field(min_length=1)] = "billing-api"
    client_id: Annotated[str, Field(min_length=1)] = "kube-dc"
    billing_api_url: AnyHttpUrl | None = None
    prometheus_url: AnyHttpUrl | None = None
    """where usage history is read (SPEC §9); unset: the history routes answer 503"""
    console_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    ui_dir: Path | None = None
    access_log: Literal["all", "errors"] = "all"
    """`all`: a line per request; `errors`: denials, failures and writes only (reads are in the metrics)"""
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: AnyHttpUrl | None = None
    whmcs_webhook_secret: SecretStr | None = None
    whmcs_client_area_url: AnyHttpUrl | None = None
    stripe_prices: Mapping[str, str] = Field(default_factory=dict)
    """STRIPE_PRICE_<ID> by <ID> as written (plan or add-on id upper-cased, '-' as '_')"""

    @property
    def issuer_url(self) -> str:
        """The issuer exactly as tokens carry it (no trailing slash added by URL normalising)."""
        return str(self.issuer).rstrip("/")

    @property
    def page_dir(self) -> Path | None:
        """The built page to serve, if any."""
        if self.ui_dir is not None:
            return self.ui_dir
        return DEFAULT_UI_DIR if (DEFAULT_UI_DIR / "index.html").is_file() else None

    @classmethod
    def extra_values(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        return {
            "stripe_prices": {
                name.removeprefix(STRIPE_PRICE_PREFIX): price.strip()
                for name, price in environ.items()
                if name.startswith(STRIPE_PRICE_PREFIX) and price.strip()
            }
        }
