"""Tokens from Keycloak by the password grant: how tests and scripts log in as a demo user, no browser."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Final

_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TokenError(RuntimeError):
    """The token endpoint refused; `status` is its HTTP status, `error` its OAuth error code."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"token endpoint answered {status}: {error} ({description})")
        self.status = status
        self.error = error


def token_endpoint(issuer: str) -> str:
    """Keycloak's token endpoint for the realm whose issuer URL is `issuer`."""
    return f"{issuer.rstrip('/')}/protocol/openid-connect/token"


def token_response(issuer: str, client_id: str, username: str, password: str, timeout: float = 10.0) -> dict[str, Any]:
    """The whole token response (access_token, expires_in, refresh_token…) of a password grant."""
    body = urllib.parse.urlencode(
        {"grant_type": "password", "client_id": client_id, "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(token_endpoint(issuer), data=body, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
            return answer
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            detail = json.loads(raw)
        except ValueError:
            detail = {"error": "unknown", "error_description": raw.decode(errors="replace")[:500]}
        raise TokenError(exc.code, str(detail.get("error")), str(detail.get("error_description"))) from None


def password_token(issuer: str, client_id: str, username: str, password: str) -> str:
    """An access token for `username` (the client must allow direct access grants); TokenError if refused."""
    return str(token_response(issuer, client_id, username, password)["access_token"])
