"""The billing API's settings, read once from the environment (docs/billing-api.md's table).

The fields the operator shares, and the reading rules (a bad value names its variable; secrets
also from `<NAME>_FILE`), are `orgquota.settings.SharedSettings`. The selected payment provider's
own settings are its package's (`orgquota.api.providers`), read here from the same environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, ClassVar, Final, Literal, Self

from pydantic import AnyHttpUrl, Field, field_validator

from orgquota.api import providers
from orgquota.settings import EnvironmentSettings, SharedSettings

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
}
DEFAULT_UI_DIR: Final = Path(__file__).resolve().parents[3] / "ui" / "dist"
"""the page built in a source checkout (`ui/dist`); an installed package sets ORGQUOTA_UI_DIR"""


class ApiSettings(SharedSettings):
    ENVIRONMENT: ClassVar[Mapping[str, str]] = ENVIRONMENT
    PROGRAM: ClassVar[str] = "orgquota api"

    provider: str = "none"
    """the payment provider: one of `orgquota.api.providers.names()`"""
    provider_settings: EnvironmentSettings = Field(default_factory=EnvironmentSettings)
    """the provider's own settings (its `Settings`), read with these"""
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

    @field_validator("provider")
    @classmethod
    def _provider(cls, value: str) -> str:
        known = providers.names()
        if value not in known:
            raise ValueError("this version's providers are " + ", ".join(known))
        return value

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
    def read(cls, environ: Mapping[str, str]) -> Self | list[str]:
        """The settings with the selected provider's own (reported once the API's own are right)."""
        settings = super().read(environ)
        if isinstance(settings, list):
            return settings
        own = providers.load(settings.provider).Settings.read(environ)
        if isinstance(own, list):
            return own
        return settings.model_copy(update={"provider_settings": own})
