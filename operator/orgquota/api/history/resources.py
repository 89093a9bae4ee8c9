"""The resources with history, in the units people read, and their usage and limit now.

Prometheus keeps base units (cores, bytes, counts); answers give cores, GiB and counts as §5 does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Final

from orgquota.api.numbers import DIGITS, GIB, Number, number
from orgquota.api.organization import OrgFacts
from orgquota.core.advice import RESOURCES
from orgquota.core.forecast import ResourceForecast
from orgquota.core.timestamps import format_rfc3339


def _as_is(value: float | Fraction) -> Number:
    """What `number` shows; Prometheus's floats without a Fraction each (a history has thousands of them)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, DIGITS)
    return number(value)


def _gib(value: float | Fraction) -> Number:
    return _as_is(value / GIB)  # exact for a float too: GIB is a power of two


def shown_points(resource: str, points: Sequence[tuple[float, float]]) -> list[list[Number]]:
    """A history's points as `[unixSeconds, value]` in the resource's unit, shown as `_as_is` shows one
    value; written out in one loop, as a call per point cost more than the rest of the answer."""
    scale = 1 / GIB if RESOURCE_UNITS[resource][1] is _gib else 1.0  # exact: a power of two
    return [
        [int(at), int(value) if (value := raw * scale).is_integer() else round(value, DIGITS)] for at, raw in points
    ]


RESOURCE_UNITS: Final[dict[str, tuple[str, Callable[[float | Fraction], Number]]]] = {
    "cpu": ("cores", _as_is),
    "memory": ("GiB", _gib),
    "storage": ("GiB", _gib),
    "pods": ("count", _as_is),
    "services_loadbalancers": ("count", _as_is),
    "public_ipv4": ("count", _as_is),
}
assert set(RESOURCE_UNITS) == set(RESOURCES)


USED: Final = "orgquota_organization_quota_used"
HARD: Final = "orgquota_organization_quota_hard"


def one_series(query: str) -> str:
    """One series per organization and resource: after a failover the same figures also come from
    the new leader's `instance`, and while both are fresh they agree, so the larger is the figure."""
    return f"max by (organization, resource) ({query})"


def promql_label(value: str) -> str:
    """A label value inside double quotes in PromQL (names are DNS labels already; escaped anyway)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def current(facts: OrgFacts, resource: str) -> tuple[Fraction, Fraction | None]:
    """(used, limit) now, in base units: HNC's count and the enforced HRQ (public IPv4: EIps and eipQuota)."""
    key = RESOURCES[resource]
    if key is None:
        ips = facts.public_ip_limit()
        return Fraction(facts.public_ips), None if ips is None else Fraction(ips)
    return facts.used(key), facts.limit(key)


def in_units(resource: str, result: ResourceForecast) -> dict[str, Any]:
    unit, shown = RESOURCE_UNITS[resource]

    def when(moment: Any) -> str | None:
        return None if moment is None else format_rfc3339(moment)

    return {
        "unit": unit,
        "used": shown(result.used),
        "limit": None if result.limit is None else shown(result.limit),
        "ratePerDay": None if result.rate_per_day is None else shown(result.rate_per_day),
        "runsOutAt": when(result.runs_out_at),
        "band": {"earliest": when(result.band.earliest), "latest": when(result.band.latest)},
        "fit": None if result.fit is None else round(result.fit, 4),
        "enoughHistory": result.enough_history,
    }
