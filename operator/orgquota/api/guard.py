"""The door of the API: what a request must be before any route reads it.

A body is bounded before it is read (its declared length first; a chunked one counted while it
is read), a body sent to `/api/billing` without a valid token is refused before a byte of it is
read, and a path that does not decode to text (`/%00`, `/%ff`) is refused before any route sees it.
The webhook keeps its own cap (`providers.webhook.capped_body`) and its own proof (a signature).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgquota.api.auth import TokenVerifier
from orgquota.api.envelope import API_PREFIX, ApiError, error_response

MAX_JSON_BODY_BYTES: Final = 8 * 1024
"""the largest body of a JSON route: the largest today (a checkout with its add-ons) is a few hundred bytes"""
WEBHOOK_PATH: Final = f"{API_PREFIX}/webhook"
_CONTROL: Final = frozenset(chr(code) for code in (*range(0x20), 0x7F))


class RequestGuard:
    """Refuses what no route should read, before it is read (pure ASGI: nothing is buffered)."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, max_body_bytes: int = MAX_JSON_BODY_BYTES) -> None:
        self.app = app
        self.verifier = verifier
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not _decodable(scope):
            await error_response(400, "the request path is not UTF-8 text without control characters")(
                scope, receive, send
            )
            return
        declared, chunked = _body_headers(scope)
        if ((declared is None or declared == 0) and not chunked) or path == WEBHOOK_PATH:
            await self.app(scope, receive, send)
            return
        if declared is not None and declared < 0:
            await error_response(400, "the Content-Length header is not a number")(scope, receive, send)
            return
        if path.startswith(API_PREFIX + "/"):
            try:
                await self.verifier.caller(_header(scope, b"authorization"))
            except ApiError as refused:  # the route checks the token again (remembered: no second verify)
                answer = error_response(refused.status, refused.message, refused.details, refused.headers)
                await answer(scope, receive, send)
                return
        if declared is not None and declared > self.max_body_bytes:
            answer = error_response(413, f"the request body is larger than {self.max_body_bytes} bytes")
            await answer(scope, receive, send)
            return
        await self.app(scope, _bounded(receive, self.max_body_bytes), send)


def _decodable(scope: Scope) -> bool:
    """Whether the path, percent-decoded, is UTF-8 without control characters (uvicorn replaces
    invalid bytes with U+FFFD: the raw path tells)."""
    raw: bytes = scope.get("raw_path") or b""
    if b"%" in raw:
        try:
            unquote_to_bytes(raw.partition(b"?")[0]).decode()
        except UnicodeDecodeError:
            return False
    return _CONTROL.isdisjoint(scope["path"])


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _body_headers(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length (-1: not a number) and whether the body is chunked."""
    length = _header(scope, b"content-length")
    encoding = _header(scope, b"transfer-encoding") or ""
    declared = None if length is None else int(length) if length.strip().isdigit() else -1
    return declared, "chunked" in encoding.lower()


def _bounded(receive: Receive, limit: int) -> Receive:
    """`receive` that stops once more than `limit` body bytes came (the route answers 413)."""
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"the request body is larger than {limit} bytes")
        return message

    return bounded
