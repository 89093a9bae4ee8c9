"""The billing API's settings, read once from the environment (the README's table).

A bad value stops `orgquota api` at start with the variable's name. Secrets may instead come
from a file named by `<NAME>_FILE` (a mounted Kubernetes Secret), never both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from orgquota.core.desired import DEFAULT_PROJECTS_LIMIT, QuotaSettings


class Provider(StrEnum):
    NONE = "none"
    STRIPE = "stripe"
    WHMCS = "whmcs"


ENVIRONMENT: Final = {
    "provider": "BILLING_PROVIDER",
    "issuer": "OIDC_ISSUER_URL",
    "jwks_url": "OIDC_JWKS_URL",
    "audience": "OIDC_AUDIENCE",
    "client_id": "OIDC_CLIENT_ID",
    "catalog_namespace": "ORGQUOTA_CATALOG_NAMESPACE",
    "catalog_name": "ORGQUOTA_CATALOG_NAME",
    "projects_limit": "ORGANIZATION_PROJECTS_LIMIT",
    "billing_api_url": "BILLING_API_URL",
    "console_url": "CONSOLE_URL",
    "ui_dir": "ORGQUOTA_UI_DIR",
    "log_level": "ORGQUOTA_LOG_LEVEL",
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


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: Provider = Provider.NONE
    issuer: AnyHttpUrl
    """the OIDC issuer: tokens' `iss`, and where the keys are found (its discovery document)"""
    jwks_url: AnyHttpUrl | None = None
    """the key set's address when it is not the discovery document's `jwks_uri`"""
    audience: Annotated[str, Field(min_length=1)] = "billing-api"
    client_id: Annotated[str, Field(min_length=1)] = "kube-dc"
    catalog_namespace: str = "kube-dc"
    catalog_name: str = "billing-plans"
    projects_limit: Annotated[int, Field(ge=0)] = DEFAULT_PROJECTS_LIMIT
    billing_api_url: AnyHttpUrl | None = None
    console_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    ui_dir: Path | None = None
    log_level: str = "INFO"
    access_log: Literal["all", "errors"] = "all"
    """`all`: a line per request; `errors`: denials, failures and writes only (reads are in the metrics)"""
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: AnyHttpUrl | None = None
    whmcs_webhook_secret: SecretStr | None = None
    whmcs_client_area_url: AnyHttpUrl | None = None
    stripe_prices: Mapping[str, str] = Field(default_factory=dict)
    """STRIPE_PRICE_<ID> by <ID> as written (plan or add-on id upper-cased, '-' as '_')"""

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def issuer_url(self) -> str:
        """The issuer exactly as tokens carry it (no trailing slash added by URL normalising)."""
        return str(self.issuer).rstrip("/")

    @property
    def quota(self) -> QuotaSettings:
        return QuotaSettings(projects_limit=self.projects_limit)

    @property
    def page_dir(self) -> Path | None:
        """The built page to serve, if any."""
        if self.ui_dir is not None:
            return self.ui_dir
        return DEFAULT_UI_DIR if (DEFAULT_UI_DIR / "index.html").is_file() else None

    @property
    def last_good_name(self) -> str:
        """The operator's saved copy of the last good catalog (beside the catalog)."""
        return f"{self.catalog_name}-last-good"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ApiSettings:
        """The settings; a bad value raises SystemExit naming the variable."""
        values: dict[str, object] = {}
        problems: list[str] = []
        for field, variable in ENVIRONMENT.items():
            value = environ.get(variable, "").strip()
            file_name = environ.get(variable + "_FILE", "").strip() if field in SECRETS else ""
            if value and file_name:
                problems.append(f"{variable} and {variable}_FILE: set one of them, not both")
            elif file_name:
                try:
                    value = Path(file_name).read_text().strip()
                except OSError as exc:
                    problems.append(f"{variable}_FILE={file_name!r}: cannot be read ({exc.strerror})")
                    continue
                if not value:
                    problems.append(f"{variable}_FILE={file_name!r}: the file is empty")
                    continue
            if value:
                values[field] = value
        values["stripe_prices"] = {
            name.removeprefix(STRIPE_PRICE_PREFIX): price.strip()
            for name, price in environ.items()
            if name.startswith(STRIPE_PRICE_PREFIX) and price.strip()
        }
        if "issuer" not in values:
            problems.append(f"{ENVIRONMENT['issuer']}: required (the OIDC issuer whose tokens are accepted)")
        if not problems:
            try:
                return cls.model_validate(values)
            except ValidationError as exc:
                for error in exc.errors():
                    field = str(error["loc"][0])
                    shown = "<secret>" if field in SECRETS else repr(error["input"])
                    problems.append(f"{ENVIRONMENT.get(field, field)}={shown}: {error['msg']}")
        raise SystemExit("orgquota api: invalid setting: " + "; ".join(problems))
