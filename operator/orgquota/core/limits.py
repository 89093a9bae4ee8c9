"""The largest quotas Kubernetes holds exactly, and the check that a quota stays below them.

`resource.Quantity` keeps a value as a 64-bit integer times a power of ten; a larger value
falls back to arbitrary precision, and from there on the apiserver (measured on 1.37) is
inconsistent rather than strict: `8Ei` is stored as 9223372036854775807 without a word,
`1e1000` is stored as `10e999` (a quota no one can reach, so no quota), a ResourceQuota
with 10^26 pods is refused as "must be an integer" while `1e26` pods is accepted, and an
exponent like `1e2147483648` keeps the apiserver busy for over a minute. HRQs are custom
resources, so the apiserver stores whatever the operator writes, and HNC copies it into
ResourceQuotas. The operator therefore writes only values every reader gets exactly:

- CPU as 64-bit millicores (the unit of the scheduler and the kubelet): at most
  9223372036854775807m;
- memory and storage as 64-bit bytes: at most 9223372036854775807 (8Ei - 1);
- counts (pods, load balancers) whose milli-value is 64-bit, because that is how the
  apiserver checks that a count is whole: at most 9223372036854775.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from fractions import Fraction
from typing import Final

from orgquota.core.quantity import Quantity

INT64_MAX: Final = 2**63 - 1
MAX_PROJECTS_LIMIT: Final = 10_000
"""The largest projects limit the operator accepts; the catalog's overhead is checked against it."""


class Unit(StrEnum):
    MILLICORES = "millicores"
    BYTES = "bytes"
    COUNT = "count"


MAXIMUM: Final = {
    Unit.MILLICORES: Fraction(INT64_MAX, 1000),
    Unit.BYTES: Fraction(INT64_MAX),
    Unit.COUNT: Fraction(INT64_MAX // 1000),
}
_SPELLED: Final = {
    Unit.MILLICORES: f"{INT64_MAX}m (64-bit millicores)",
    Unit.BYTES: f"{INT64_MAX} (64-bit bytes)",
    Unit.COUNT: f"{INT64_MAX // 1000} (a count whose milli-value is 64-bit)",
}

HARD_UNITS: Final = {
    "requests.cpu": Unit.MILLICORES,
    "limits.cpu": Unit.MILLICORES,
    "requests.memory": Unit.BYTES,
    "limits.memory": Unit.BYTES,
    "requests.storage": Unit.BYTES,
    "pods": Unit.COUNT,
    "services.loadbalancers": Unit.COUNT,
}


def above_maximum(unit: Unit, value: Fraction) -> str | None:
    """Why `value` cannot be a quota in `unit`, or None if Kubernetes holds it exactly."""
    if value <= MAXIMUM[unit]:
        return None
    return f"above {_SPELLED[unit]}, the most Kubernetes holds exactly"


def hard_out_of_range(hard: Mapping[str, Quantity]) -> dict[str, str]:
    """The keys of an HRQ's `spec.hard` that Kubernetes cannot hold, each with why."""
    found = {}
    for key, quantity in hard.items():
        problem = above_maximum(HARD_UNITS[key], quantity.value)
        if problem:
            found[key] = f"{briefly(quantity)}, {problem}"
    return found


def briefly(quantity: Quantity) -> str:
    """A quantity as Kubernetes writes it, or its order of magnitude when that would be a wall of digits."""
    value = quantity.value
    if value < 10**30:
        return str(quantity)
    return f"about 10^{math.floor(math.log10(value.numerator) - math.log10(value.denominator))}"
