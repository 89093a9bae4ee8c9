"""JSON log lines, one object per line, with the caller's organization wherever there is one.

Cheap enough for a line per request (`access_line`, on by default): the event loop only makes the
record and puts it on a queue (`configure`); a thread formats the lines and writes them in batches
(one write, and one wake-up of the thread, per `PAUSE_SECONDS` under load rather than per line).
The formatter builds the time's text once a second and encodes with one reused encoder.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import IO, Any, Final

from starlette.types import Scope

from orgquota.api.auth import CURRENT_ORGANIZATION

access_log: Final = logging.getLogger("orgquota.api.access")
_RESERVED: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "organization_context",
}
_ENCODE: Final = json.JSONEncoder(default=str).encode


class JsonFormatter(logging.Formatter):
    """A JSON object per line; a record's `fields` (a dict) are its extra keys, else any `extra=` attribute."""

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED and k not in line)
        if not line.get("organization"):
            organization = getattr(record, "organization_context", None) or CURRENT_ORGANIZATION.get()
            if organization:
                line["organization"] = organization
            else:
                line.pop("organization", None)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return _ENCODE(line)

    def _time(self, record: logging.LogRecord) -> str:
        """RFC 3339 in UTC with milliseconds; the seconds' text made once a second."""
        second, text = self._second
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{int(record.msecs):03d}Z"


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


class Enqueued(logging.handlers.QueueHandler):
    """Puts a record on the writer's queue with what only the emitting side knows: its message (the
    arguments as they are now) and the request's organization (a context variable of this thread)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.msg, record.args = record.getMessage(), None
        if record.exc_info and not record.exc_text:  # the frames are not kept alive in the queue
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        record.organization_context = CURRENT_ORGANIZATION.get()
        return record


PAUSE_SECONDS: Final = 0.05
"""how long the writer lets lines gather once it has written all: one wake-up and one write a pause"""


class Unflushed(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes a line without flushing it: `Writer` flushes a batch of lines at once."""

    def flush(self) -> None:
        pass


class Writer(logging.handlers.QueueListener):
    """Takes the queued records in batches: when the queue is empty, flushes what it wrote and
    pauses, rather than waking up and writing once per line."""

    def __init__(self, records: queue.SimpleQueue[logging.LogRecord], handler: Unflushed, stream: IO[str]) -> None:
        super().__init__(records, handler)
        self.records, self.stream = records, stream

    def dequeue(self, block: bool) -> logging.LogRecord:
        try:
            record = self.records.get(False)
        except queue.Empty:
            self.stream.flush()
            time.sleep(PAUSE_SECONDS)
            record = self.records.get(block)
        return record


class LogWriter:
    """The root logger's records go through a queue to a thread that formats and writes them.

    `stop` writes what is queued and goes back to writing on the caller's thread; it runs when
    SIGTERM or SIGINT ends the process (uvicorn re-raises the signal it handled once it has shut
    down, which would end the process with lines still queued).
    """

    def __init__(self, level: str, stream: IO[str] | None = None) -> None:
        self.stream = stream or _buffered_stderr()
        formatter = JsonFormatter()
        self.direct = logging.StreamHandler(self.stream)
        self.direct.setFormatter(formatter)
        batched = Unflushed(self.stream)
        batched.setFormatter(formatter)
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self.enqueued = Enqueued(records)
        self.enqueued.addFilter(WarningsPerSecond())  # on the emitting side: a flood is not even queued
        self.listener = Writer(records, batched, self.stream)
        root = logging.getLogger()
        root.handlers[:] = [self.enqueued]
        root.setLevel(level)
        self.listener.start()

    def stop(self) -> None:
        root = logging.getLogger()
        if self.enqueued in root.handlers:
            self.direct.addFilter(WarningsPerSecond())
            root.handlers[:] = [self.direct]
            self.listener.stop()
            self.stream.flush()

    def stop_at_signals(self) -> None:
        """Before the process ends by SIGTERM or SIGINT, `stop` (the signal's previous handler then runs)."""
        for number in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(number)
            if previous is None:  # a handler not set from Python: the default is what remains
                previous = signal.SIG_DFL

            def stop_then(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
                self.stop()
                signal.signal(signum, previous)
                signal.raise_signal(signum)

            signal.signal(number, stop_then)


def _buffered_stderr() -> IO[str]:
    """Standard error with a buffer of its own (sys.stderr writes at every line's end)."""
    try:
        return open(sys.stderr.fileno(), "w", buffering=1 << 16, encoding="utf-8", closefd=False)
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture): as it is
        return sys.stderr


def configure(level: str, stream: IO[str] | None = None) -> LogWriter:
    # what the lines never show: not worth finding for each record (the logging HOWTO's "Optimization")
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    writer = LogWriter(level, stream)
    for noisy in ("uvicorn", "uvicorn.error"):
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # replaced by access_line, which knows the organization
    return writer


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
    # makeRecord + handle: what Logger.log does, without looking up the calling source line
    record = access_log.makeRecord(
        access_log.name,
        level,
        "",
        0,
        "%s %s %s",
        (scope["method"], scope["path"], status),
        None,
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
    access_log.handle(record)
