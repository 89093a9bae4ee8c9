"""JSON log lines, one object per line, with the caller's organization wherever there is one."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
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


class WarningsPerSecond(logging.Filter):
    """At most one warning a second per reason, the next one counting those left out (`suppressed`).

    Warnings are what callers can cause at will (401s, refused webhook signatures): an attacker
    must not be able to flood the log. A reason is the logger, the message's template, and the
    route and status of an access line; errors and everything below a warning always pass.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.clock = clock
        self._last: dict[tuple[object, ...], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        fields = getattr(record, "fields", None)
        known = fields if isinstance(fields, dict) else {}
        reason = (record.name, str(record.msg), known.get("route"), known.get("status"))
        now = self.clock()
        last, suppressed = self._last.get(reason, (-1.0, 0))
        if last >= 0 and now - last < 1.0:
            self._last[reason] = (last, suppressed + 1)
            return False
        self._last[reason] = (now, 0)
        if suppressed:
            if isinstance(fields, dict):
                record.fields = {**fields, "suppressed": suppressed}
            else:
                record.suppressed = suppressed
        return True


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(WarningsPerSecond())
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
