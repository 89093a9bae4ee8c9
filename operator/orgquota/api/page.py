"""The billing page: `/env.js` written from the settings, and the built page's files at `/`.

Paths that are not files get `index.html` (the page routes on the client); paths under
`/api/` never do, so an unknown API route stays a JSON 404.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

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


def security_headers(settings: ApiSettings) -> dict[str, str]:
    """What the page may load, and who may frame it: its own files, and the OIDC issuer for sign-in.

    Scripts only from the API's own origin (no inline script: /env.js is a file); fetches to itself
    and to the issuer (discovery, tokens); the issuer in a frame (silent token renewal). Styles
    allow 'unsafe-inline' for the style attributes the charts and PatternFly's popups write.
    """
    issuer = urlsplit(settings.issuer_url)
    origin = f"{issuer.scheme}://{issuer.netloc}"
    policy = {
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "font-src": "'self' data:",
        "connect-src": f"'self' {origin}",
        "frame-src": origin,
        "form-action": f"'self' {origin}",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
    }
    return {
        "Content-Security-Policy": "; ".join(f"{name} {value}" for name, value in policy.items()),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


def mount_page(app: FastAPI, settings: ApiSettings) -> None:
    script = env_js(settings)
    secure = security_headers(settings)
    fresh = {**secure, "Cache-Control": "no-cache"}

    @app.get("/env.js", include_in_schema=False)
    async def env() -> Response:
        return Response(script, media_type="application/javascript", headers=fresh)

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
            return FileResponse(candidate, headers={**secure, "Cache-Control": cache})
        if not index.is_file():
            return error_response(404, f"the billing page is not built ({index} is missing)")
        return FileResponse(index, headers=fresh)


def page_available(directory: Path | None) -> bool:
    return directory is not None and (directory / "index.html").is_file()
