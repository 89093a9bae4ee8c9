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
}


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    catalog_namespace: str = "kube-dc"
    catalog_name: str = "billing-plans"
    projects_limit: Annotated[int, Field(ge=0)] = DEFAULT_PROJECTS_LIMIT
    log_level: str = "INFO"
    workers: Annotated[int, Field(ge=1, le=256)] = 16

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings; a bad value stops the operator with the variable's name, not a guess."""
        values = {field: environ[var] for field, var in ENVIRONMENT.items() if environ.get(var, "").strip()}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENVIRONMENT[str(error['loc'][0])]}={error['input']!r}: {error['msg']}"
                for error in exc.errors()
            )
            raise SystemExit(f"orgquota: invalid setting: {problems}") from exc

    @property
    def quota(self) -> QuotaSettings:
        return QuotaSettings(projects_limit=self.projects_limit)
