"""The informer: LIST then WATCH; a 410 lists again at once, an error marks it unhealthy until a
LIST succeeds again, a server-ended stream resumes from the last resourceVersion; 404 = no API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from orgquota.kube import watch as watch_module
from orgquota.kube.client import KubeError
from orgquota.kube.watch import WatchCache


def obj(name: str, rv: str, namespace: str = "ns") -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name, "resourceVersion": rv}, "value": name}


class FakeKube:
    """Answers LISTs from `objects`, and WATCHes from a script of steps (events or exceptions)."""

    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = []
        self.version = "1"
        self.lists = 0
        self.list_error: Exception | None = None
        self.watches: list[str] = []
        self.steps: asyncio.Queue[Any] = asyncio.Queue()

    async def request(self, method: str, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        self.lists += 1
        if self.list_error is not None:
            raise self.list_error
        return {"metadata": {"resourceVersion": self.version}, "items": list(self.objects)}

    async def watch(self, path: str, version: str, *, selectors: dict[str, str] | None = None) -> AsyncIterator[Any]:
        self.watches.append(version)
        while True:
            step = await self.steps.get()
            if step == "end":
                return
            if isinstance(step, Exception):
                raise step
            yield step


async def until(check: Any, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def test_list_watch_relist_and_recovery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_module, "BACKOFF_FIRST", 0.01)

    async def scenario() -> None:
        kube = FakeKube()
        kube.objects = [obj("a", "5")]
        cache: WatchCache[str] = WatchCache(kube, "/x", lambda o: o["value"], name="things")  # type: ignore[arg-type]
        task = asyncio.create_task(cache.run())
        await until(lambda: cache.healthy)
        assert cache.get("ns", "a") == "a"
        assert kube.watches == ["1"]

        await kube.steps.put({"type": "ADDED", "object": obj("b", "6")})
        await kube.steps.put({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}})
        await kube.steps.put("end")  # the server ends the stream: resume from the bookmark, no LIST
        await until(lambda: len(kube.watches) == 2)
        assert kube.watches[-1] == "9"
        assert cache.get("ns", "b") == "b"
        assert kube.lists == 1

        kube.objects = [obj("c", "10")]
        kube.version = "10"
        await kube.steps.put(KubeError("WATCH", "/x", 410, "too old resource version"))
        await until(lambda: kube.lists == 2)
        await until(lambda: cache.get("ns", "c") == "c")
        assert cache.get("ns", "a") is None  # the LIST replaced the memory
        assert cache.healthy

        kube.list_error = aiohttp.ClientConnectionError("connection refused")
        await kube.steps.put(aiohttp.ServerDisconnectedError())
        await until(lambda: not cache.healthy)
        assert "Error" in cache.error  # the break, then the failed LISTs, are named
        await until(lambda: kube.lists >= 4)  # retried with back-off while the apiserver is away
        assert not cache.healthy
        kube.list_error = None
        await until(lambda: cache.healthy)

        await kube.steps.put({"type": "DELETED", "object": obj("c", "11")})
        await until(lambda: cache.get("ns", "c") is None)
        assert len(cache) == 0
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_an_api_that_does_not_exist_is_an_empty_healthy_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        kube = FakeKube()
        kube.list_error = KubeError("GET", "/apis/kube-dc.com/v1/eips", 404, "the server could not find the resource")
        cache: WatchCache[str] = WatchCache(kube, "/x", lambda o: "x", name="eips")  # type: ignore[arg-type]
        task = asyncio.create_task(cache.run())
        await until(lambda: cache.synced)
        assert (cache.healthy, cache.absent, len(cache)) == (True, True, 0)
        task.cancel()

    asyncio.run(scenario())


def test_transform_none_drops_objects() -> None:
    cache: WatchCache[str] = WatchCache(None, "/x", lambda o: None if o["value"] == "skip" else "kept", name="t")
    cache.replace([obj("a", "1"), {**obj("b", "1"), "value": "skip"}])
    assert [name for _, name, _ in cache.items()] == ["a"]
    version = cache.version
    cache.apply("MODIFIED", {**obj("a", "2"), "value": "skip"})  # now dropped
    assert len(cache) == 0
    assert cache.version == version + 1
