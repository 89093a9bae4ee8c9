"""A real SMTP server on 127.0.0.1 that keeps every message in a Maildir: where the alert e-mails of
`make run` and of the tests arrive (docs/alerts.md).

aiosmtpd (PyPI, a dev dependency) run as our own child with its Mailbox handler; the Maildir is
read with the standard library's `mailbox`. Stopping it and starting it again on the same port is
how a test makes the mail server go down and come back.
"""

from __future__ import annotations

import email.policy
import mailbox
import shutil
import socket
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Final

from .binaries import log
from .controlplane import free_ports, log_tail
from .procs import spawn, stop_child, wait_started

START_TIMEOUT: Final = 30.0


class MailServerError(RuntimeError):
    """aiosmtpd did not start; the message carries its log's tail."""


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            return conn.recv(3) == b"220"
    except OSError:
        return False


class MailServer:
    """aiosmtpd on a free loopback port (or `port`); a context manager. `url` is SMTP_URL."""

    def __init__(self, workdir: Path | None = None, port: int = 0) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="mail-")) if workdir is None else workdir.resolve()
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def maildir(self) -> Path:
        return self.workdir / "maildir"

    @property
    def log_path(self) -> Path:
        return self.workdir / "smtp.log"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self) -> MailServer:
        """Start (again, on the same port once it had one) and wait until it greets."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            (self.port,) = free_ports(1)
        args = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}"]
        args += ["-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)]
        self._proc = spawn(args, self.log_path, detached=False)
        problem = wait_started(self._proc, lambda: _accepting(self.port), START_TIMEOUT)
        if problem is not None:
            tail = log_tail(self.log_path)
            self.stop()
            raise MailServerError(f"aiosmtpd {problem}; last log lines:\n{tail}")
        log(f"SMTP server ready at {self.url}, mail kept in {self.maildir}")
        return self

    def stop(self) -> None:
        """Stop the server (the mail received stays in the Maildir); idempotent."""
        if self._proc is not None:
            stop_child(self._proc)
            self._proc = None

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, in the order they were delivered."""
        if not self.maildir.is_dir():
            return []
        box = mailbox.Maildir(self.maildir, create=False)
        delivered = sorted((box.get_message(key).get_date(), key) for key in box.iterkeys())
        parsed = []
        for _, key in delivered:
            message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed
