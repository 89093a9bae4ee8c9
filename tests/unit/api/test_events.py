"""GET /events: what each role's stream carries, only what changed after the first snapshot, a full
snapshot after a re-list, nothing from a memory that is not current, the end at the token's expiry,
and the bound on streams (the stream's loop driven directly; the route on a real socket)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from orgquota.api.answers import AnswerCache
from orgquota.api.app import create_app
from orgquota.api.auth import Caller
from orgquota.api.cluster import Cluster
from orgquota.api.live.routes import follow
from orgquota.api.live.snapshot import Snapshots
from orgquota.api.schema.live import LiveEvents
from orgquota.api.settings import ApiSettings
from tests.support.api_cluster import in_memory_cluster
from tests.support.catalog import WORKED_EXAMPLE
from tests.support.oidc import Issuer
from tests.unit.api.live import exchange, serving

ADMIN = Caller("ann", "acme", (), ("org-admin",))
PROJECT_USER = Caller("pat", "acme", ("acme-dev",), ())
GUEST = Caller("gus", "", (), ())
QUIET = 0.3
"""how long a stream must stay silent to count as having sent everything"""

Events = dict[str, Any]


class Stream:
    """A stream's events as they come, read by a task of its own (so a wait never closes the stream)."""

    def __init__(self, events: AsyncIterator[Any]) -> None:
        self.queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()
        self.task = asyncio.create_task(self._read(events))

    async def _read(self, events: AsyncIterator[Any]) -> None:
        async for event in events:
            await self.queue.put((event.event, json.loads(event.data)))
        await self.queue.put(None)

    async def burst(self, wait: float = 5.0) -> Events:
        """The events sent next (waiting up to `wait` for the first), by name; {} if none came."""
        found: Events = {}
        timeout = wait
        while True:
            try:
                item = await asyncio.wait_for(self.queue.get(), timeout)
            except TimeoutError:
                return found
            if item is None:
                found["<end>"] = True
                return found
            found[item[0]] = item[1]
            timeout = QUIET


def run(settings: ApiSettings, caller: Caller, scenario: Callable[[Stream, Cluster], Awaitable[None]]) -> None:
    async def main() -> None:
        cluster = in_memory_cluster(settings)
        stream = Stream(follow(caller, cluster, Snapshots(cluster, settings.quota, AnswerCache())))
        try:
            await scenario(stream, cluster)
        finally:
            stream.task.cancel()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("caller", "names"),
    [
        (ADMIN, {"catalog", "subscription", "usage", "alerts", "projects"}),
        (PROJECT_USER, {"catalog", "projects"}),
        (GUEST, {"catalog"}),
    ],
)
def test_a_stream_starts_with_what_the_caller_may_see(settings: ApiSettings, caller: Caller, names: set[str]) -> None:
    async def scenario(stream: Stream, cluster: Cluster) -> None:
        first = await stream.burst()
        assert set(first) == names
        LiveEvents.model_validate_json(json.dumps(first))  # each event's data as the document declares it
        assert [plan["id"] for plan in first["catalog"]["plans"]] == ["dev-pool", "pro-pool"]
        if "projects" in names:
            seen = {project["namespace"] for project in first["projects"]}
            assert seen == ({"acme", "acme-dev", "acme-prod"} if caller is ADMIN else {"acme-dev"})
        if caller is ADMIN:
            assert first["subscription"]["usage"]["cpu"] == {"used": 9, "limit": 10.3}
            assert first["usage"]["cpu"]["percent"] == 87.4
            assert first["alerts"]["alerts"][0]["level"] == "warning"

    run(settings, caller, scenario)


