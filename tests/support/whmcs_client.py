"""A WHMCS module's calls without PHP: signed exactly as the module signs them.

The module sends `POST <api>/api/billing/webhook` with the JSON body of the call and two headers:
`X-KubeDC-Timestamp: <Unix seconds>` and `X-KubeDC-Signature: sha256=<hex>`, the hex being
HMAC-SHA256 under the shared secret of `<timestamp>.<body>` (PHP: `hash_hmac('sha256', $ts . '.'
. $body, $secret)`). Deliberately written apart from the API's own code, so each checks the other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WEBHOOK_PATH = "/api/billing/webhook"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-KubeDC-Signature` value."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def call_body(
    action: str,
    organization: str,
    plan_id: str = "pro-pool",
    service_id: int = 42,
    client_id: int = 7,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": action,
        "organization": organization,
        "planId": plan_id,
        "serviceId": service_id,
        "clientId": client_id,
    }
    if options is not None:
        body["configurableOptions"] = options
    return body


@dataclass(frozen=True)
class Signed:
    """One request as it goes on the wire (send it as often as you like: that is a replay)."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    json: dict[str, Any]


Transport = Callable[[str, "Signed"], Answer]
"""How a request reaches the API (path, request) -> answer; HTTP by default."""


@dataclass(frozen=True)
class WhmcsModule:
    """The module's side: `api_url` is the billing API's base (`http://host:port`)."""

    api_url: str
    secret: str
    transport: Transport | None = None

    def signed(self, payload: dict[str, Any] | bytes, timestamp: int | None = None) -> Signed:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/json",
            "X-KubeDC-Timestamp": stamp,
            "X-KubeDC-Signature": sign(self.secret, stamp, body),
        }
        return Signed(body, headers)

    def send(self, request: Signed) -> Answer:
        if self.transport is not None:
            return self.transport(WEBHOOK_PATH, request)
        http = urllib.request.Request(self.api_url + WEBHOOK_PATH, request.body, request.headers, method="POST")
        try:
            with urllib.request.urlopen(http, timeout=30) as response:
                return Answer(response.status, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            return Answer(error.code, json.loads(error.read()))

    def call(self, action: str, organization: str, timestamp: int | None = None, **fields: Any) -> Answer:
        return self.send(self.signed(call_body(action, organization, **fields), timestamp))
