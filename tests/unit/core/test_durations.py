"""Durations of settings and query strings: Prometheus's units, in order, or plain seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgquota.core.durations import UNIT_SECONDS, DurationError, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * 86400),
        ("12h", 43200),
        ("1h30m", 5400),
        ("90s", 90),
        ("45", 45),
        ("1.5h", 5400),
        ("1w", 604800),
        ("1y", 365 * 86400),
        ("500ms", 0.5),
        (" 7d ", 7 * 86400),
        ("2d12h", 216000),
    ],
)
def test_durations_people_write(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "d", "7x", "30m1h", "1h1h", "-5m", "1e3s", "7 d", "P7D", "1" * 40 + "s"])
def test_what_is_not_a_duration_is_named(text: str) -> None:
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration(text)


@given(st.lists(st.integers(min_value=0, max_value=99), min_size=len(UNIT_SECONDS), max_size=len(UNIT_SECONDS)))
def test_parts_from_the_largest_unit_down_add_up(amounts: list[int]) -> None:
    parts = [(n, unit) for n, unit in zip(amounts, UNIT_SECONDS, strict=True) if n]
    text = "".join(f"{n}{unit}" for n, unit in parts) or "0s"
    expected = sum(n * UNIT_SECONDS[unit] for n, unit in parts)
    assert parse_duration(text).total_seconds() == pytest.approx(expected)
