"""Answers of the organization routes, kept while what they are made of is unchanged.

Thousands of organizations poll their usage; between two watch events nothing an answer depends
on changes, so its JSON is built once per change rather than once per request. An entry is
reused only while every input is the very same object (the informers replace objects on each
change, and an entry holds its inputs, so an identity is never reused) and counts are equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from starlette.responses import Response

from orgquota.api.envelope import JSONBody
from orgquota.api.organization import OrgFacts

MAX_ENTRIES: Final = 20_000


def _same(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    return len(old) == len(new) and all(a is b or (type(a) is int and a == b) for a, b in zip(old, new, strict=True))


class AnswerCache:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[tuple[object, ...], bytes]] = {}

    def answer(self, route: str, facts: OrgFacts, build: Callable[[OrgFacts], Any]) -> Response:
        key = (route, facts.record.name)
        entry = self._entries.get(key)
        if entry is not None and _same(entry[0], facts.inputs):
            return Response(entry[1], media_type="application/json")
        response = JSONBody({"success": True, "data": build(facts)})
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (facts.inputs, bytes(response.body))
        return response
