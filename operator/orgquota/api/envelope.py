"""The answer envelope: `{"success": true, "data": ...}`, and one error shape for every 4xx/5xx.

Errors name the problem in words a caller can act on; a stack trace, an HTML page or a bare
`{"detail": ...}` never leaves the API.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from orgquota.api import exact_json
from orgquota.core.timestamps import format_rfc3339

logger = logging.getLogger(__name__)

API_PREFIX: Final = "/api/billing"


class ApiError(Exception):
    """An answer other than success: status, message, details (and headers, e.g. WWW-Authenticate)."""

    def __init__(
        self,
        status: int,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        *,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or {}
        self.headers = headers
        self.code = code
        """a machine-readable reason a client acts on (`BUDGET_EXCEEDED`), at the top of the error"""


class JSONBody(JSONResponse):
    """JSON without spaces (smaller answers), non-ASCII kept as is, money exact (`exact_json`)."""

    def render(self, content: Any) -> bytes:
        return exact_json.dumps(content)


def ok(data: Any) -> JSONBody:
    return JSONBody({"success": True, "data": data})


def error_body(message: str, details: dict[str, Any] | None = None, code: str | None = None) -> dict[str, Any]:
    stamp = format_rfc3339(datetime.now(UTC), millis=True)
    body = {"success": False, "error": message, "details": details or {}, "timestamp": stamp}
    return body if code is None else {**body, "code": code}


def error_response(
    status: int,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
) -> JSONBody:
    return JSONBody(error_body(message, details, code), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[int, str, dict[str, Any]]:
    """400 for a body that is not JSON at all; 422 for JSON of the wrong shape, naming each field."""
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        first = next(error for error in errors if error.get("type") == "json_invalid")
        reason = (first.get("ctx") or {}).get("error", "")
        return 400, f"the request body is not valid JSON{': ' + str(reason) if reason else ''}", {}
    problems = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        problems.append({"field": where, "problem": str(error.get("msg", "invalid"))})
    message = "invalid request: " + "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return 422, message, {"problems": problems}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.details, exc.headers, exc.code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        status, message, details = _validation_message(exc)
        return error_response(status, message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        if status == 405 and request.url.path.startswith(API_PREFIX + "/"):
            # A method another provider mode would serve (POST /organization-subscription) is simply
            # not a route here: 404, as for any path that does not exist.
            status = 404
        if status == 404:
            return error_response(404, f"no such route: {request.method} {request.url.path}")
        if status == 405:
            return error_response(405, f"method {request.method} is not allowed on {request.url.path}")
        return error_response(status, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); the API's log has the details")
