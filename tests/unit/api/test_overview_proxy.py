"""Project overviews proxied from BILLING_API_URL: passed through, and 503 when it does not answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from localcluster.controlplane import free_ports
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.schema.envelope import Success
from orgquota.api.schema.projects import Overview
from orgquota.api.settings import ApiSettings
from tests.support.api_cluster import CATALOG_TEXT, cluster_objects
from tests.support.envelope import assert_error
from tests.support.oidc import Issuer, bearer


@pytest.fixture
def dashboard() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
            data = json.dumps({"namespace": self.path.split("/")[3], "cost": {"month": 12.5}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _client(issuer: Issuer, billing_api_url: str) -> TestClient:
    settings = ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url, "BILLING_API_URL": billing_api_url})
    cluster = Cluster(settings)
    for cache, objects in cluster_objects(settings).items():
        getattr(cluster, cache).replace(objects)
    cluster.catalog.live.replace(
        [{"metadata": {"namespace": "kube-dc", "name": "billing-plans"}, "data": {"plans.yaml": CATALOG_TEXT}}]
    )
    cluster.catalog.last_good.replace([])
    return TestClient(create_app(settings, cluster))


def test_overview_is_proxied(
    issuer: Issuer, dashboard: tuple[str, list[dict[str, Any]]], project_user: dict[str, str]
) -> None:
    url, seen = dashboard
    with _client(issuer, url) as client:
        response = client.get("/api/billing/project/acme-dev/overview", headers=project_user)
        assert response.json() == {"success": True, "data": {"namespace": "acme-dev", "cost": {"month": 12.5}}}
        Success[Overview].model_validate_json(response.content)  # what the document declares
        assert seen == [{"path": "/api/project/acme-dev/overview", "authorization": project_user["Authorization"]}]
        denied = client.get("/api/billing/project/acme-prod/overview", headers=project_user)
        assert_error(denied, 403, "access denied")
        claims = bearer(issuer.token(org="acme", namespaces=["beta-x", "no-such-namespace"]))
        for namespace in ("beta-x", "no-such-namespace"):  # claimed: another organization's, and nobody's
            assert_error(client.get(f"/api/billing/project/{namespace}/overview", headers=claims), 403)
        assert len(seen) == 1  # rights are checked before anything is asked of the billing service


def test_unreachable_billing_service_is_503(issuer: Issuer, project_user: dict[str, str]) -> None:
    (port,) = free_ports(1)
    with _client(issuer, f"http://127.0.0.1:{port}") as client:
        body = assert_error(client.get("/api/billing/project/acme-dev/overview", headers=project_user), 503)
        assert body["error"] == "Billing service unreachable"
        assert body["details"]["namespace"] == "acme-dev"
