"""When one quota resource runs out: a least-squares line through the daily maxima of its usage.

The method is fixed so that anyone can check an answer by hand:

- the window is the 30 whole UTC days before the day of `now` (today is left out: its maximum
  is not known until it ends); each day with at least one sample gives one point, the day's
  largest `used`, placed at the day's end (the next midnight, UTC);
- fewer than 7 such points is not enough history: no line, no date;
- an ordinary least-squares line through the points: its slope is the rate per day, r² its fit;
- the date is when that line reaches the limit, none when the slope is <= 0, when there is no
  limit, or when that is more than 365 days after `now`, and `now` itself when usage is already at
  or above the limit (a fact, so even without history) or when the line is above the limit already;
- the band is the same computation with the slope's 95 % confidence bounds (Student's t with n - 2
  degrees of freedom), each line drawn through the mean point (mean day, mean usage), where every
  least-squares line of these points passes: a steeper slope reaches the limit sooner, so
  `earliest <= runs_out_at <= latest` whenever they are given.

Samples come from Prometheus as floats: usage over time is a statistic shown to people, so floats
are acceptable inputs. Each one is nevertheless taken exactly (as a Fraction), so the line does
not depend on the order of the samples and adding a constant to every value leaves the slope
exactly as it was; only the band's half-width (a square root) and r² are floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Final

METHOD: Final = "daily-max-ols-30d"
WINDOW_DAYS: Final = 30
MIN_DAYS: Final = 7
HORIZON: Final = timedelta(days=365)
"""a run-out date further away than this is no date: a line says nothing that far ahead"""
DAY_SECONDS: Final = 86400

Number = int | float | Decimal | Fraction
Sample = tuple[int | float, Number]
"""(unix seconds, used) as Prometheus answers a range query"""

T_975: Final = {
    5: 2.570582,
    6: 2.446912,
    7: 2.364624,
    8: 2.306004,
    9: 2.262157,
    10: 2.228139,
    11: 2.200985,
    12: 2.178813,
    13: 2.160369,
    14: 2.144787,
    15: 2.131450,
    16: 2.119905,
    17: 2.109816,
    18: 2.100922,
    19: 2.093024,
    20: 2.085963,
    21: 2.079614,
    22: 2.073873,
    23: 2.068658,
    24: 2.063899,
    25: 2.059539,
    26: 2.055529,
    27: 2.051831,
    28: 2.048407,
}
"""Student's t 0.975 quantile (a two-sided 95 % interval) by degrees of freedom: 7 to 30 points"""


@dataclass(frozen=True)
class Band:
    earliest: datetime | None
    latest: datetime | None


@dataclass(frozen=True)
class Trend:
    """The least-squares line: through (mean_day, mean_used), `slope` per day, ± `margin` at 95 %."""

    mean_day: Fraction
    """unix days (seconds / 86400) of the mean point"""
    mean_used: Fraction
    slope: Fraction
    margin: Fraction
    fit: float
    """r²; 1.0 when every point is equal (the flat line through them leaves nothing unexplained)"""


@dataclass(frozen=True)
class ResourceForecast:
    generated_at: datetime
    used: Fraction
    limit: Fraction | None
    rate_per_day: Fraction | None
    fit: float | None
    enough_history: bool
    runs_out_at: datetime | None
    band: Band
    peak: Fraction | None
    """the largest daily maximum of the window (None without any sample in it)"""
    trend: Trend | None
    window_days: int = WINDOW_DAYS
    method: str = METHOD

    def runs_out_against(self, limit: Number | None) -> datetime | None:
        """When usage reaches `limit` on this forecast: the rule of `runs_out_at`, for any limit."""
        if limit is None:
            return None
        limit = Fraction(limit)
        if self.used >= limit:
            return self.generated_at
        if self.trend is None:
            return None
        return _reaches(self.trend, self.trend.slope, limit, self.generated_at)