def test_after_the_first_snapshot_only_what_changed_is_sent(settings: ApiSettings) -> None:
    async def scenario(stream: Stream, cluster: Cluster) -> None:
        await stream.burst()
        pod = {"name": "c", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}
        body = {"metadata": {"namespace": "acme-dev", "name": "new"}, "spec": {"containers": [pod]}}
        cluster.pods.apply("ADDED", body)
        changed = await stream.burst()
        assert set(changed) == {"projects"}  # HNC has not counted it in the HRQ yet
        assert next(p for p in changed["projects"] if p["namespace"] == "acme-dev")["usage"]["cpu"] == 2.75
        used = {"requests.cpu": "10", "pods": "24"}
        status = {"hard": WORKED_EXAMPLE, "used": used}
        hrq = {"metadata": {"namespace": "acme", "name": "plan-quota"}, "status": status}
        cluster.hrqs.apply("MODIFIED", hrq)
        changed = await stream.burst()
        assert set(changed) >= {"subscription", "usage"}
        assert changed["usage"]["cpu"]["used"] == 10
        cluster.eips.apply("MODIFIED", {"metadata": {"namespace": "elsewhere", "name": "eip-9"}})
        assert await stream.burst(wait=1.0) == {}  # nothing the caller sees changed: nothing sent

    run(settings, ADMIN, scenario)


def test_a_relist_sends_every_event_again_and_a_broken_memory_nothing(settings: ApiSettings) -> None:
    async def scenario(stream: Stream, cluster: Cluster) -> None:
        await stream.burst()
        bodies = _bodies(cluster)
        cluster.orgs.broken("ClientConnectorError: connection refused")
        cluster.pods.apply("DELETED", {"metadata": {"namespace": "acme-dev", "name": "web"}})
        assert await stream.burst(wait=1.0) == {}  # not from a memory that may be stale
        cluster.orgs.replace(bodies)  # listed again, nothing changed
        again = await stream.burst()
        assert set(again) == {"catalog", "subscription", "usage", "alerts", "projects"}  # the same, sent anyway

    run(settings, ADMIN, scenario)


def test_a_stream_ends_when_its_token_expires(settings: ApiSettings) -> None:
    expiring = Caller("ann", "acme", (), ("org-admin",), expires=time.time() - 29)

    async def scenario(stream: Stream, cluster: Cluster) -> None:
        first = await stream.burst()
        assert "<end>" not in first
        assert await stream.burst(wait=5.0) == {"<end>": True}

    run(settings, expiring, scenario)


def _bodies(cluster: Cluster) -> list[dict[str, Any]]:
    """The Organizations of the in-memory cluster as a LIST would return them."""
    bodies = []
    for namespace, name, record in cluster.orgs.items():
        meta = {"namespace": namespace, "name": name, "annotations": dict(record.annotations)}
        bodies.append({"metadata": meta, "status": dict(record.status)})
    return bodies


REQUEST = "GET /api/billing/events HTTP/1.1\r\nHost: x\r\n{}\r\n"


def _open(address: tuple[str, int], headers: str) -> tuple[socket.socket, bytes]:
    """A stream opened: the connection and what came until its first event."""
    conn = socket.create_connection(address, timeout=10)
    conn.sendall(REQUEST.format(headers).encode())
    data = b""
    while b"event: " not in data:
        chunk = conn.recv(65536)
        assert chunk, f"the stream ended: {data!r}"
        data += chunk
    return conn, data


def test_the_route_streams_and_is_bounded(issuer: Issuer, cluster: Cluster) -> None:
    issuer.up = True
    settings = ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url, "API_MAX_STREAMS": "1"})
    app = create_app(settings, cluster)
    admin = f"Authorization: Bearer {issuer.token(org='acme', groups=['org-admin'])}\r\n"
    with serving(app) as address:
        assert exchange(address, REQUEST.format("").encode())[0] == 401
        first, head = _open(address, admin)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b"content-type: text/event-stream" in head.lower()
        assert b"x-accel-buffering: no" in head.lower()
        assert b"event: catalog" in head or b"event: subscription" in head
        status, refused, _ = exchange(address, REQUEST.format(admin).encode())
        assert status == 503
        assert b"at most 1 event streams" in refused
        first.close()
        deadline = time.monotonic() + 10
        while app.state.streams.open:  # the closed stream gives its place back
            assert time.monotonic() < deadline, "the stream's place was not given back"
            time.sleep(0.05)
