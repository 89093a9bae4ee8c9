"""The billing page: `/env.js` written from the settings, and the built page's files at `/`.

Paths that are not files get `index.html` (the page routes on the client); paths under
`/api/` never do, so an unknown API route stays a JSON 404.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response

from orgquota.api.envelope import error_response
from orgquota.api.settings import ApiSettings


def env_js(settings: ApiSettings) -> str:
    """The page's runtime settings (names agreed with ui/src/env.ts)."""
    values = {
        "backendURL": "",  # the API serves the page: same origin
        "keycloakURL": settings.issuer_url,
        "keycloakClientId": settings.client_id,
    }
    return "".join(f"window.{name} = {json.dumps(value)};\n" for name, value in values.items())


def mount_page(app: FastAPI, settings: ApiSettings) -> None:
    script = env_js(settings)

    @app.get("/env.js", include_in_schema=False)
    async def env() -> Response:
        return Response(script, media_type="application/javascript", headers={"Cache-Control": "no-cache"})

    root = settings.page_dir
    if root is None:
        return
    root = root.resolve()
    index = root / "index.html"

    @app.get("/{path:path}", include_in_schema=False)
    async def page(path: str, request: Request) -> Response:
        if path == "api" or path.startswith("api/"):
            return error_response(404, f"no such route: {request.method} {request.url.path}")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        if not index.is_file():
            return error_response(404, f"the billing page is not built ({index} is missing)")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


def page_available(directory: Path | None) -> bool:
    return directory is not None and (directory / "index.html").is_file()
