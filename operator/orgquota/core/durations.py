"""Durations as people write them in settings and query strings: `7d`, `12h`, `1h30m`, `90s`, `1.5h`.

Prometheus's own units (`ms`, `s`, `m`, `h`, `d`, `w`, `y` = 365 days), in one or more parts from the
largest down, or a plain number of seconds. Anything else is refused with the text that was given.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

UNIT_SECONDS: Final = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|[ywdhms])")
MAX_TEXT: Final = 32
"""longer texts are refused unread: a duration is never that long, and a message never echoes much"""


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    """The duration `text` names; DurationError when it names none."""
    raw = text.strip()
    if not raw or len(raw) > MAX_TEXT:
        raise DurationError(f"{text[:MAX_TEXT]!r} is not a duration (like 30d, 12h, 1h30m or 90s)")
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return timedelta(seconds=float(raw))
    position, seconds, last_rank = 0, 0.0, -1
    ranks = list(UNIT_SECONDS)
    for match in _PART.finditer(raw):
        rank = ranks.index(match[2])
        if match.start() != position or rank <= last_rank:
            break
        position, last_rank = match.end(), rank
        seconds += float(match[1]) * UNIT_SECONDS[match[2]]
    if position != len(raw):
        raise DurationError(f"{raw!r} is not a duration (like 30d, 12h, 1h30m or 90s)")
    return timedelta(seconds=seconds)
