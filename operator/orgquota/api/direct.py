"""The busiest reads answered without FastAPI's per-request machinery, by the same code.

For GET /organization-subscription FastAPI matched the path twice against every route before it
in the included routers (each match setting and restoring keys of the scope), solved the
dependencies (the token check and `Request`) and wrapped the call in two exit stacks and an
exception handler: about half the API's own CPU per request, none of it in the framework's bound.

A route qualifies when it is a GET of a fixed path whose endpoint is a coroutine taking the request
and one caller check (`authenticated` or `org_admin`, itself taking only the request) and returning
a `Response`: then all FastAPI does is call the check, then the endpoint, and send that response
as it is. `DirectRoutes`, first among the application's routes, does just that for those paths
(one dict lookup, GET only); anything else (another method, a trailing slash, a root path, a
path with parameters, dependency overrides) goes on to FastAPI's routing unchanged. An error is
raised as before, to the same exception handlers; the routes stay FastAPI's for the OpenAPI
document, their names and `url_path_for`.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from orgquota.api.auth import Caller, authenticated, org_admin

CALLER_CHECKS: Final[frozenset[Callable[[Request], Awaitable[Caller]]]] = frozenset({authenticated, org_admin})


@dataclass(frozen=True)
class DirectRoute:
    route: APIRoute
    check: Callable[[Request], Awaitable[Caller]]
    caller_param: str
    request_param: str


def direct_route(route: BaseRoute) -> DirectRoute | None:
    """How to call `route` directly, or None when FastAPI would do more than call its check and endpoint."""
    if not isinstance(route, APIRoute) or route.methods != {"GET"} or route.param_convertors:
        return None
    dependant = route.dependant
    if (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.request_param_name is None
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or len(dependant.dependencies) != 1
        or route.dependencies
        or not inspect.iscoroutinefunction(route.endpoint)
        or not _returns_response(route.endpoint)
    ):
        return None
    (check,) = dependant.dependencies
    if check.call not in CALLER_CHECKS or check.name is None or check.dependencies:
        return None
    return DirectRoute(route, check.call, check.name, dependant.request_param_name)


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    answer = typing.get_type_hints(endpoint).get("return")
    return isinstance(answer, type) and issubclass(answer, Response)


class DirectRoutes(BaseRoute):
    """The qualifying routes of `routes` by path (the first route of a path decides, as in FastAPI)."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        first: dict[str, DirectRoute | None] = {}
        for route in routes:
            if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
                first.setdefault(route.path, direct_route(route))
        self.paths: dict[str, DirectRoute] = {path: direct for path, direct in first.items() if direct is not None}
        self.include_in_schema = False

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            return Match.NONE, {}
        direct = self.paths.get(scope["path"])
        if direct is None or getattr(scope.get("app"), "dependency_overrides", None):
            return Match.NONE, {}
        return Match.FULL, {"endpoint": direct.route.endpoint, "path_params": {}, "route": direct.route}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = self.paths[scope["path"]]
        request = Request(scope, receive, send)
        caller = await direct.check(request)
        response: Response = await direct.route.endpoint(**{direct.caller_param: caller, direct.request_param: request})
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)
