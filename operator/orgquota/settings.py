"""The settings both processes read, and the one way they are read from the environment.

The operator and `orgquota api` must agree on the catalog's location and the projects limit: the
API's pending and simulated limits are the operator's arithmetic with the same inputs, so one model
holds them with one bound. A bad value stops the process at start, naming the variable; a secret may
come from a file named by `<NAME>_FILE` (a mounted Kubernetes Secret), never from both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from orgquota.core.desired import DEFAULT_PROJECTS_LIMIT, QuotaSettings
from orgquota.core.durations import DurationError, parse_duration
from orgquota.core.limits import MAX_PROJECTS_LIMIT

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _duration(value: object) -> object:
    """`7d`, `12h`, `1h30m`, `45s` or plain seconds; anything else is left to pydantic (ISO 8601 `P7D`)."""
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError:
            return value
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class EnvironmentSettings(BaseModel):
    """Settings read from the environment by one rule: a variable per field (`ENVIRONMENT`), secrets
    (`SECRETS`) also from `<NAME>_FILE`, and a bad value stops `PROGRAM` at start, naming the variable."""

    model_config = ConfigDict(frozen=True)

    ENVIRONMENT: ClassVar[Mapping[str, str]] = {}
    SECRETS: ClassVar[frozenset[str]] = frozenset()
    PROGRAM: ClassVar[str] = "orgquota"

    @classmethod
    def extra_values(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        """Values a subclass reads by another rule than one variable per field (none here)."""
        return {}

    @classmethod
    def read(cls, environ: Mapping[str, str]) -> Self | list[str]:
        """The settings, or what is wrong with them (each problem names its variable)."""
        values, problems = read_variables(environ, cls.ENVIRONMENT, cls.SECRETS)
        values.update(cls.extra_values(environ))
        if problems:
            return problems
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            return [_problem(error, cls.ENVIRONMENT, cls.SECRETS) for error in exc.errors()]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Self:
        """The settings; a bad value raises SystemExit naming the variable, never a guess."""
        settings = cls.read(environ)
        if isinstance(settings, list):
            raise SystemExit(f"{cls.PROGRAM}: invalid setting: " + "; ".join(settings))
        return settings


class SharedSettings(EnvironmentSettings):
    """Fields common to the operator and the API; each process subclasses it."""

    ENVIRONMENT: ClassVar[Mapping[str, str]] = {
        "catalog_namespace": "ORGQUOTA_CATALOG_NAMESPACE",
        "catalog_name": "ORGQUOTA_CATALOG_NAME",
        "projects_limit": "ORGANIZATION_PROJECTS_LIMIT",
        "log_level": "ORGQUOTA_LOG_LEVEL",
        "grace_period": "ORGQUOTA_GRACE_PERIOD",
    }

    catalog_namespace: str = "kube-dc"
    catalog_name: str = "billing-plans"
    projects_limit: Annotated[int, Field(ge=0, le=MAX_PROJECTS_LIMIT)] = DEFAULT_PROJECTS_LIMIT
    """the catalog's worst case is checked with MAX_PROJECTS_LIMIT, so a larger one could overflow a quota"""
    log_level: str = "INFO"
    grace_period: Duration = timedelta(days=7)
    """how long an organization stays suspended before it is canceled: the operator's clock, and the
    end of the grace period the API shows (`graceEndsAt`), so both must read the same value"""

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError("must be " + ", ".join(LOG_LEVELS[:-1]) + " or " + LOG_LEVELS[-1])
        return value.upper()

    @property
    def quota(self) -> QuotaSettings:
        return QuotaSettings(projects_limit=self.projects_limit)

    @property
    def last_good_name(self) -> str:
        """The ConfigMap (beside the catalog) where the operator keeps the last good catalog."""
        return f"{self.catalog_name}-last-good"


def read_variables(
    environ: Mapping[str, str], variables: Mapping[str, str], secrets: frozenset[str]
) -> tuple[dict[str, Any], list[str]]:
    """Field values from their variables (blank = unset), secrets also from `<NAME>_FILE`; and the problems."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field, variable in variables.items():
        value = environ.get(variable, "").strip()
        file_name = environ.get(variable + "_FILE", "").strip() if field in secrets else ""
        if value and file_name:
            problems.append(f"{variable} and {variable}_FILE: set one of them, not both")
            continue
        if file_name:
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
    return values, problems


def _problem(error: Any, variables: Mapping[str, str], secrets: frozenset[str]) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    if not field:  # a rule over several fields: its message names them
        return str(error["msg"]).removeprefix("Value error, ")
    variable = variables.get(field, field)
    if error["type"] == "missing":
        return f"{variable}: required"
    shown = "<secret>" if field in secrets else repr(error["input"])
    return f"{variable}={shown}: {error['msg']}"
