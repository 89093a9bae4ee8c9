"""The busiest reads, answered by `DirectRoutes`, answer exactly what FastAPI's routing answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Any

import fastapi.routing
import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.auth import AnyCaller, OrgAdmin, authenticated
from orgquota.api.cluster import Cluster
from orgquota.api.direct import DirectRoutes, direct_route
from orgquota.api.envelope import JSONBody, ok
from orgquota.api.settings import ApiSettings
from tests.support.oidc import Issuer, bearer

API = "/api/billing"
DIRECT = [
    f"{API}/{name}"
    for name in (
        "config",
        "health",
        "plans",
        "addons",
        "organization-subscription",
        "quota-usage",
        "quota-status",
        "projects",
    )
]


@pytest.fixture
def routed(settings: ApiSettings, cluster: Cluster, issuer: Issuer) -> Iterator[TestClient]:
    """The same application without `DirectRoutes`: every request through FastAPI's routing."""
    app = create_app(settings, cluster)
    assert isinstance(app.router.routes[0], DirectRoutes)
    del app.router.routes[0]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_the_direct_paths(client: TestClient) -> None:
    direct = client.app.router.routes[0]  # type: ignore[attr-defined]
    assert isinstance(direct, DirectRoutes)
    assert list(direct.paths) == DIRECT
    assert {path: d.route.name for path, d in direct.paths.items()}[f"{API}/organization-subscription"] == (
        "organization_subscription"
    )


def _callers(issuer: Issuer) -> dict[str, dict[str, str]]:
    past = int(time.time()) - 3600
    return {
        "admin": bearer(issuer.token(org="acme", groups=["org-admin"])),
        "other tenant's admin": bearer(issuer.token(org="beta", groups=["org-admin"])),
        "project user": bearer(issuer.token(org="acme", groups=["user"], namespaces=["acme-dev"])),
        "guest": bearer(issuer.token(groups=[])),
        "no token": {},
        "not bearer": {"Authorization": "Basic abc"},
        "expired": bearer(issuer.token(org="acme", groups=["org-admin"], iat=past - 60, exp=past)),
        "bad signature": bearer(issuer.token(org="acme", groups=["org-admin"])[:-4] + "AAAA"),
    }


def _comparable(response: Any) -> tuple[int, dict[str, str], Any]:
    body = response.json()
    body.pop("timestamp", None)
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "date")}
    return response.status_code, headers, body


@pytest.mark.parametrize("path", DIRECT)
def test_same_answers_as_fastapi_routing(client: TestClient, routed: TestClient, issuer: Issuer, path: str) -> None:
    for who, headers in _callers(issuer).items():
        direct, through_fastapi = client.get(path, headers=headers), routed.get(path, headers=headers)
        assert _comparable(direct) == _comparable(through_fastapi), (who, direct.text, through_fastapi.text)


def test_an_organization_route_answers_its_own_organization_only(client: TestClient, issuer: Issuer) -> None:
    path = f"{API}/organization-subscription"
    acme = client.get(path, headers=bearer(issuer.token(org="acme", groups=["org-admin"]))).json()
    beta = client.get(path, headers=bearer(issuer.token(org="beta", groups=["org-admin"]))).json()
    assert acme["data"]["organization"] == "acme"
    assert beta["data"]["organization"] == "beta"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", f"{API}/quota-usage"), ("HEAD", f"{API}/plans"), ("GET", f"{API}/plans/"), ("GET", f"{API}/plans?x=1")],
)
def test_other_requests_answer_as_before(
    client: TestClient, routed: TestClient, admin: dict[str, str], method: str, path: str
) -> None:
    direct, through_fastapi = client.request(method, path, headers=admin), routed.request(method, path, headers=admin)
    assert direct.status_code == through_fastapi.status_code
    if method != "HEAD":
        assert _comparable(direct) == _comparable(through_fastapi)


def test_direct_requests_skip_fastapi_dependency_solving(
    client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def solving(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("solved by FastAPI")

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", solving)
    assert client.get(f"{API}/organization-subscription", headers=admin).status_code == 200
    assert client.get(f"{API}/project/acme-dev/overview", headers=admin).status_code == 500  # not direct


def test_dependency_overrides_are_honoured(client: TestClient) -> None:
    from orgquota.api.auth import Caller, org_admin

    client.app.dependency_overrides[org_admin] = lambda: Caller("test", "acme", (), ("org-admin",))  # type: ignore[attr-defined]
    assert client.get(f"{API}/quota-status").status_code == 200


def test_metrics_label_a_direct_request_by_its_route(client: TestClient, admin: dict[str, str]) -> None:
    client.get(f"{API}/quota-status", headers=admin)
    assert 'orgquota_http_requests_total{method="GET",route="/api/billing/quota-status",status="200"}' in (
        client.get("/metrics").text
    )


def _route(router: APIRouter) -> Any:
    (route,) = router.routes
    return route


def test_what_does_not_qualify() -> None:
    """Anything FastAPI would do more for than call the check and the endpoint: FastAPI's routing."""

    async def plain(caller: AnyCaller, request: Request) -> JSONBody:
        return ok(None)

    async def with_query(caller: AnyCaller, request: Request, page: int = 1) -> JSONBody:
        return ok(page)

    async def two_checks(caller: AnyCaller, admin: OrgAdmin, request: Request) -> JSONBody:
        return ok(None)

    async def own_check(caller: Annotated[str, Depends(lambda: "x")], request: Request) -> JSONBody:
        return ok(None)

    async def returns_data(caller: AnyCaller, request: Request) -> dict[str, Any]:
        return {}

    def not_a_coroutine(caller: AnyCaller, request: Request) -> JSONBody:
        return ok(None)

    async def with_path(name: str, caller: AnyCaller, request: Request) -> JSONBody:
        return ok(name)

    def routed(endpoint: Any, path: str = "/x", **options: Any) -> Any:
        router = APIRouter()
        router.add_api_route(path, endpoint, methods=options.pop("methods", ["GET"]), **options)
        return _route(router)

    assert direct_route(routed(plain)) is not None
    assert direct_route(routed(plain, methods=["POST"])) is None
    assert direct_route(routed(plain, dependencies=[Depends(authenticated)])) is None
    assert direct_route(routed(with_path, "/x/{name}")) is None
    for endpoint in (with_query, two_checks, own_check, returns_data, not_a_coroutine):
        assert direct_route(routed(endpoint)) is None, endpoint.__name__
