"""Prometheus metrics of the billing API, and the ASGI middleware that counts (and logs) every request.

Requests are labelled by route template (`/api/billing/project/{namespace}/overview`), never
by the raw path, so label values stay few whatever callers send.
"""

from __future__ import annotations

import time
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgquota.api.access import access_line

REQUESTS: Final = Counter(
    "orgquota_http_requests", "Billing API requests by route template, method and status", ["route", "method", "status"]
)
LATENCY: Final = Histogram(
    "orgquota_http_request_seconds",
    "Billing API request latency by route template",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
WEBHOOK_EVENTS: Final = Counter(
    "orgquota_webhook_events",
    "Payment provider webhook events by provider, type and outcome",
    ["provider", "type", "outcome"],
)
UNMATCHED: Final = "unmatched"
MAX_CHILDREN: Final = 1024
"""label sets whose metrics `ObservedRequests` keeps at hand (route templates x methods x statuses: a few dozen)"""


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", []):
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return str(getattr(candidate, "path", UNMATCHED))
    return UNMATCHED


class ObservedRequests:
    """Counts, times and logs every HTTP request (pure ASGI: no per-request task or body copy)."""

    def __init__(self, app: ASGIApp, every_request: bool = True) -> None:
        self.app = app
        self.every_request = every_request
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def children(self, route: str, method: str, status: int) -> tuple[Counter, Histogram]:
        """The request counter and latency histogram of these labels, looked up once rather than per request
        (`labels` takes a lock and makes the label strings each time)."""
        key = (route, method, status)
        found = self._children.get(key)
        if found is None:
            if len(self._children) >= MAX_CHILDREN:
                self._children.clear()
            found = self._children[key] = (REQUESTS.labels(route, method, str(status)), LATENCY.labels(route))
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_template(scope)
            elapsed = time.perf_counter() - start
            requests, latency = self.children(route, scope["method"], status)
            requests.inc()
            latency.observe(elapsed)
            access_line(scope, route, status, elapsed, self.every_request)


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
