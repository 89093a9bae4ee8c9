"""The bench's view of the apiserver: `Kube` requests, raw GETs, and its request counts."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import aiohttp
from kubernetes.aio import client, config

from orgquota.kube.client import Kube

WRITE_VERBS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"})


class Api:
    """`orgquota.kube.client.Kube` for JSON requests, plus raw access (for /metrics and watch streams).

    `kube` is the very client class the operator uses; `watch_client` is a second connection
    pool, so that long-lived watches never take a connection from the request workers.
    """

    def __init__(self, kubeconfig: Path, max_connections: int) -> None:
        self.kubeconfig = kubeconfig
        self.max_connections = max_connections
        self.kube: Kube
        self._clients: list[Any] = []
        self._watch_client: Any = None

    async def _client(self, max_connections: int) -> Any:
        configuration = client.Configuration()
        await config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig), client_configuration=configuration
        )
        configuration.connection_pool_maxsize = max_connections
        api_client = client.ApiClient(configuration)
        self._clients.append(api_client)
        return api_client

    async def __aenter__(self) -> Api:
        self.kube = Kube(await self._client(self.max_connections))
        self._watch_client = await self._client(8)
        return self

    async def __aexit__(self, *_: object) -> None:
        for api_client in self._clients:
            await api_client.close()

    async def raw(self, path: str, query: Mapping[str, str] | None = None, *, stream: bool = False) -> Any:
        """GET `path`; the kubernetes.aio RESTResponse (`.response` is the aiohttp response)."""
        method, url, headers, _, _ = await self._watch_client.param_serialize(
            "GET",
            path,
            query_params=list((query or {}).items()),
            header_params={"Accept": "application/json, text/plain"},
            auth_settings=["BearerToken"],
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None) if stream else 60
        return await self._watch_client.call_api(method, url, header_params=headers, _request_timeout=timeout)

    async def request_counts(self) -> Counter[tuple[str, str, str, str]]:
        """`apiserver_request_total` summed by (verb, group, resource, subresource), from /metrics."""
        response = await self.raw("/metrics")
        text = (await response.read()).decode()
        if response.status != 200:
            raise RuntimeError(f"GET /metrics: {response.status}: {text[:200]}")
        counts: Counter[tuple[str, str, str, str]] = Counter()
        for line in text.splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            labels_text, _, value = line[len("apiserver_request_total{") :].rpartition("} ")
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels_text))
            key = (labels.get("verb", ""), labels.get("group", ""), labels.get("resource", ""))
            counts[(*key, labels.get("subresource", ""))] += int(float(value))
        return counts

    async def server_version(self) -> str:
        response = await self.raw("/version")
        return str(json.loads(await response.read()).get("gitVersion", "?"))


def request_diff(
    before: Counter[tuple[str, str, str, str]], after: Counter[tuple[str, str, str, str]]
) -> Counter[tuple[str, str, str, str]]:
    diff = Counter(after)
    diff.subtract(before)
    return Counter({key: count for key, count in diff.items() if count > 0})


def writes_summary(diff: Counter[tuple[str, str, str, str]], bench: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Requests served, by `VERB resource[/subresource]`.

    `operator` is every write except the bench's own (`bench`, e.g. its ConfigMap edit) and the
    apiserver's own lease renewals: nothing else writes to this control plane while the bench waits.
    """
    writes = {
        f"{verb} {resource}{'/' + sub if sub else ''}": count
        for (verb, _group, resource, sub), count in sorted(diff.items())
        if verb in WRITE_VERBS
    }
    internal = sum(
        count for (verb, _g, resource, _s), count in diff.items() if verb in WRITE_VERBS and resource == "leases"
    )
    own = sum((bench or {}).values())
    operator = sum(writes.values()) - internal - own
    reads = sum(count for (verb, *_), count in diff.items() if verb in ("GET", "LIST"))
    reads_by_request = {
        f"{verb} {resource or '(non-resource)'}{'/' + sub if sub else ''}": count
        for (verb, _group, resource, sub), count in sorted(diff.items())
        if verb in ("GET", "LIST", "WATCH")
    }
    return {
        "operator": operator,
        "all": sum(writes.values()),
        "bench_own": dict(bench or {}),
        "by_request": writes,
        "reads": reads,
        "reads_by_request": reads_by_request,
    }
