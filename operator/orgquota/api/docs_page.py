"""`/api/billing/docs`: Swagger UI from a pinned package's files, served by the API (never a CDN).

FastAPI's own docs page loads Swagger UI from a CDN at whatever version it serves that day; here
the files are those of `swagger-ui-bundle-v2` (pinned with hashes in requirements.lock).
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from orgquota.api.envelope import API_PREFIX

DOCS_PATH: Final = f"{API_PREFIX}/docs"
ASSETS: Final = f"{DOCS_PATH}/assets"


def mount_docs(app: FastAPI) -> None:
    """The docs page and its files (before the page's catch-all route, which would answer them)."""
    openapi_url = str(app.openapi_url)

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - docs",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
