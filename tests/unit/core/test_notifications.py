"""Notification addresses and the record of alert states already mailed."""

from __future__ import annotations

import json

import pytest

from orgquota.core.notifications import (
    AddressError,
    alert_key,
    notified_annotation,
    parse_notified,
    parse_notify,
    valid_addresses,
)


@pytest.mark.parametrize("address", ["ops@acme.example", "a.b+alerts@mail.acme-corp.io", "x@y.co"])
def test_plain_mailboxes_are_addresses(address: str) -> None:
    assert valid_addresses([address]) == [address]


@pytest.mark.parametrize(
    "address",
    ["ops", "ops@localhost", "@acme.example", "ops@acme..example", "a b@acme.example", "Ops <ops@acme.example>", 5],
)
def test_anything_else_is_refused(address: object) -> None:
    with pytest.raises(AddressError):
        valid_addresses([address])


def test_at_most_ten_and_each_once() -> None:
    assert valid_addresses(["a@x.io", "A@x.io", "b@x.io"]) == ["a@x.io", "b@x.io"]
    with pytest.raises(AddressError, match="at most 10"):
        valid_addresses([f"a{n}@x.io" for n in range(11)])
    assert parse_notify('["a@x.io", "nobody", 3]') == ["a@x.io"]
    assert parse_notify("not json") == parse_notify(None) == []


def test_a_start_is_the_same_in_nanoseconds_or_milliseconds() -> None:
    webhook = alert_key("fp", "2026-12-02T20:35:01.123456789Z", "firing")
    assert webhook == alert_key("fp", "2026-12-02T20:35:01.123Z", "firing") == "fp/2026-12-02T20:35:01.123Z/firing"
    assert alert_key("fp", "2026-12-02T20:35:01Z", "resolved") == "fp/2026-12-02T20:35:01.000Z/resolved"


def test_the_record_keeps_the_last_fifty_once_each() -> None:
    keys = [f"k{n}" for n in range(60)]
    kept = json.loads(notified_annotation(keys[:55], [*keys[55:], "k0"]))
    assert len(kept) == 50
    assert kept[-1] == "k0"
    assert kept.count("k0") == 1
    assert parse_notified(notified_annotation([], ["a", "a"])) == ["a"]
    assert parse_notified('{"a": 1}') == parse_notified("[") == []
