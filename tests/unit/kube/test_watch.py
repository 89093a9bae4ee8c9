"""The informer: LIST then WATCH; a 410 lists again at once, an error marks it unhealthy until a
LIST succeeds again, a server-ended stream resumes from the last resourceVersion; 404 = no API."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from orgquota.kube import watch as watch_module
from orgquota.kube.client import CONFIGMAP, KubeError
from orgquota.kube.watch import WatchCache
from tests.support.fake_kube import END_OF_WATCH, FakeKube

THINGS = CONFIGMAP.path("")


def obj(name: str, rv: str, namespace: str = "ns") -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name, "resourceVersion": rv}, "value": name}


async def until(check: Any, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def test_list_watch_relist_and_recovery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_module, "BACKOFF_FIRST", 0.01)

    async def scenario() -> None:
        kube = FakeKube(scripted_watch=True)
        kube.put(CONFIGMAP.path("ns", "a"), {"value": "a"})
        cache: WatchCache[str] = WatchCache(kube, THINGS, lambda o: o["value"], name="things")
        task = asyncio.create_task(cache.run())
        await until(lambda: cache.healthy)
        assert cache.get("ns", "a") == "a"
        assert kube.watches == [str(kube.version)]  # from the LIST's version
        lists = kube.reads.count(THINGS)

        await kube.watch_steps.put({"type": "ADDED", "object": obj("b", "6")})
        await kube.watch_steps.put({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}})
        await kube.watch_steps.put(END_OF_WATCH)  # the server ends the stream: resume from the bookmark, no LIST
        await until(lambda: len(kube.watches) == 2)
        assert kube.watches[-1] == "9"
        assert cache.get("ns", "b") == "b"
        assert kube.reads.count(THINGS) == lists == 1

        kube.drop(CONFIGMAP.path("ns", "a"))
        kube.put(CONFIGMAP.path("ns", "c"), {"value": "c"})
        await kube.watch_steps.put(KubeError("WATCH", THINGS, 410, "too old resource version"))
        await until(lambda: kube.reads.count(THINGS) == 2)
        await until(lambda: cache.get("ns", "c") == "c")
        assert cache.get("ns", "a") is None  # the LIST replaced the memory
        assert cache.healthy

        kube.down = aiohttp.ClientConnectionError("connection refused")
        await kube.watch_steps.put(aiohttp.ServerDisconnectedError())
        await until(lambda: not cache.healthy)
        assert "Error" in cache.error  # the break, then the failed LISTs, are named
        await until(lambda: kube.refused.count(f"GET {THINGS}") >= 2)  # retried with back-off while it is away
        assert f"WATCH {THINGS}" not in kube.refused  # no watch without a LIST that succeeded
        assert not cache.healthy
        kube.down = None
        await until(lambda: cache.healthy)

        await kube.watch_steps.put({"type": "DELETED", "object": obj("c", "11")})
        await until(lambda: cache.get("ns", "c") is None)
        assert len(cache) == 0
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_an_api_that_does_not_exist_is_an_empty_healthy_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        kube = FakeKube(scripted_watch=True)
        kube.down = KubeError("GET", "/apis/kube-dc.com/v1/eips", 404, "the server could not find the resource")
        cache: WatchCache[str] = WatchCache(kube, "/apis/kube-dc.com/v1/eips", lambda o: "x", name="eips")
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
