"""Each organization's daily maxima, the forecast's points, kept for the UTC day they were read on.

Prometheus takes each day's maximum (`max_over_time` over the day, at its last millisecond): 30
points a series whatever the scrape interval. Reading them still costs Prometheus every raw sample
of 30 days (25 ms of CPU at a 30 s scrape interval, measured), and a day that has ended does not
change (samples are appended as they are scraped), so they are read once a day per organization:
the forecast and the advice of the page, and every view after, answer from memory until midnight.
Read in the first minutes of a day they are not kept (the last scrapes of the day before may still
be arriving); a backfill of past days shows from the next day, or after the API restarts.
"""

from __future__ import annotations

import itertools
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from orgquota.api.history.prometheus import Prometheus
from orgquota.api.history.resources import USED, one_series, promql_label
from orgquota.core.forecast import WINDOW_DAYS

DAY: Final = 86400
LAST_MILLISECOND: Final = 0.001
"""a day's maximum is asked at its last millisecond, so that the point falls on the day it is of (on
Prometheus 2, whose ranges include their first millisecond, a sample in the previous day's last one
counts in both days)"""
SETTLING: Final = 600
"""seconds after midnight during which maxima read are not kept"""
CAPACITY: Final = 10_000
"""organizations kept (the least recently asked goes first), each in about 4 KB"""

Points = Sequence[tuple[float, float]]


def daily_maxima_query(org: str, now: datetime) -> tuple[str, float, float, int]:
    """(query, start, end, step) of the range query of each resource's maxima over the 30 whole UTC days
    before today."""
    today = int(now.timestamp()) // DAY * DAY
    query = one_series(f'max_over_time({USED}{{organization="{promql_label(org)}"}}[{DAY}s])')
    return query, today - (WINDOW_DAYS - 1) * DAY - LAST_MILLISECOND, today - LAST_MILLISECOND, DAY


class DailyMaxima:
    def __init__(self, prometheus: Prometheus, capacity: int = CAPACITY) -> None:
        self._prometheus = prometheus
        self._capacity = capacity
        self._kept: OrderedDict[str, tuple[int, dict[str, array[float]]]] = OrderedDict()
        """organization -> (the day read on, each resource's points as flat (time, value) pairs)"""

    async def of(self, org: str, now: datetime) -> dict[str, Points]:
        """Each resource's (end of day, maximum) over the 30 days before `now`'s; raises HistoryUnavailable."""
        today, seconds = divmod(int(now.timestamp()), DAY)
        kept = self._kept.get(org)
        if kept is not None and kept[0] == today:
            self._kept.move_to_end(org)
            return {resource: _pairs(flat) for resource, flat in kept[1].items()}
        history = await self._prometheus.query_range(*daily_maxima_query(org, now))
        found: dict[str, Points] = {series.labels.get("resource", ""): series.points for series in history}
        if seconds >= SETTLING:
            flat = {resource: array("d", itertools.chain.from_iterable(points)) for resource, points in found.items()}
            self._kept[org] = (today, flat)
            self._kept.move_to_end(org)
            while len(self._kept) > self._capacity:
                self._kept.popitem(last=False)
        return found


def _pairs(flat: array[float]) -> Points:
    return list(zip(flat[::2], flat[1::2], strict=True))
