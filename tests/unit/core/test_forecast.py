"""The run-out forecast: daily maxima of the 30 whole days before today, a least-squares line, a 95 % band."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgquota.core.forecast import DAY_SECONDS, METHOD, T_975, WINDOW_DAYS, Number, Sample, forecast

NOW = datetime(2027, 3, 10, 12, 30, tzinfo=UTC)
TODAY = datetime(2027, 3, 10, tzinfo=UTC)
START = TODAY - timedelta(days=40)


def hourly(value_at: Callable[[Fraction], Number], days: int = 40, start: datetime = START) -> list[Sample]:
    """A sample every hour from `start` up to `NOW`, `value_at(days since start)`."""
    samples = []
    for hour in range(days * 24 + 13):
        moment = start + timedelta(hours=hour)
        if moment <= NOW:
            samples.append((moment.timestamp(), value_at(Fraction(hour, 24))))
    return samples


def test_linear_growth_runs_out_when_arithmetic_says_exactly() -> None:
    """4 cores + 0.1 core a day reaches 10 cores 60 days after the start; the day's maximum is its 23:00
    sample, placed at midnight, so the line is one hour behind the truth."""
    result = forecast(hourly(lambda days: 4 + days / 10), used=Fraction(5), limit=10, now=NOW)
    assert result.enough_history
    assert result.rate_per_day == Fraction(1, 10)
    assert result.fit == 1.0
    assert result.runs_out_at == START + timedelta(days=60, hours=1)
    assert result.band.earliest == result.band.latest == result.runs_out_at  # a perfect line: no uncertainty
    assert result.window_days == WINDOW_DAYS == 30
    assert result.method == METHOD


def test_linear_growth_as_floats_runs_out_within_a_day() -> None:
    samples = [(seconds, float(value)) for seconds, value in hourly(lambda days: 4 + days / 10)]
    result = forecast(samples, used=8.0, limit=10.0, now=NOW)
    assert result.runs_out_at is not None
    assert abs(result.runs_out_at - (START + timedelta(days=60))) < timedelta(days=1)
    assert result.rate_per_day is not None
    assert math.isclose(result.rate_per_day, 0.1, rel_tol=1e-9)


def test_flat_usage_never_runs_out_and_fits_perfectly() -> None:
    """r² is 0/0 for equal points; the flat line through them explains them wholly, so fit is 1."""
    result = forecast(hourly(lambda _: 3), used=3, limit=10, now=NOW)
    assert result.rate_per_day == 0
    assert result.fit == 1.0
    assert result.runs_out_at is None
    assert result.band.earliest is None
    assert result.band.latest is None


def test_shrinking_usage_never_runs_out() -> None:
    result = forecast(hourly(lambda days: 9 - days / 10), used=5, limit=10, now=NOW)
    assert result.rate_per_day == Fraction(-1, 10)
    assert result.runs_out_at is None


def test_noisy_usage_with_outliers_has_a_band_around_the_date() -> None:
    noise = random.Random(7)

    def value(days: Fraction) -> float:
        spike = 1.5 if int(days) in (15, 27) else 0.0  # two days with a short surge
        return float(4 + days / 10) + noise.uniform(-0.3, 0.3) + (spike if days % 1 == Fraction(1, 2) else 0)

    result = forecast(hourly(value), used=8.0, limit=10.0, now=NOW)
    truth = START + timedelta(days=60)
    assert result.fit is not None
    assert 0.5 < result.fit < 1.0
    assert result.rate_per_day is not None
    assert 0.05 < result.rate_per_day < 0.15
    assert result.runs_out_at is not None
    assert abs(result.runs_out_at - truth) < timedelta(days=4)
    earliest, latest = result.band.earliest, result.band.latest
    assert earliest is not None
    assert latest is not None
    assert earliest < result.runs_out_at < latest
    assert earliest - timedelta(days=1) <= truth <= latest + timedelta(days=1)


def daily_noise(seed: int) -> list[Sample]:
    """One sample a day: 9 + 0.005 a day, ± up to 1."""
    noise = random.Random(seed)
    return [((TODAY - timedelta(days=d)).timestamp(), 9 + (30 - d) / 200 + noise.uniform(-1, 1)) for d in range(1, 31)]


def test_slow_noisy_growth_has_no_latest_date() -> None:
    """A slope whose lower 95 % bound is <= 0 may never reach the limit: `latest` is None."""
    result = forecast(daily_noise(1), used=9.5, limit=10.2, now=NOW)
    assert result.trend is not None
    assert result.trend.slope - result.trend.margin <= 0 < result.trend.slope
    assert result.runs_out_at is not None
    assert result.band.earliest is not None
    assert result.band.earliest < result.runs_out_at
    assert result.band.latest is None


def test_a_falling_line_may_still_run_out_at_its_steepest_bound() -> None:
    result = forecast(daily_noise(0), used=9.5, limit=10.2, now=NOW)
    assert result.trend is not None
    assert result.trend.slope < 0 < result.trend.slope + result.trend.margin
    assert result.runs_out_at is None
    assert result.band.earliest is not None
    assert result.band.latest is None


def test_five_days_are_not_enough_history() -> None:
    samples = [s for s in hourly(lambda days: 4 + days) if s[0] >= (TODAY - timedelta(days=5)).timestamp()]
    result = forecast(samples, used=5, limit=10, now=NOW)
    assert not result.enough_history
    assert (result.runs_out_at, result.rate_per_day, result.fit, result.band.earliest) == (None, None, None, None)
    assert result.peak == max(value for seconds, value in samples if seconds < TODAY.timestamp())


@pytest.mark.parametrize("used", [10, 11])
def test_usage_at_or_above_the_limit_runs_out_now_even_without_history(used: int) -> None:
    for samples in (hourly(lambda days: 4 + days / 10), []):
        result = forecast(samples, used=used, limit=10, now=NOW)
        assert result.runs_out_at == result.band.earliest == result.band.latest == NOW


def test_no_limit_gives_a_rate_and_no_date() -> None:
    result = forecast(hourly(lambda days: 4 + days / 10), used=5, limit=None, now=NOW)
    assert result.rate_per_day == Fraction(1, 10)
    assert result.runs_out_at is None
    assert result.band.earliest is None


def test_a_date_beyond_365_days_is_no_date() -> None:
    result = forecast(hourly(lambda days: 4 + days / 1000), used=4, limit=10, now=NOW)  # 5,960 days
    assert result.runs_out_at is None
    just_inside = forecast(hourly(lambda days: 4 + days / 10), used=4, limit=40, now=NOW)  # day 360
    assert just_inside.runs_out_at == START + timedelta(days=360, hours=1)


def test_the_window_is_the_30_whole_days_before_today() -> None:
    """Today's samples, samples older than 30 days and unreadable values are no points."""
    window_start = TODAY - timedelta(days=30)
    samples: list[Sample] = [
        ((window_start - timedelta(seconds=1)).timestamp(), 1000),
        (TODAY.timestamp(), 1000),
        ((window_start + timedelta(days=3)).timestamp(), math.nan),
        ((window_start + timedelta(days=4)).timestamp(), Decimal("Infinity")),
    ]
    samples += [((window_start + timedelta(days=day, hours=5)).timestamp(), day) for day in range(30)]
    result = forecast(samples, used=30, limit=100, now=NOW)
    assert result.peak == 29
    assert result.rate_per_day == 1
    assert result.trend is not None
    mean_day_end = window_start + timedelta(days=15.5)  # day ends: window start + 1 .. + 30 days
    assert result.trend.mean_day * DAY_SECONDS == mean_day_end.timestamp()


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        forecast([], used=0, limit=1, now=NOW.replace(tzinfo=None))


