"""The window of a usage-history answer: how far back, and how far apart its points are.

Bounded so that one request can neither ask Prometheus for more than it answers (11,000 points
a series) nor for more than a year of history at once; the default step keeps an answer small
enough for a chart (500 points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from orgquota.core.durations import DurationError, parse_duration

DEFAULT_RANGE: Final = timedelta(days=7)
MAX_RANGE: Final = timedelta(days=400)
MAX_POINTS: Final = 11_000
DEFAULT_POINTS: Final = 500


class WindowError(ValueError):
    """A range or step that cannot be answered; the message names the parameter."""


@dataclass(frozen=True)
class Window:
    range: timedelta
    step: timedelta

    @property
    def points(self) -> int:
        return math.floor(self.range / self.step) + 1


def history_window(range_text: str | None, step_text: str | None) -> Window:
    """The window `?range=&step=` ask for (either may be absent)."""
    span = _duration("range", range_text) if range_text is not None else DEFAULT_RANGE
    if span <= timedelta(0) or span > MAX_RANGE:
        raise WindowError(f"range: must be more than 0 and at most {MAX_RANGE.days}d")
    if step_text is None:
        seconds = math.ceil(span.total_seconds() / (DEFAULT_POINTS - 1))
        return Window(span, timedelta(seconds=max(seconds, 1)))
    step = _duration("step", step_text)
    if step < timedelta(seconds=1):
        raise WindowError("step: must be at least 1s")
    window = Window(span, step)
    if window.points > MAX_POINTS:
        raise WindowError(f"range/step: {window.points} points asked, at most {MAX_POINTS}; use a larger step")
    return window


def _duration(name: str, text: str) -> timedelta:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise WindowError(f"{name}: {exc}") from exc
