"""Quota pressure, the pure state machine: levels with hysteresis, decided from the recorded status alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from orgquota.core.alert_thresholds import AlertThresholds
from orgquota.core.pressure import Level, assess, next_level, pressure_condition, shown_percent, transitions

DEFAULTS = AlertThresholds()
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HARD = {"cpu": Fraction(10)}


def cpu_at(percent: float | Fraction) -> dict[str, Fraction]:
    return {"cpu": Fraction(percent) / 10}


def run(percents: list[Fraction], recorded: list[dict[str, object]] | None = None) -> list[list[dict[str, object]]]:
    """The status.alerts after each usage, each decided from the one before (as the status records it)."""
    states = []
    for step, percent in enumerate(percents):
        recorded = assess(recorded, cpu_at(percent), HARD, DEFAULTS, NOW + timedelta(minutes=step))
        states.append(recorded)
    return states


def levels(states: list[list[dict[str, object]]]) -> list[str | None]:
    return [state[0]["level"] if state else None for state in states]  # type: ignore[misc]


def test_a_level_is_reached_at_its_threshold_and_cleared_five_points_below() -> None:
    usage = [79.9, 80, 77, 75, 74.9, 99.9, 100, 96, 95, 94.9, 100, 74]
    assert levels(run([Fraction(str(p)) for p in usage])) == [
        None,
        "warning",  # at 80: reached
        "warning",
        "warning",  # 75 is not under 75
        None,  # under 75: cleared
        "warning",
        "critical",  # at 100: reached (HNC admits exactly the limit)
        "critical",
        "critical",
        "warning",  # under 95: critical clears, warning holds
        "critical",
        None,
    ]


def test_since_moves_only_with_the_level_and_percent_follows_usage() -> None:
    states = run([Fraction(85), Fraction(90), Fraction(100)])
    assert [s[0]["since"] for s in states] == ["2026-11-24T12:00:00Z", "2026-11-24T12:00:00Z", "2026-11-24T12:02:00Z"]
    assert [s[0]["percent"] for s in states] == [85, 90, 100]


def test_percent_is_rounded_down_so_a_shown_threshold_is_reached() -> None:
    assert shown_percent(Fraction(7999, 100)) == 79.9
    assert shown_percent(Fraction(80)) == 80
    assert isinstance(shown_percent(Fraction(80)), int)


def test_no_limit_or_a_limit_of_zero_is_never_under_pressure() -> None:
    used = {"cpu": Fraction(5), "services_loadbalancers": Fraction(1), "pods": Fraction(9)}
    hard = {"cpu": Fraction(5), "services_loadbalancers": Fraction(0)}
    assert [a["resource"] for a in assess(None, used, hard, DEFAULTS, NOW)] == ["cpu"]


def test_transitions_name_each_change_of_level_with_its_event() -> None:
    warning = [{"resource": "cpu", "level": "warning", "percent": 85, "since": "t"}]
    critical = [{"resource": "cpu", "level": "critical", "percent": 100, "since": "t"}]
    (up,) = transitions(warning, critical)
    assert (up.reason, up.before, up.after) == ("QuotaCritical", Level.WARNING, Level.CRITICAL)
    assert (
        up.message
        == "cpu at 100% of its quota (critical level, was warning): new pods that request CPU will be refused"
    )
    (down,) = transitions(critical, [])
    assert down.reason == "QuotaRecovered"
    assert down.message == "cpu is back below its warning level (was critical)"
    (first,) = transitions(None, warning)
    assert first.reason == "QuotaWarning"
    assert transitions(warning, [{**warning[0], "percent": 88}]) == []  # usage alone is no transition


def test_the_condition_says_which_levels_and_not_the_percent() -> None:
    assert pressure_condition([]) == ("False", "WithinThresholds", "every quota is below its warning level")
    alerts = [
        {"resource": "cpu", "level": "warning", "percent": 85, "since": "t"},
        {"resource": "pods", "level": "critical", "percent": 100, "since": "t"},
    ]
    assert pressure_condition(alerts) == ("True", "QuotaCritical", "critical: pods; warning: cpu")
    moved = [{**alerts[0], "percent": 86}, alerts[1]]
    assert pressure_condition(moved) == pressure_condition(alerts)


def test_other_thresholds() -> None:
    strict = AlertThresholds(warningPercent=50, criticalPercent=60)
    assert next_level(None, Fraction(50), strict) == Level.WARNING
    assert next_level(Level.CRITICAL, Fraction(55), strict) == Level.CRITICAL
    assert next_level(Level.CRITICAL, Fraction(54), strict) == Level.WARNING
    assert next_level(Level.WARNING, Fraction(45), strict) == Level.WARNING
    assert next_level(Level.WARNING, Fraction(44), strict) is None


percents = st.fractions(min_value=0, max_value=100, max_denominator=100)
thresholds = st.tuples(st.integers(6, 99), st.integers(6, 100)).filter(lambda t: t[0] < t[1])


@given(st.lists(percents, min_size=1, max_size=40), thresholds)
def test_the_level_is_always_within_its_bounds(usage: list[Fraction], limits: tuple[int, int]) -> None:
    warning, critical = limits
    rules = AlertThresholds(warningPercent=warning, criticalPercent=critical)
    level: Level | None = None
    for percent in usage:
        level = next_level(level, percent, rules)
        if percent >= critical:
            assert level == Level.CRITICAL
        elif percent >= warning:
            assert level is not None
        if percent < warning - 5:
            assert level is None
        if percent < critical - 5:
            assert level != Level.CRITICAL


@given(st.lists(percents, min_size=1, max_size=40), st.integers(0, 39))
def test_a_restart_decides_exactly_what_an_uninterrupted_run_does(usage: list[Fraction], cut: int) -> None:
    """Only the recorded status carries state: resuming from it at any point changes nothing, and
    deciding the same usage again from a recorded state is no transition (no second Event)."""
    straight = run(usage)
    cut = min(cut, len(usage) - 1)
    resumed = run(usage[:cut]) + run(usage[cut:], straight[cut - 1] if cut else None)
    assert levels(resumed) == levels(straight)
    for state, percent in zip(straight, usage, strict=True):
        again = assess(state, cpu_at(percent), HARD, DEFAULTS, NOW + timedelta(days=1))
        assert transitions(state, again) == []
        assert [a["since"] for a in again] == [a["since"] for a in state]


@given(st.lists(st.sampled_from([Fraction(76), Fraction(79), Fraction(80), Fraction(84)]), min_size=1, max_size=60))
def test_usage_hovering_at_a_threshold_raises_one_warning_and_never_recovers(usage: list[Fraction]) -> None:
    states = run(usage)
    changes = [t for before, after in zip([[], *states], states, strict=False) for t in transitions(before, after)]
    assert len(changes) == (1 if any(p >= 80 for p in usage) else 0)
    assert all(change.reason == "QuotaWarning" for change in changes)
