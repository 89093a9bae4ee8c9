"""The billing API's settings, read once from the environment (docs/billing-api.md's table).

The fields the operator shares, and the reading rules (a bad value names its variable; secrets
also from `<NAME>_FILE`), are `orgquota.settings.SharedSettings`. The selected payment provider's
own settings are its package's (`orgquota.api.providers`), read here from the same environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, ClassVar, Final, Literal, Self

from pydantic import AnyHttpUrl, AnyUrl, Field, SecretStr, field_validator

from orgquota.api import providers
from orgquota.core.notifications import address_problem
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
    "max_streams": "API_MAX_STREAMS",
    "alerts_webhook_secret": "ALERTS_WEBHOOK_SECRET",
    "smtp_url": "SMTP_URL",
    "smtp_from": "SMTP_FROM",
    "smtp_starttls": "SMTP_STARTTLS",
    "smtp_username": "SMTP_USERNAME",
    "smtp_password": "SMTP_PASSWORD",
}
SECRETS: Final = frozenset({"alerts_webhook_secret", "smtp_password"})
SMTP_SCHEMES: Final = {"smtp": 25, "smtps": 465}
"""SMTP_URL's schemes and their default ports (smtps: TLS from the first byte)"""
DEFAULT_UI_DIR: Final = Path(__file__).resolve().parents[3] / "ui" / "dist"
"""the page built in a source checkout (`ui/dist`); an installed package sets ORGQUOTA_UI_DIR"""


class ApiSettings(SharedSettings):
    ENVIRONMENT: ClassVar[Mapping[str, str]] = ENVIRONMENT
    SECRETS: ClassVar[frozenset[str]] = SECRETS
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
    max_streams: Annotated[int, Field(ge=1, le=100_000)] = 1000
    """event streams (GET /events) open at once in this process; beyond, 503"""
    alerts_webhook_secret: SecretStr | None = None
    """the bearer token Alertmanager sends to POST /alerts (required with SMTP_URL)"""
    smtp_url: AnyUrl | None = None
    """where alert e-mails are sent (`smtp://host:port`, `smtps://host:port`); unset: no notifications"""
    smtp_from: str = ""
    """the sender of alert e-mails (required with SMTP_URL)"""
    smtp_starttls: bool = False
    """upgrade an smtp:// connection with STARTTLS (and refuse to send without it)"""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: AnyUrl | None) -> AnyUrl | None:
        if value is not None and (value.scheme not in SMTP_SCHEMES or not value.host):
            raise ValueError("must be smtp://host[:port] or smtps://host[:port]")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _smtp_from(cls, value: str) -> str:
        problem = address_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value

    @property
    def notifications(self) -> bool:
        """Whether alerts are mailed (`/config` `features.notifications`, POST /alerts mounted)."""
        return self.smtp_url is not None

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
        if settings.smtp_url is not None:
            needed = {"ALERTS_WEBHOOK_SECRET": settings.alerts_webhook_secret, "SMTP_FROM": settings.smtp_from}
            missing = [f"{name}: required with SMTP_URL" for name, value in needed.items() if not value]
            if missing:
                return missing
        own = providers.load(settings.provider).Settings.read(environ)
        if isinstance(own, list):
            return own
        return settings.model_copy(update={"provider_settings": own})
