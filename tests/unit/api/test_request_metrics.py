"""`ObservedRequests` keeps each label set's metrics at hand: the same counts, a bounded number of them."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from orgquota.api import metrics
from orgquota.api.metrics import REQUESTS, ObservedRequests


async def _unused(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not called")


def _count(route: str, method: str, status: str) -> float:
    return float(REQUESTS.labels(route, method, status)._value.get())


def test_kept_children_count_as_labels_do() -> None:
    observed = ObservedRequests(_unused)
    before = _count("/kept", "GET", "200")
    for _ in range(3):
        counter, _histogram = observed.children("/kept", "GET", 200)
        counter.inc()
    assert _count("/kept", "GET", "200") == before + 3
    assert observed.children("/kept", "GET", 200) is observed.children("/kept", "GET", 200)
    assert observed.children("/kept", "GET", 404)[0] is not observed.children("/kept", "GET", 200)[0]


def test_kept_children_are_bounded() -> None:
    observed = ObservedRequests(_unused)
    for status in range(metrics.MAX_CHILDREN + 5):
        observed.children("/bounded", "GET", status)
    assert len(observed._children) <= metrics.MAX_CHILDREN
    counter, _ = observed.children("/bounded", "GET", 1)
    before = _count("/bounded", "GET", "1")
    counter.inc()
    assert _count("/bounded", "GET", "1") == before + 1
