"""The billing API application: routes, auth, errors, metrics, logs and the page, assembled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from orgquota.api import project_caps, routes
from orgquota.api.answers import AnswerCache
from orgquota.api.auth import TokenVerifier
from orgquota.api.cluster import Cluster
from orgquota.api.direct import DirectRoutes
from orgquota.api.docs_page import mount_docs
from orgquota.api.envelope import API_PREFIX, JSONBody, error_response, install_error_handlers, ok
from orgquota.api.frozen_memory import freeze_once_listed
from orgquota.api.guard import RequestGuard
from orgquota.api.history import routes as history
from orgquota.api.history.daily_maxima import DailyMaxima
from orgquota.api.history.prometheus import Prometheus
from orgquota.api.keys import KeySet
from orgquota.api.live import routes as live
from orgquota.api.live.snapshot import Snapshots
from orgquota.api.metrics import ObservedRequests, metrics_endpoint
from orgquota.api.notifications import routes as notification_settings
from orgquota.api.notifications import webhook as alerts_webhook
from orgquota.api.notifications.mailer import Mailer
from orgquota.api.page import mount_page
from orgquota.api.providers.interface import ProviderContext, create_provider
from orgquota.api.schema.envelope import ERROR_RESPONSES
from orgquota.api.settings import ApiSettings

logger = logging.getLogger(__name__)

NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
"""FastAPI's own OpenTelemetry hooks, off: the API has its Prometheus metrics and JSON logs, sets no
OpenTelemetry provider, and the hooks' checks cost about 15 µs of CPU a request (a tenth of a read)"""


def create_app(settings: ApiSettings, cluster: Cluster, keys: KeySet | None = None, *, watch: bool = False) -> FastAPI:
    """The application over `cluster`; with `watch`, its informers run for the app's lifetime."""
    keys = keys or KeySet(settings.issuer_url, str(settings.jwks_url) if settings.jwks_url else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.http = aiohttp.ClientSession(trust_env=True)
        app.state.history_http = aiohttp.ClientSession()  # its proxy is found once, not per query
        if settings.prometheus_url is not None:
            app.state.prometheus = Prometheus(str(settings.prometheus_url), app.state.history_http)
            app.state.daily_maxima = DailyMaxima(app.state.prometheus)
        informers = None
        if watch:
            freeze_once_listed(cluster.caches)
            informers = asyncio.create_task(cluster.run(), name="informers")
        fetch = asyncio.create_task(keys.refresh(), name="first key fetch")
        try:
            yield
        finally:
            fetch.cancel()
            if informers is not None:
                informers.cancel()
                await asyncio.gather(informers, return_exceptions=True)
            await app.state.http.close()
            await app.state.history_http.close()

    app = FastAPI(
        title="orgquota billing API",
        version="1",
        description="Plans, add-ons, an organization's subscription and quota usage (Bearer JWT from the OIDC issuer).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # mount_docs: Swagger UI from a pinned package, not FastAPI's CDN
        redoc_url=None,
        lifespan=lifespan,
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.settings = settings
    app.state.cluster = cluster
    app.state.answers = AnswerCache()
    app.state.verifier = TokenVerifier(keys, settings.issuer_url, settings.audience)
    install_error_handlers(app)
    app.include_router(routes.router)
    app.include_router(history.router)
    app.include_router(project_caps.router)
    app.include_router(notification_settings.router)
    app.state.streams = live.StreamCount(settings.max_streams)
    app.state.snapshots = Snapshots(cluster, settings.quota, app.state.answers)
    app.include_router(live.router)
    if settings.notifications:  # SPEC §10: without SMTP_URL, Alertmanager's receiver does not exist
        app.state.mailer = Mailer(settings)
        app.include_router(alerts_webhook.router)
    app.state.provider = create_provider(ProviderContext(settings, cluster))
    for provider_routes in app.state.provider.routers():
        app.include_router(provider_routes, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    declare_bearer_auth(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONBody:
        """Liveness: the process serves requests (no token: for the kubelet)."""
        return ok({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONBody:
        """Readiness: every informer is current and a plan catalog is in force (no token: for the kubelet).

        Names only: the reasons (apiserver errors, a catalog's parse error) are in the log, not for anyone who asks."""
        problems = [cache.name for cache in cluster.caches if not cache.healthy]
        if not cluster.catalog.loaded:
            problems.append("catalog")
        if problems:
            return error_response(503, "not ready", {"problems": problems})
        return ok({"status": "ready"})

    mount_docs(app)
    mount_page(app, settings)
    app.router.routes.insert(0, DirectRoutes(routes.router.routes))  # the busiest reads: api/direct.py
    app.add_middleware(RequestGuard, verifier=app.state.verifier)
    app.add_middleware(ObservedRequests, every_request=settings.access_log == "all")
    return app


def declare_bearer_auth(app: FastAPI) -> None:
    """The OpenAPI document says every /api/billing route takes a bearer JWT (so /docs can send one).

    Declared in the document only: the check itself is the routes' token dependency, and a FastAPI
    security dependency would cost a dependency level on every request.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["bearer"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            for path, operations in schema.get("paths", {}).items():
                if path in (f"{API_PREFIX}/webhook", f"{API_PREFIX}/alerts"):
                    continue  # signed by the provider, or Alertmanager's shared secret: not a user's token
                for operation in operations.values():
                    operation.setdefault("security", [{"bearer": []}])
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
