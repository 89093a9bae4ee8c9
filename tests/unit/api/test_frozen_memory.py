"""The informers' objects leave the collector's full walks once every collection is listed, once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from orgquota.api.frozen_memory import freeze_once_listed
from orgquota.kube.watch import WatchCache


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def cache(name: str) -> WatchCache[Any]:
    return WatchCache(None, f"/api/v1/{name}", lambda obj: obj, name=name)


def test_frozen_when_the_last_collection_is_listed_and_not_again(unfrozen: None) -> None:
    orgs, pods = cache("orgs"), cache("pods")
    freeze_once_listed([orgs, pods])
    orgs.replace([{"metadata": {"name": "acme"}}])
    assert gc.get_freeze_count() == 0  # pods not listed yet: their memory is not whole
    pods.replace([{"metadata": {"namespace": "acme", "name": f"web-{i}"}} for i in range(100)])
    frozen = gc.get_freeze_count()
    assert frozen > 100
    assert (orgs.listeners, pods.listeners) == ([], [])
    gc.unfreeze()
    pods.replace([])  # a re-list freezes nothing more
    assert gc.get_freeze_count() == 0


def test_caches_listed_already_are_frozen_at_once(unfrozen: None) -> None:
    orgs = cache("orgs")
    orgs.replace([{"metadata": {"name": "acme"}}])
    freeze_once_listed([orgs])
    assert gc.get_freeze_count() > 0
