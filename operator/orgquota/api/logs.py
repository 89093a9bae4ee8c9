"""JSON log lines, one object per line, with the caller's organization wherever there is one.

Cheap enough for a line per request (`access.access_line`, on by default): the event loop only
makes the record and puts it on a queue (`configure`); a thread formats the lines and writes them
in batches (one write, and one wake-up of the thread, per `PAUSE_SECONDS` under load rather than
per line). The formatter builds the time's text once a second and encodes with one reused encoder.
A successful request's line, when it would reach that queue and nothing else, is queued as its
fields alone (`AccessLine`): no record is made for it, and the writer formats the same line.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import signal
import sys
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import IO, Any, ClassVar, Final, NamedTuple

from orgquota.api.auth import CURRENT_ORGANIZATION

ACCESS_LOGGER: Final = "orgquota.api.access"
access_log: Final = logging.getLogger(ACCESS_LOGGER)
_LOGGER: Final = json.dumps(ACCESS_LOGGER)
_RESERVED: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "organization_context",
}
_ENCODE: Final = json.JSONEncoder(default=str).encode
_STRING: Final = json.encoder.encode_basestring_ascii  # a str as _ENCODE writes it (ensure_ascii)


class AccessLine(NamedTuple):
    """A successful request's access line as the request's thread queues it: its fields, no LogRecord."""

    created: float
    """time.time() when it was logged"""
    method: str
    path: str
    status: int
    route: str
    ms: float
    organization: str
    role: str | None


class JsonFormatter(logging.Formatter):
    """A JSON object per line; a record's `fields` (a dict) are its extra keys, else any `extra=` attribute."""

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._time(record.created, record.msecs),
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

    def format_access(self, access: AccessLine) -> str:
        """The line `format` makes of the access line's record (`access.access_line`), put together
        from its pieces, each encoded as the encoder would (half the time of encoding a dict)."""
        stamp = self._time(access.created, int((access.created - int(access.created)) * 1000))
        head = f'{{"time": "{stamp}", "level": {_STRING(logging.getLevelName(logging.INFO))}, "logger": {_LOGGER}'
        message = _STRING(f"{access.method} {access.path} {access.status}")
        fields = f'"route": {_STRING(access.route)}, "status": {access.status:d}, "ms": {float.__repr__(access.ms)}'
        shown = f', "organization": {_STRING(access.organization)}' if access.organization else ""
        role = "null" if access.role is None else _STRING(access.role)
        return f'{head}, "message": {message}, {fields}{shown}, "role": {role}}}'

    def _time(self, created: float, msecs: float) -> str:
        """RFC 3339 in UTC with milliseconds; the seconds' text made once a second."""
        second, text = self._second
        if second != int(created):
            second = int(created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{int(msecs):03d}Z"


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


Records = queue.SimpleQueue[logging.LogRecord | AccessLine]


class Writer(logging.handlers.QueueListener):
    """Takes the queued records in batches: when the queue is empty, flushes what it wrote and
    pauses, rather than waking up and writing once per line."""

    def __init__(self, records: Records, handler: Unflushed, formatter: JsonFormatter, stream: IO[str]) -> None:
        super().__init__(records, handler)
        self.records, self.formatter, self.stream = records, formatter, stream

    def handle(self, record: logging.LogRecord | AccessLine) -> None:
        if isinstance(record, AccessLine):
            try:
                self.stream.write(self.formatter.format_access(record) + "\n")
            except Exception:  # as logging.Handler.handleError: the writer goes on
                if logging.raiseExceptions:
                    traceback.print_exc(file=sys.stderr)
            return
        super().handle(record)

    def dequeue(self, block: bool) -> logging.LogRecord | AccessLine:  # type: ignore[override]
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

    active: ClassVar[LogWriter | None] = None
    """the writer `configure` made last, until it stops"""

    def __init__(self, level: str, stream: IO[str] | None = None) -> None:
        self.stream = stream or _buffered_stderr()
        formatter = JsonFormatter()
        self.direct = logging.StreamHandler(self.stream)
        self.direct.setFormatter(formatter)
        batched = Unflushed(self.stream)
        batched.setFormatter(formatter)
        self.records: Records = queue.SimpleQueue()
        self.enqueued = Enqueued(self.records)
        self.enqueued.addFilter(WarningsPerSecond())  # on the emitting side: a flood is not even queued
        self.listener = Writer(self.records, batched, formatter, self.stream)
        root = logging.getLogger()
        root.handlers[:] = [self.enqueued]
        root.setLevel(level)
        self.listener.start()
        LogWriter.active = self

    def takes_access_lines(self) -> bool:
        """Whether an INFO line of the access logger would reach this writer's queue and nothing else,
        as `configure` set it up (no other handler, filter, or record factory on its way): then
        `access.access_line` may queue its fields alone."""
        if LogWriter.active is not self or access_log.disabled or access_log.filters:
            return False
        if logging.getLogRecordFactory() is not logging.LogRecord:
            return False
        handlers: list[logging.Handler] = []
        logger: logging.Logger | None = access_log
        while logger is not None:
            handlers += logger.handlers
            logger = logger.parent if logger.propagate else None
        enqueued = self.enqueued
        return (
            handlers == [enqueued]
            and enqueued.level <= logging.INFO
            and all(isinstance(each, WarningsPerSecond) for each in enqueued.filters)  # they pass INFO
        )

    def stop(self) -> None:
        if LogWriter.active is self:
            LogWriter.active = None
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
