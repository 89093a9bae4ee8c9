"""`orgquota api`: the billing API in the foreground, on uvicorn."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import uvicorn
from starlette.types import ASGIApp

from orgquota.api import logs
from orgquota.api.app import create_app
from orgquota.api.bounded_http import BoundedHttpToolsProtocol
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.kube.client import Kube

logger = logging.getLogger(__name__)


MAX_CONNECTIONS: Final = 1000
"""connections and requests at once besides event streams; past it uvicorn answers 503"""
KEEP_ALIVE_SECONDS: Final = 15
"""an idle connection between requests is closed after this (the ingress keeps its own pool)"""
GRACEFUL_SHUTDOWN_SECONDS: Final = 20
"""on SIGTERM, requests (and event streams) in flight get this long, within the pod's grace period"""


def server_config(app: ASGIApp, host: str, port: int, streams: int = 0) -> uvicorn.Config:
    """uvicorn with every bound: head size and deadline (`BoundedHttpToolsProtocol`), connections, idle.

    `streams` (API_MAX_STREAMS) more connections are allowed, so open event streams never take the
    requests' places; a stream is exempt from the idle bounds (the head deadline ends with its head,
    keep-alive counts only between requests) and has a heartbeat every 15 s for the proxies'."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="none",
        http=BoundedHttpToolsProtocol,
        limit_concurrency=MAX_CONNECTIONS + streams,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


async def serve(settings: ApiSettings, host: str, port: int) -> None:
    kube = await Kube.connect(max_connections=16)
    cluster = Cluster(settings, kube)
    app = create_app(settings, cluster, watch=True)
    server = uvicorn.Server(server_config(app, host, port, settings.max_streams))
    logger.info(
        "billing API on http://%s:%d (provider %s, issuer %s, catalog %s/%s)",
        host,
        port,
        settings.provider,
        settings.issuer_url,
        settings.catalog_namespace,
        settings.catalog_name,
    )
    try:
        await server.serve()
    finally:
        await kube.close()


def run(host: str, port: int) -> None:
    settings = ApiSettings.from_env()  # fail fast on a bad setting, before connecting anywhere
    writer = logs.configure(settings.log_level)
    writer.stop_at_signals()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; a platform without it still runs
        asyncio.run(serve(settings, host, port))
    else:
        uvloop.run(serve(settings, host, port))
    finally:
        writer.stop()
