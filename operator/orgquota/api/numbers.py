"""Quantities for people: exact until the answer is written, then cores and GiB as JSON numbers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Final

from orgquota.core.quantity import Quantity, QuantityError

GIB: Final = 1024**3
DIGITS: Final = 4

Number = int | float


def number(value: Fraction | Decimal | int) -> Number:
    """A whole number as an int, else a float rounded to 4 decimals (`10.3`, `28.375`, `0.1221`)."""
    exact = Fraction(value)
    if exact.denominator == 1:
        return exact.numerator
    return round(float(exact), DIGITS)


def parsed(raw: str | Quantity | None) -> Fraction:
    """The value of a quantity as Kubernetes writes it; 0 when absent or unreadable."""
    if raw is None:
        return Fraction(0)
    try:
        return Quantity.parse(raw).value
    except QuantityError:
        return Fraction(0)


def cores(value: Fraction) -> Number:
    return number(value)


def gib(value: Fraction) -> Number:
    return number(value / GIB)


PEOPLE_UNITS: Final[dict[str, Callable[[Fraction], Number]]] = {
    "cpu": cores,
    "memory": gib,
    "storage": gib,
    "pods": number,
    "loadBalancers": number,
}
"""how each usage figure is shown: cores, GiB, or a count"""


def price(value: Decimal | None) -> Decimal:
    """Money as it is: a Decimal, written exactly as a JSON number (`exact_json`); 0 when there is none."""
    return value if value is not None else Decimal(0)
