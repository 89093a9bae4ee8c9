"""The access line: one JSON line per request (`ORGQUOTA_ACCESS_LOG=all`, the default), cheap.

A successful request's line is queued as its fields alone (`logs.AccessLine`) when the logging is
as `logs.configure` set it up: the writer thread formats the very line the record would have made.
Making and handling a LogRecord cost about 10 µs of the request's thread and formatting it 7 µs of
the writer's, for a line whose every field is known here; denials and failures, and any logging
configured otherwise (a test's capture, another handler), still go through a record.
"""

from __future__ import annotations

import logging
import time

from starlette.types import Scope

from orgquota.api.auth import CURRENT_ORGANIZATION
from orgquota.api.logs import AccessLine, LogWriter, access_log


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
    organization: str = getattr(caller, "org", "")
    role = getattr(getattr(caller, "role", None), "value", None)
    ms = round(seconds * 1000, 2)
    writer = LogWriter.active
    if level == logging.INFO and writer is not None and writer.takes_access_lines():
        shown = organization or CURRENT_ORGANIZATION.get()  # what the record's line shows
        writer.records.put(AccessLine(time.time(), scope["method"], scope["path"], status, route, ms, shown, role))
        return
    # makeRecord + handle: what Logger.log does, without looking up the calling source line
    record = access_log.makeRecord(
        access_log.name,
        level,
        "",
        0,
        "%s %s %s",
        (scope["method"], scope["path"], status),
        None,
        extra={"fields": {"route": route, "status": status, "ms": ms, "organization": organization, "role": role}},
    )
    access_log.handle(record)
