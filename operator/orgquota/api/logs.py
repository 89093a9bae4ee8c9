"""JSON log lines, one object per line, with the caller's organization wherever there is one."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final

from starlette.types import Scope

from orgquota.api.auth import CURRENT_ORGANIZATION
from orgquota.core.timestamps import format_rfc3339

access_log: Final = logging.getLogger("orgquota.api.access")
_RESERVED: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A JSON object per line; a record's `fields` (a dict) are its extra keys, else any `extra=` attribute."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": format_rfc3339(datetime.fromtimestamp(record.created, UTC), millis=True),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED and k not in line)
        if "organization" not in line or not line["organization"]:
            organization = CURRENT_ORGANIZATION.get()
            if organization:
                line["organization"] = organization
            else:
                line.pop("organization", None)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn", "uvicorn.error"):
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # replaced by access_line, which knows the organization


def access_line(scope: Scope, route: str, status: int, seconds: float, every_request: bool) -> None:
    """One line for a request: method, path, route, status, milliseconds, role and organization.

    Denials are warnings (an attack or a misconfigured client shows up), failures errors; other
    requests are INFO when `every_request` (ORGQUOTA_ACCESS_LOG=all), else only their metrics count
    them, except writes (any method but GET), which are always logged.
    """
    level = logging.ERROR if status >= 500 else logging.WARNING if status in (401, 403) else logging.INFO
    if level == logging.INFO and not every_request and scope["method"] == "GET" and status < 400:
        return
    if not access_log.isEnabledFor(level):
        return
    caller = (scope.get("state") or {}).get("caller")
    access_log.log(
        level,
        "%s %s %s",
        scope["method"],
        scope["path"],
        status,
        extra={
            "fields": {
                "route": route,
                "status": status,
                "ms": round(seconds * 1000, 2),
                "organization": getattr(caller, "org", ""),
                "role": getattr(getattr(caller, "role", None), "value", None),
            }
        },
    )
