"""The page: /env.js from the settings, files, the index fallback, and JSON 404s under /api."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings


def built_page(tmp_path: Path) -> ApiSettings:
    """Settings serving a built page of an index and one asset from `tmp_path`."""
    (tmp_path / "index.html").write_text("<html>billing</html>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    settings = ApiSettings.from_env(
        {"OIDC_ISSUER_URL": "https://login.example.com/realms/kube-dc", "ORGQUOTA_UI_DIR": str(tmp_path)}
    )
    return settings


def test_env_js_and_static_files(tmp_path: Path) -> None:
    settings = built_page(tmp_path)
    with TestClient(create_app(settings, Cluster(settings))) as client:
        env = client.get("/env.js")
        assert env.headers["content-type"].startswith("application/javascript")
        assert env.text == (
            'window.backendURL = "";\n'
            'window.keycloakURL = "https://login.example.com/realms/kube-dc";\n'
            'window.keycloakClientId = "kube-dc";\n'
        )
        assert client.get("/").text == "<html>billing</html>"
        assert client.get("/billing/plans").text == "<html>billing</html>"  # a client route
        assert client.get("/assets/app.js").text == "console.log(1)"
        assert client.get("/../../etc/passwd").text == "<html>billing</html>"
        missing = client.get("/api/nothing")
        assert missing.status_code == 404
        assert missing.json()["error"] == "no such route: GET /api/nothing"
        assert client.get("/api/billing/nothing").json()["success"] is False


def test_without_a_built_page_only_env_js(tmp_path: Path) -> None:
    settings = ApiSettings.from_env({"OIDC_ISSUER_URL": "https://x.example", "ORGQUOTA_UI_DIR": str(tmp_path / "no")})
    with TestClient(create_app(settings, Cluster(settings))) as client:
        assert client.get("/env.js").status_code == 200
        assert client.get("/").status_code == 404


def test_the_page_says_what_it_may_load_and_who_may_frame_it(tmp_path: Path) -> None:
    settings = built_page(tmp_path)
    with TestClient(create_app(settings, Cluster(settings))) as client:
        for path in ("/", "/env.js", "/assets/app.js", "/billing/plans"):
            headers = client.get(path).headers
            policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
            assert policy["script-src"] == "'self'", path
            assert policy["connect-src"] == "'self' https://login.example.com"
            assert policy["frame-ancestors"] == "'none'"
            assert policy["default-src"] == "'none'"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