def _t_cdf(t: float, df: int, steps: int = 4000) -> float:
    """Student's t distribution function by Simpson's rule, from its density."""
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def density(x: float) -> float:
        return scale * math.pow(1 + x * x / df, -(df + 1) / 2)

    h = t / steps
    total = density(0) + density(t) + sum((4 if i % 2 else 2) * density(i * h) for i in range(1, steps))
    return 0.5 + total * h / 3


@pytest.mark.parametrize("df", range(5, 29))
def test_t_quantiles_leave_2_5_percent_above(df: int) -> None:
    assert abs(_t_cdf(T_975[df], df) - 0.975) < 1e-7


# Properties, over any days of the window and any values.

values = st.decimals(min_value=0, max_value=2_000, places=2)


@st.composite
def series(draw: st.DrawFn) -> list[tuple[int, int, Decimal]]:
    """(days before today, second of that day, used): a trend of any slope plus noise, on 7 to 30 days."""
    days = draw(st.lists(st.integers(1, 30), min_size=7, max_size=30, unique=True))
    start, rate = draw(st.decimals(0, 1000, places=2)), draw(st.decimals(-20, 50, places=2))
    noise, second = st.decimals(-30, 30, places=2), st.integers(0, DAY_SECONDS - 1)
    more = draw(st.lists(st.sampled_from(days), max_size=30))
    return [(day, draw(second), start + rate * (30 - day) + draw(noise)) for day in days + more]


def samples_of(points: list[tuple[int, int, Decimal]]) -> list[Sample]:
    return [((TODAY - timedelta(days=day)).timestamp() + second, value) for day, second, value in points]


@settings(max_examples=150, deadline=None)
@given(series(), values, st.one_of(st.none(), values))
def test_band_brackets_the_date(points: list[tuple[int, int, Decimal]], used: Decimal, limit: Decimal | None) -> None:
    result = forecast(samples_of(points), used=used, limit=limit, now=NOW)
    dates = [result.band.earliest, result.runs_out_at, result.band.latest]
    given_dates = [date for date in dates if date is not None]
    assert given_dates == sorted(given_dates)
    assert all(date >= NOW for date in given_dates)
    assert result.runs_out_against(limit) == result.runs_out_at


@settings(max_examples=100, deadline=None)
@given(series(), st.decimals(min_value=-1000, max_value=1000, places=2))
def test_a_constant_added_to_every_value_leaves_the_slope(
    points: list[tuple[int, int, Decimal]], shift: Decimal
) -> None:
    moved = [(day, second, value + shift) for day, second, value in points]
    before = forecast(samples_of(points), used=0, limit=None, now=NOW)
    after = forecast(samples_of(moved), used=0, limit=None, now=NOW)
    assert after.rate_per_day == before.rate_per_day
    assert after.fit == before.fit
    assert after.trend is not None
    assert before.trend is not None
    assert after.trend.margin == before.trend.margin


@settings(max_examples=100, deadline=None)
@given(series(), values, values, st.randoms(use_true_random=False))
def test_the_order_of_samples_does_not_matter(
    points: list[tuple[int, int, Decimal]], used: Decimal, limit: Decimal, shuffler: random.Random
) -> None:
    samples = samples_of(points)
    shuffled = list(samples)
    shuffler.shuffle(shuffled)
    assert forecast(shuffled, used=used, limit=limit, now=NOW) == forecast(samples, used=used, limit=limit, now=NOW)
