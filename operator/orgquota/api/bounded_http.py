"""uvicorn's httptools protocol with the bounds it lacks: request-line and header size, and a deadline
for a request's head.

httptools (uvicorn's fastest parser) buffers a request's URL and headers whole and waits for them
forever: one half-sent request with 32 MB of headers held 32 MB. h11 has a size bound but no
deadline, answers 400 rather than 431/414, and is a pure-Python parser (docs/performance.md), so
the bounds are added here, where the bytes arrive, before the parser keeps them.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from orgquota.api.envelope import error_body

MAX_URL_BYTES: Final = 8 * 1024
MAX_HEAD_BYTES: Final = 32 * 1024
"""request line and headers together"""
HEAD_TIMEOUT_SECONDS: Final = 10.0
"""from a connection (or the previous answer) to the end of a request's headers"""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 414 past `MAX_URL_BYTES` of URL, 431 past `MAX_HEAD_BYTES` of head, 408 past the deadline."""

    head_timeout: float = HEAD_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes: int | None = 0
        """bytes of the head being read; None: reading a body or answering"""
        self._head_deadline: asyncio.TimerHandle | None = None
        self._refusal: tuple[HTTPStatus, str] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"the request's headers exceed {MAX_HEAD_BYTES} bytes"
                )
                return
        super().data_received(data)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            # the parser stops on a callback's exception and uvicorn answers it with send_400_response
            self._refusal = (HTTPStatus.REQUEST_URI_TOO_LONG, f"the URL is longer than {MAX_URL_BYTES} bytes")
            raise ValueError(self._refusal[1])

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._refuse(*self._refusal)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_bytes is None:  # a pipelined or keep-alive request: a new head, a new deadline
            self._head_bytes = 0
            self._arm_deadline()

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        self._disarm_deadline()
        super().on_headers_complete()

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._too_slow)

    def _disarm_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if self._head_bytes is not None and not self.transport.is_closing():
            self._refuse(HTTPStatus.REQUEST_TIMEOUT, f"the request's headers took over {self.head_timeout:g} s")

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        """The answer and the end of the connection (the parser's state is not worth resuming)."""
        self._disarm_deadline()
        self._head_bytes = None
        body = json.dumps(error_body(message), separators=(",", ":")).encode()
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()
