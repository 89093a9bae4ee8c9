"""The record of applied calls in an Organization: found again by the call's id, kept only while a
copy could still pass the signature check, never holding a signature, and tolerant of a bad value."""

from __future__ import annotations

import json

from orgquota.core.annotations import APPLIED_CALLS
from orgquota.core.call_records import applied, call_id, recorded, with_call

SIGNATURE = bytes(range(32))


def test_a_call_is_recorded_by_an_id_that_is_not_its_signature() -> None:
    first = call_id(SIGNATURE)
    assert len(first) == 32
    assert first not in SIGNATURE.hex()
    assert first == call_id(SIGNATURE)
    assert first != call_id(bytes(32))


def test_a_recorded_call_is_found_and_calls_past_their_time_are_dropped() -> None:
    annotations = {APPLIED_CALLS: with_call({}, "old", until=1_000, now=900)}
    annotations[APPLIED_CALLS] = with_call(annotations, "new", until=1_400, now=1_100)  # "old" is past
    assert json.loads(annotations[APPLIED_CALLS]) == {"new": 1_400}
    assert applied(annotations, "new")
    assert not applied(annotations, "old")


def test_an_unreadable_record_counts_as_empty() -> None:
    for value in ("not json", "[1, 2]", '{"x": "soon"}'):
        assert recorded({APPLIED_CALLS: value}) == {}
    assert recorded({}) == {}
    assert with_call({APPLIED_CALLS: "not json"}, "a", until=5, now=1) == '{"a":5}'
