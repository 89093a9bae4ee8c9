"""Usage history for tests, backfilled into a real Prometheus (docs/history.md, "Backfilling").

The operator's series (`orgquota_organization_quota_used`, `..._quota_hard`, `..._plan_info`,
`..._monthly_cost`) are written as OpenMetrics text, one sample per hour, and turned into TSDB blocks
with `promtool tsdb create-blocks-from openmetrics` in a data directory that a Prometheus then starts
on. Shapes whose forecast is known in advance: a line growing exactly 0.1 core a day toward a 10-core
limit, a flat one, a noisy one with outliers, one only 5 days old, and a fleet of N organizations.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Final

from localcluster.prometheus import Prometheus
from tests.support.promtool import promtool

HOUR: Final = 3600
DAY: Final = 86400
MAX_BLOCK_DURATION: Final = "9600h"
"""400 days: a history becomes a block or two. promtool's default (2 h blocks) makes 360 blocks of a
month, which takes minutes to write and Prometheus time to open."""
HELP: Final = {
    "orgquota_organization_quota_used": "What the organization uses of a quota resource",
    "orgquota_organization_quota_hard": "The limit enforced on the organization",
    "orgquota_organization_plan_info": "1 for the organization's plan, subscription state and quota mode",
    "orgquota_organization_monthly_cost": "The organization's plan and add-ons per month",
}


@dataclass(frozen=True)
class Series:
    name: str
    labels: tuple[tuple[str, str], ...]
    samples: tuple[tuple[int, float], ...]
    """(unix seconds, value), in time order"""

    def selector(self) -> str:
        """The PromQL selector of exactly this series."""
        return self.name + "{" + ",".join(f'{key}="{value}"' for key, value in self.labels) + "}"


def hourly(end: int, days: int) -> list[int]:
    """`days` of hourly sample times, the last at `end`."""
    return [end - hour * HOUR for hour in reversed(range(days * 24))]


def growing(start: Fraction, per_day: Fraction) -> Callable[[int, int], float]:
    """Usage that grows by exactly `per_day` a day from `start` at the first sample."""
    return lambda first, t: float(start + per_day * Fraction(t - first, DAY))


def flat(value: Fraction) -> Callable[[int, int], float]:
    return lambda first, t: float(value)


def noisy(base: Fraction, per_day: Fraction, seed: int) -> Callable[[int, int], float]:
    """A slow trend with noise, and a spike of twice the usage every 97th hour (the same for a seed)."""
    rng = random.Random(seed)
    trend = growing(base, per_day)

    def value(first: int, t: int) -> float:
        spike = (t - first) // HOUR % 97 == 96
        return round(trend(first, t) * (2 if spike else 1) + rng.uniform(-0.3, 0.3), 3)

    return value


def organization(
    name: str,
    times: Sequence[int],
    used: Callable[[int, int], float],
    *,
    hard: float = 10.0,
    resource: str = "cpu",
    plan: str = "pro-pool",
    cost: Decimal = Decimal("199"),
    currency: str = "USD",
) -> list[Series]:
    """The operator's series of one organization over `times`: `resource` used (`used(first, t)`) and hard,
    the plan and the monthly cost."""
    first = times[0]

    def series(metric: str, value: Callable[[int], float], **labels: str) -> Series:
        return Series(metric, tuple(sorted(labels.items())), tuple((t, value(t)) for t in times))

    return [
        series("orgquota_organization_quota_used", lambda t: used(first, t), organization=name, resource=resource),
        series("orgquota_organization_quota_hard", lambda t: hard, organization=name, resource=resource),
        series(
            "orgquota_organization_plan_info",
            lambda t: 1.0,
            organization=name,
            plan=plan,
            subscription="active",
            mode="plan",
        ),
        series("orgquota_organization_monthly_cost", lambda t: float(cost), organization=name, currency=currency),
    ]


def standard_history(end: int) -> list[Series]:
    """Four organizations over the last 30 days (one of them only 5 days old), CPU in cores:
    `growing` 7 -> 9.9 at exactly 0.1 a day toward 10, `flat` at 3, `noisy` around 4 with spikes, `young`."""
    month = hourly(end, 30)
    return [
        *organization("growing", month, growing(Fraction(7), Fraction(1, 10))),
        *organization("flat", month, flat(Fraction(3))),
        *organization("noisy", month, noisy(Fraction(4), Fraction(1, 20), seed=7)),
        *organization("young", hourly(end, 5), growing(Fraction(1), Fraction(1, 2))),
    ]


def fleet(count: int, days: int, end: int) -> list[Series]:
    """`count` organizations (`org-0`...) over `days`, each growing at its own rate, one sample an hour."""
    times = hourly(end, days)
    return [
        series
        for index in range(count)
        for series in organization(f"org-{index}", times, growing(Fraction(1), Fraction(index % 10 + 1, 100)))
    ]


def openmetrics(series: Iterable[Series]) -> str:
    """OpenMetrics text: each family together under its HELP and TYPE, each series in time order, `# EOF`."""
    families: dict[str, list[Series]] = {}
    for one in series:
        families.setdefault(one.name, []).append(one)
    lines = []
    for name, members in families.items():
        lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} gauge"]
        for member in members:
            lines += [f"{member.selector()} {value!r} {t}" for t, value in member.samples]
    return "\n".join([*lines, "# EOF", ""])


def create_blocks(series: Iterable[Series], data_dir: Path) -> None:
    """Write `series` as TSDB blocks into `data_dir` (a Prometheus data directory, before it starts)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    text = data_dir.parent / f"{data_dir.name}.om"
    text.write_text(openmetrics(series))
    promtool("tsdb", "create-blocks-from", "openmetrics", f"--max-block-duration={MAX_BLOCK_DURATION}", text, data_dir)


@dataclass(frozen=True)
class History:
    """A Prometheus serving backfilled `series` whose last samples are at `end`."""

    prometheus: Prometheus
    end: int
    series: list[Series]

    def find(self, name: str, organization: str) -> Series:
        found = [s for s in self.series if s.name == name and ("organization", organization) in s.labels]
        assert len(found) == 1, f"{len(found)} {name} of {organization}"
        return found[0]


@contextlib.contextmanager
def backfilled_prometheus(workdir: Path, series: Iterable[Series]) -> Iterator[Prometheus]:
    """A real Prometheus (scraping nothing) over `series`; its retention keeps 400 days."""
    data_dir = workdir / "data"
    create_blocks(series, data_dir)
    with Prometheus(workdir, data_dir=data_dir) as prometheus:
        yield prometheus