def forecast(samples: Iterable[Sample], used: Number, limit: Number | None, now: datetime) -> ResourceForecast:
    """The forecast of one resource from its samples of `used` (any order; NaN and infinities are skipped)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    maxima = daily_maxima(samples, now)
    trend = _fit(maxima) if len(maxima) >= MIN_DAYS else None
    used, limit = Fraction(used), None if limit is None else Fraction(limit)
    partial = ResourceForecast(
        generated_at=now,
        used=used,
        limit=limit,
        rate_per_day=None if trend is None else trend.slope,
        fit=None if trend is None else trend.fit,
        enough_history=trend is not None,
        runs_out_at=None,
        band=Band(None, None),
        peak=max(maxima.values(), default=None),
        trend=trend,
    )
    runs_out_at = partial.runs_out_against(limit)
    if trend is None or limit is None or used >= limit:
        band = Band(runs_out_at, runs_out_at)
    else:
        steepest, flattest = trend.slope + trend.margin, trend.slope - trend.margin
        band = Band(_reaches(trend, steepest, limit, now), _reaches(trend, flattest, limit, now))
    return replace(partial, runs_out_at=runs_out_at, band=band)


def daily_maxima(samples: Iterable[Sample], now: datetime) -> dict[int, Fraction]:
    """The largest `used` of each whole UTC day of the window, by unix day number (days since 1970-01-01)."""
    today = math.floor(now.timestamp()) // DAY_SECONDS
    first = today - WINDOW_DAYS
    maxima: dict[int, Fraction] = {}
    for seconds, value in samples:
        day = math.floor(seconds) // DAY_SECONDS
        if not first <= day < today:
            continue
        try:
            exact = Fraction(value)
        except (ValueError, OverflowError):  # NaN, infinities: Prometheus can answer them; they say nothing
            continue
        if day not in maxima or exact > maxima[day]:
            maxima[day] = exact
    return maxima


def _fit(maxima: dict[int, Fraction]) -> Trend:
    """Ordinary least squares through (day's end, day's maximum), exactly.

    In integers: x is the day's end in days, y the maximum times the least common denominator of the
    maxima, and the sums are n times the centred ones (n * sxx = n * sum(x^2) - sum(x)^2, ...), so
    no Fraction is made until the results: the same numbers as Fraction sums, 15 times faster.
    """
    n = len(maxima)
    xs = [day + 1 for day in maxima]
    scale = math.lcm(*(used.denominator for used in maxima.values()))
    ys = [used.numerator * (scale // used.denominator) for used in maxima.values()]
    sum_x, sum_y = sum(xs), sum(ys)
    n_sxx = n * sum(x * x for x in xs) - sum_x * sum_x  # > 0: the days are distinct
    n_sxy = n * sum(x * y for x, y in zip(xs, ys, strict=True)) - sum_x * sum_y
    n_syy = n * sum(y * y for y in ys) - sum_y * sum_y
    slope = Fraction(n_sxy, n_sxx * scale)
    fit = 1.0 if n_syy == 0 else float(Fraction(n_sxy * n_sxy, n_sxx * n_syy))
    residual_per_sxx = Fraction(n_syy * n_sxx - n_sxy * n_sxy, n_sxx * n_sxx * scale * scale * (n - 2))
    margin = T_975[n - 2] * math.sqrt(float(residual_per_sxx))
    return Trend(Fraction(sum_x, n), Fraction(sum_y, n * scale), slope, Fraction(margin), fit)


def _reaches(trend: Trend, slope: Fraction, limit: Fraction, now: datetime) -> datetime | None:
    """When the line through the mean point with `slope` reaches `limit` (not before `now`), if within the horizon."""
    if slope <= 0:
        return None
    seconds = (trend.mean_day + (limit - trend.mean_used) / slope) * DAY_SECONDS
    ahead = seconds - Fraction(now.timestamp())
    if ahead > Fraction(HORIZON.total_seconds()):
        return None
    if ahead <= 0:  # the line is above the limit already: usage may reach it at any moment
        return now
    return datetime.fromtimestamp(float(seconds), UTC)
