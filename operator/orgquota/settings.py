"""Operator settings, read once from the environment (see the README's settings table)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orgquota.desired import DEFAULT_PROJECTS_LIMIT, QuotaSettings

ENVIRONMENT = {
    "catalog_namespace": "ORGQUOTA_CATALOG_NAMESPACE",
    "catalog_name": "ORGQUOTA_CATALOG_NAME",
    "projects_limit": "ORGANIZATION_PROJECTS_LIMIT",
    "log_level": "ORGQUOTA_LOG_LEVEL",
    "workers": "ORGQUOTA_WORKERS",
    "webhook_cert": "ORGQUOTA_WEBHOOK_CERT",
    "webhook_key": "ORGQUOTA_WEBHOOK_KEY",
    "webhook_port": "ORGQUOTA_WEBHOOK_PORT",
    "metrics_port": "ORGQUOTA_METRICS_PORT",
}


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    catalog_namespace: str = "kube-dc"
    catalog_name: str = "billing-plans"
    projects_limit: Annotated[int, Field(ge=0)] = DEFAULT_PROJECTS_LIMIT
    log_level: str = "INFO"
    workers: Annotated[int, Field(ge=1, le=256)] = 16
    webhook_cert: str = ""
    """PEM certificate of the webhook server; webhooks are served only when it is set"""
    webhook_key: str = ""
    webhook_port: Annotated[int, Field(ge=1, le=65535)] = 9443
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    """Prometheus metrics; 0 turns them off"""

    @property
    def webhooks(self) -> bool:
        return bool(self.webhook_cert)

    @property
    def last_good_name(self) -> str:
        """The ConfigMap (beside the catalog) that keeps the last good catalog."""
        return f"{self.catalog_name}-last-good"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings; a bad value stops the operator with the variable's name, not a guess."""
        values = {field: environ[var] for field, var in ENVIRONMENT.items() if environ.get(var, "").strip()}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENVIRONMENT[str(error['loc'][0])]}={error['input']!r}: {error['msg']}" for error in exc.errors()
            )
            raise SystemExit(f"orgquota: invalid setting: {problems}") from exc

    @property
    def quota(self) -> QuotaSettings:
        return QuotaSettings(projects_limit=self.projects_limit)
