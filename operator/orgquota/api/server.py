"""`orgquota api`: the billing API in the foreground, on uvicorn."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from orgquota.api import logs
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.kube.client import Kube

logger = logging.getLogger(__name__)


async def serve(settings: ApiSettings, host: str, port: int) -> None:
    kube = await Kube.connect(max_connections=16)
    cluster = Cluster(settings, kube)
    app = create_app(settings, cluster, watch=True)
    config = uvicorn.Config(
        app, host=host, port=port, loop="none", http="httptools", log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
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
    logs.configure(settings.log_level)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; a platform without it still runs
        asyncio.run(serve(settings, host, port))
    else:
        uvloop.run(serve(settings, host, port))
