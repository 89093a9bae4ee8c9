"""Sending alert e-mails over SMTP (`SMTP_*` settings) from the event loop (aiosmtplib).

A failure raises `MailNotSent`: the webhook answers 5xx and Alertmanager delivers again later, so
a mail server that is down loses nothing.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Final

import aiosmtplib

from orgquota.api.settings import SMTP_SCHEMES, ApiSettings

TIMEOUT_SECONDS: Final = 10.0


class MailNotSent(RuntimeError):
    """The SMTP server could not be reached or refused the message; the message says which."""


class Mailer:
    def __init__(self, settings: ApiSettings) -> None:
        url = settings.smtp_url
        assert url is not None
        assert url.host is not None
        self._host = url.host
        self._port = url.port or SMTP_SCHEMES[url.scheme]
        self._tls = url.scheme == "smtps"
        self._starttls = settings.smtp_starttls
        self._username = settings.smtp_username
        self._password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        self.sender = settings.smtp_from

    @property
    def address(self) -> str:
        return f"{self._host}:{self._port}"

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                use_tls=self._tls,
                start_tls=False if self._tls else self._starttls,
                username=self._username,
                password=self._password,
                timeout=TIMEOUT_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailNotSent(f"SMTP {self.address}: {type(exc).__name__}: {exc}"[:300]) from exc
