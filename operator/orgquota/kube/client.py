"""A thin JSON client over the official `kubernetes.aio` transport.

The official client brings kubeconfig and in-cluster auth, TLS and exec plugins; its typed
models do not help an operator that compares and patches plain manifests, so requests and
responses here are plain dicts, the same for core kinds and custom resources.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import aiohttp
from kubernetes.aio import client, config
from prometheus_client import Counter

from orgquota.kube.fence import Fenced, WriteFence

MERGE_PATCH: Final = "application/merge-patch+json"
RETRIES: Final = 5

Manifest = dict[str, Any]

WRITES: Final = Counter(
    "orgquota_api_writes", "Write requests the operator sent to the apiserver", ["verb", "resource"]
)
"""counted here, where every request passes, whichever part of the operator sends it"""
FENCED: Final = Counter(
    "orgquota_fenced_writes", "Writes refused because this replica did not hold the Lease", ["verb", "resource"]
)


class KubeError(Exception):
    """A failed API request, with the apiserver's own status and message."""

    def __init__(
        self, method: str, path: str, status: int, message: str, reason: str = "", retry_after: float = 1.0
    ) -> None:
        super().__init__(f"{method} {path}: {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API: `/apis/<group>/<version>/namespaces/<ns>/<plural>`."""

    group: str
    version: str
    plural: str

    def path(self, namespace: str, name: str = "", subresource: str = "") -> str:
        """The object's path; with no namespace, the collection across all namespaces."""
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        path = f"{base}/namespaces/{quote(namespace)}/{self.plural}" if namespace else f"{base}/{self.plural}"
        if name:
            path += "/" + quote(name)
        if subresource:
            path += "/" + subresource
        return path


HRQ: Final = Resource("hnc.x-k8s.io", "v1alpha2", "hierarchicalresourcequotas")
LIMIT_RANGE: Final = Resource("", "v1", "limitranges")
ORGANIZATION: Final = Resource("kube-dc.com", "v1", "organizations")
EVENT: Final = Resource("", "v1", "events")
CONFIGMAP: Final = Resource("", "v1", "configmaps")
NAMESPACE_PATH: Final = "/api/v1/namespaces"
EIP: Final = Resource("kube-dc.com", "v1", "eips")


class Kube:
    def __init__(self, api_client: client.ApiClient, fence: WriteFence | None = None) -> None:
        self._api = api_client
        self.fence = fence
        """writes only while it is open (a replica's leadership term); None: always"""

    @classmethod
    async def connect(
        cls, max_connections: int = 32, kubeconfig: str | None = None, fence: WriteFence | None = None
    ) -> Kube:
        """A client for `kubeconfig` ($KUBECONFIG / ~/.kube/config by default), or the in-cluster identity;
        with a `fence`, it sends writes only while the fence is open."""
        configuration = client.Configuration()
        try:
            await config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig, client_configuration=configuration
            )
        except config.ConfigException:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        configuration.connection_pool_maxsize = max_connections
        # trust_env makes aiohttp look up ~/.netrc and proxy variables in a thread for every request
        # (measured: 15-20% of the operator's CPU); the kubeconfig's own proxy-url still applies.
        configuration.client_session_kwargs = {"trust_env": False}
        if fence is not None:
            configuration.trace_configs = [_fence_after_waiting(fence)]
        return cls(client.ApiClient(configuration), fence)

    async def close(self) -> None:
        await self._api.close()  # type: ignore[no-untyped-call]

    async def request(
        self,
        method: str,
        path: str,
        body: Manifest | None = None,
        *,
        content_type: str = "application/json",
        query: dict[str, str] | None = None,
    ) -> Manifest:
        """One API request; 429 (with its Retry-After) and connection failures are retried a few times.
        A write is sent only through the fence (each attempt anew): a refused one raises `Fenced`."""
        for attempt in range(1, RETRIES + 1):
            try:
                with self._through_fence(method, path):
                    return await self._request_once(method, path, body, content_type=content_type, query=query)
            except Fenced:
                FENCED.labels(method, _resource_of(path)).inc()
                raise
            except KubeError as exc:
                if exc.status != 429 or attempt == RETRIES:
                    raise
                delay = exc.retry_after
            except aiohttp.ClientConnectionError:
                if attempt == RETRIES:
                    raise
                delay = 0.2 * 2**attempt
            await asyncio.sleep(delay)  # an apiserver's own back-off instruction
        raise AssertionError("unreachable")

    def _through_fence(self, method: str, path: str) -> AbstractContextManager[None]:
        """A write passes the fence, if there is one; reads always go."""
        if method == "GET" or self.fence is None:
            return nullcontext()
        return self.fence.writing(method, path)

    async def _request_once(
        self,
        method: str,
        path: str,
        body: Manifest | None,
        *,
        content_type: str,
        query: dict[str, str] | None,
    ) -> Manifest:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        method, url, headers, serialized, _ = await self._api.param_serialize(
            method,
            path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = await self._api.call_api(method, url, header_params=headers, body=serialized)
        if method != "GET":
            WRITES.labels(method, _resource_of(path)).inc()
        data: bytes = await response.read()  # type: ignore[no-untyped-call]
        try:
            payload: Manifest = json.loads(data) if data else {}
        except ValueError:  # e.g. "404 page not found" for an API group that is not installed
            payload = {"message": data.decode(errors="replace").strip()}
        if not 200 <= response.status < 300:
            retry_after = (payload.get("details") or {}).get("retryAfterSeconds") or response.headers.get("Retry-After")
            raise KubeError(
                method,
                path,
                response.status,
                payload.get("message", data.decode(errors="replace")),
                payload.get("reason", ""),
                float(retry_after) if str(retry_after or "").isdigit() else 1.0,
            )
        return payload

    async def pages(self, path: str, *, page_size: int = 500, **selectors: str) -> AsyncIterator[list[Manifest]]:
        """The items of a collection a page at a time, so that only one page of whole objects is ever
        in memory; `labelSelector=`/`fieldSelector=` filter it."""
        query = {"limit": str(page_size), **selectors}
        while True:
            page = await self.request("GET", path, query=query)
            yield page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return
            query = {"limit": str(page_size), **selectors, "continue": token}

    async def list(self, path: str, *, page_size: int = 500, **selectors: str) -> list[Manifest]:
        """Every item of a collection (see `pages`)."""
        return [item async for page in self.pages(path, page_size=page_size, **selectors) for item in page]

    async def watch(
        self, path: str, resource_version: str, *, timeout_seconds: int = 300, selectors: dict[str, str] | None = None
    ) -> AsyncIterator[Manifest]:
        """The watch events (`{"type", "object"}`) of a collection from `resource_version` on, until the
        apiserver ends the stream (after `timeout_seconds`) or it breaks; an `ERROR` event (410 Gone:
        the version is too old) is raised as a KubeError, as a failed request is."""
        query = {
            "watch": "1",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
            **(selectors or {}),
        }
        method, url, headers, _, _ = await self._api.param_serialize(
            "GET",
            path,
            query_params=list(query.items()),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        # No total timeout (a watch is long); a silent connection is given up after the server's own end.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=timeout_seconds + 30)
        response = (await self._api.call_api(method, url, header_params=headers, _request_timeout=timeout)).response
        try:
            if not 200 <= response.status < 300:
                text = (await response.read()).decode(errors="replace")
                try:
                    message = json.loads(text).get("message", text)
                except ValueError:
                    message = text.strip()
                raise KubeError("WATCH", path, response.status, message)
            buffer = b""
            async for chunk in response.content.iter_any():  # lines can exceed aiohttp's readline limit
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not line.strip():
                        continue
                    event: Manifest = json.loads(line)
                    if event.get("type") == "ERROR":
                        status = event.get("object") or {}
                        raise KubeError(
                            "WATCH",
                            path,
                            int(status.get("code") or 500),
                            status.get("message", ""),
                            status.get("reason", ""),
                        )
                    yield event
        finally:
            response.release()

    async def get(self, path: str) -> Manifest | None:
        """The object, or None if it does not exist."""
        try:
            return await self.request("GET", path)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    async def create(self, path: str, body: Manifest) -> Manifest:
        return await self.request("POST", path, body)

    async def replace(self, path: str, body: Manifest) -> Manifest:
        """PUT: with `metadata.resourceVersion`, an update only of that version (else 409 Conflict)."""
        return await self.request("PUT", path, body)

    async def merge_patch(self, path: str, body: Manifest) -> Manifest:
        return await self.request("PATCH", path, body, content_type=MERGE_PATCH)

    async def delete(self, path: str) -> bool:
        """Delete the object; False if it was already gone."""
        try:
            await self.request("DELETE", path)
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def _fence_after_waiting(fence: WriteFence) -> aiohttp.TraceConfig:
    """Asks the fence again when a write got its connection only after waiting for a free one: the
    wait may have outlasted the Lease (a busy pool, a paused process)."""
    trace = aiohttp.TraceConfig()

    async def started(_: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        ctx.method, ctx.path = params.method, params.url.path

    async def waited(_: aiohttp.ClientSession, ctx: Any, __: aiohttp.TraceConnectionQueuedEndParams) -> None:
        if ctx.method != "GET":
            fence.check(ctx.method, ctx.path)

    trace.on_request_start.append(started)
    trace.on_connection_queued_end.append(waited)
    return trace


def _resource_of(path: str) -> str:
    """`limitranges` of `/api/v1/namespaces/acme/limitranges/x`; the plural, for metrics."""
    parts = path.split("?")[0].strip("/").split("/")
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        rest = rest[2:]
    return rest[0] if rest else ""
