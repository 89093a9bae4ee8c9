"""The usage-history window: defaults, bounds, and errors that name the parameter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgquota.core.history_window import DEFAULT_POINTS, MAX_POINTS, WindowError, history_window


def test_defaults_are_seven_days_in_at_most_500_points() -> None:
    window = history_window(None, None)
    assert window.range == timedelta(days=7)
    assert window.points <= DEFAULT_POINTS


def test_thirty_days_hourly() -> None:
    window = history_window("30d", "1h")
    assert (window.range, window.step, window.points) == (timedelta(days=30), timedelta(hours=1), 721)


@pytest.mark.parametrize(
    ("range_text", "step_text", "named"),
    [
        ("401d", None, "range: must be"),
        ("0s", None, "range: must be"),
        ("lots", None, "range: 'lots' is not a duration"),
        ("30d", "1s", "range/step: 2592001 points asked"),
        ("30d", "0s", "step: must be at least 1s"),
        ("30d", "-1h", "step: '-1h' is not a duration"),
    ],
)
def test_what_cannot_be_answered_is_named(range_text: str, step_text: str | None, named: str) -> None:
    with pytest.raises(WindowError, match=named):
        history_window(range_text, step_text)


@given(st.integers(min_value=1, max_value=400 * 86400))
def test_the_default_step_never_gives_more_than_500_points(seconds: int) -> None:
    window = history_window(f"{seconds}s", None)
    assert window.points <= DEFAULT_POINTS
    assert window.points <= MAX_POINTS
