"""Backfilled history in a real Prometheus (tests/support/prom_history.py): what it serves is exactly
what was written, old samples included (retention), and a fleet's size is what it was made of."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from localcluster.prometheus import Prometheus
from localcluster.versions import PROMETHEUS_RULES
from tests.support.prom_history import DAY, HOUR, History, Series, backfilled_prometheus, fleet
from tests.support.promtool import promtool


def served(prometheus: Prometheus, series: Series) -> list[tuple[int, float]]:
    """The series as query_range answers it, one point an hour over the span it was written for."""
    data = prometheus.query(
        "/api/v1/query_range",
        query=series.selector(),
        start=str(series.samples[0][0]),
        end=str(series.samples[-1][0]),
        step=str(HOUR),
    )
    assert [result["metric"] for result in data["result"]] == [{"__name__": series.name, **dict(series.labels)}]
    return [(int(t), float(value)) for t, value in data["result"][0]["values"]]


def test_query_range_returns_exactly_the_values_written(history: History) -> None:
    for series in history.series:
        assert served(history.prometheus, series) == list(series.samples), series.selector()


def test_the_shapes_are_what_their_forecasts_assume(history: History) -> None:
    growing = history.find("orgquota_organization_quota_used", "growing").samples
    a_day = [value for t, value in growing if (t - growing[0][0]) % DAY == 0]
    assert a_day == [float(7 + Fraction(day, 10)) for day in range(30)]  # 7.0, 7.1, ... 9.9: 0.1 a day
    assert len(history.find("orgquota_organization_quota_used", "young").samples) == 5 * 24
    noisy = [value for _, value in history.find("orgquota_organization_quota_used", "noisy").samples]
    assert max(noisy) > 2 * min(noisy)  # its outliers


def test_a_fleet_of_organizations_over_ninety_days(tmp_path: Path) -> None:
    end = 1_790_000_000 // HOUR * HOUR  # long before now: served only thanks to the 400-day retention
    with backfilled_prometheus(tmp_path, fleet(20, 90, end)) as prometheus:
        counted = prometheus.query(
            "/api/v1/query",
            query="count_over_time(orgquota_organization_quota_used[90d])",
            time=str(end),
        )
        assert len(counted["result"]) == 20
        assert {result["value"][1] for result in counted["result"]} == {str(90 * 24)}
        rate = prometheus.query(
            "/api/v1/query",
            query='deriv(orgquota_organization_quota_used{organization="org-3"}[90d]) * 86400',
            time=str(end - DAY),
        )
        assert round(float(rate["result"][0]["value"][1]), 9) == 0.04


def test_recorded_series_are_backfilled_from_the_raw_history_by_the_rule_files(
    history: History, tmp_path: Path
) -> None:
    """docs/history.md's `promtool tsdb create-blocks-from rules`, over the last two days of the history."""
    start = history.end - 2 * DAY
    promtool(
        "tsdb",
        "create-blocks-from",
        "rules",
        f"--start={start}",
        f"--end={history.end}",
        f"--url={history.prometheus.url}",
        f"--output-dir={tmp_path / 'recorded'}",
        *sorted(PROMETHEUS_RULES.glob("*.yml")),
    )
    raw = history.find("orgquota_organization_quota_used", "noisy").samples
    with Prometheus(tmp_path / "prometheus", data_dir=tmp_path / "recorded", rules_dir=None) as recorded:
        data = recorded.query(
            "/api/v1/query",
            query='organization:orgquota_organization_quota_used:max_over_time1d{organization="noisy"}[2d]',
            time=str(history.end),
        )
    # Evaluated as Prometheus would have: every 5 minutes (the group's interval), at an offset of its own.
    points = [(float(t), float(value)) for t, value in data["result"][0]["values"]]
    assert len(points) == 2 * 24 * 12
    for at, value in points:
        assert value == max(v for t, v in raw if at - DAY <= t <= at), at
