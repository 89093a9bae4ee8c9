"""GET /api/billing/events: Server-Sent Events of what the caller may see, as it changes (SPEC §11).

Each stream sends every event it may see at first, then, after each change of the API's memory
(`Cluster.changes`, coalesced for `COALESCE_SECONDS`), only the events whose JSON changed: served
from the informers, a stream costs the apiserver nothing. After any informer re-lists (a 410, an
apiserver restart) the next send is a full snapshot, so no page keeps a view from before the
break; while a memory is not current nothing is sent (the heartbeat goes on). A stream ends when
its token expires (the page reconnects with a fresh one), when the client goes, or when the server
begins a graceful stop. At most `API_MAX_STREAMS` per process: beyond, 503 (the page polls instead).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Final

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

from orgquota.api.auth import AnyCaller, Caller
from orgquota.api.cluster import Cluster
from orgquota.api.envelope import API_PREFIX, ApiError
from orgquota.api.live.snapshot import Snapshots
from orgquota.api.schema.envelope import ERROR_RESPONSES
from orgquota.api.schema.live import LiveEvents

COALESCE_SECONDS: Final = 0.05
"""after a change, how long a stream waits for more before it reads (a burst of pod events: one send)"""
HEARTBEAT_SECONDS: Final = 15
SEND_TIMEOUT_SECONDS: Final = 30.0
"""a client that reads nothing for this long is dropped (its TCP buffer full)"""
TOKEN_LEEWAY_SECONDS: Final = 30
HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
"""no proxy may buffer or cache the stream"""

router = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)


class StreamCount:
    """The open streams of this process, and their bound."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0


class CountedStream(EventSourceResponse):
    """An event stream that gives its place back when it ends, however it ends."""

    def __init__(self, streams: StreamCount, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.streams = streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.streams.open -= 1


@router.get(
    "/events",
    response_model=LiveEvents,  # in the document's components; FastAPI writes no content for a stream's class
    response_class=EventSourceResponse,
    summary="Server-Sent Events: each field of LiveEvents is one event's data",
    responses={200: {"content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/LiveEvents"}}}}},
)
async def events(caller: AnyCaller, request: Request) -> EventSourceResponse:
    streams: StreamCount = request.app.state.streams
    if streams.open >= streams.limit:
        raise ApiError(
            503,
            f"this API serves at most {streams.limit} event streams; read the routes instead",
            {"limit": streams.limit},
            headers={"Retry-After": "10"},
        )
    streams.open += 1
    snapshots: Snapshots = request.app.state.snapshots
    return CountedStream(
        streams,
        follow(caller, request.app.state.cluster, snapshots),
        ping=HEARTBEAT_SECONDS,
        send_timeout=SEND_TIMEOUT_SECONDS,
        headers=HEADERS,
    )


async def follow(caller: Caller, cluster: Cluster, snapshots: Snapshots) -> AsyncIterator[ServerSentEvent]:
    sent: dict[str, bytes] = {}
    lists = -1
    ends = caller.expires + TOKEN_LEEWAY_SECONDS if caller.expires else None
    while True:
        change = cluster.changes.next()
        if not cluster.problems():
            full, lists = cluster.lists != lists, cluster.lists
            for name, data in snapshots.events(caller).items():
                if full or sent.get(name) != data:
                    sent[name] = data
                    yield ServerSentEvent(data=data.decode(), event=name)
        try:
            async with asyncio.timeout(None if ends is None else ends - time.time()):
                await change.wait()
        except TimeoutError:
            return  # the token expired: the client reconnects with a fresh one
        await asyncio.sleep(COALESCE_SECONDS)
