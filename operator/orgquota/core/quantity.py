"""Exact Kubernetes quantities.

Quotas are money: `24Gi + 4Gi + 3 x 128Mi` must be `29056Mi`, not a float that rounds.
Values are kept as Fractions; the written form follows Kubernetes' own canonical rules
(the format of the left operand wins; binary suffixes while the value is a whole number
of bytes of at least 1024, decimal SI otherwise), so the apiserver would print the same.

`kubernetes.utils.parse_quantity` is exact too, but it forgets whether a value was written
with a binary or a decimal suffix, and that choice is what makes `29056Mi` canonical.
"""

from __future__ import annotations

import functools
import math
import re
import reprlib
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

_BINARY: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL: Final = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIX_BY_POWER: Final = {power: suffix for suffix, power in _BINARY.items()}
_DECIMAL_SUFFIX_BY_EXPONENT: Final = {exp: suffix for suffix, exp in _DECIMAL.items()}
_SYNTAX: Final = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))((?:[eE][+-]?[0-9]+)|[a-zA-Z]*)$")


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity."""


class Quantity:
    """An exact Kubernetes quantity; equality and order are by value, not by spelling."""

    __slots__ = ("_text", "binary", "plain", "value")

    value: Fraction
    binary: bool
    plain: bool
    """a count (pods, services): written as digits, `1000`, where Kubernetes would write `1k`"""
    _text: str | None

    def __init__(self, value: Fraction | int, *, binary: bool = False, plain: bool = False) -> None:
        self.value = Fraction(value)
        self.binary = binary
        self.plain = plain
        self._text = None

    @classmethod
    def count(cls, number: int) -> Quantity:
        return cls(number, plain=True)

    @classmethod
    def parse(cls, raw: str | int | Decimal | Quantity) -> Quantity:
        """Parse `raw` as Kubernetes does (`500m`, `1.5Gi`, `1e3`, `8`)."""
        if isinstance(raw, Quantity):
            return raw
        if isinstance(raw, bool):
            raise QuantityError(f"{shown(raw)} is not a quantity")
        if isinstance(raw, int | Decimal):
            try:
                number = Decimal(raw)
            except (ValueError, InvalidOperation) as exc:
                raise QuantityError(f"{shown(raw)} is not a quantity") from exc
            if not number.is_finite():
                raise QuantityError(f"{shown(raw)} is not a quantity")
            _within_magnitude(raw, number, 0)
            return cls(Fraction(number))
        if not isinstance(raw, str):
            raise QuantityError(f"{shown(raw)} is not a quantity")
        return _parse_text(raw)

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(self.value + other.value, binary=self.binary, plain=self.plain)

    def __mul__(self, factor: int | Fraction | Decimal) -> Quantity:
        return Quantity(self.value * Fraction(factor), binary=self.binary, plain=self.plain)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __lt__(self, other: Quantity) -> bool:
        return self.value < other.value

    def __le__(self, other: Quantity) -> bool:
        return self.value <= other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def ceil(self, unit: Fraction) -> Quantity:
        """Round up to a whole number of `unit`: a limit may grow by rounding, never shrink."""
        return Quantity(math.ceil(self.value / unit) * unit, binary=self.binary, plain=self.plain)

    def __str__(self) -> str:
        """The canonical spelling, worked out once: a Quantity is never changed in place, and every
        reconcile writes and compares the same few of the shared desired quotas (measured: Fraction
        arithmetic re-done 19 times per reconcile was a quarter of a reconcile that wrote nothing)."""
        if self._text is None:
            self._text = self._spelled()
        return self._text

    def _spelled(self) -> str:
        value = self.value
        if value == 0:
            return "0"
        if self.plain and value.denominator == 1:
            return str(value.numerator)
        if self.binary and abs(value) >= 1024 and value.denominator == 1:
            number, power = value.numerator, 0
            while number % 1024 == 0 and power < 6:
                number, power = number // 1024, power + 1
            return f"{number}{_BINARY_SUFFIX_BY_POWER.get(power, '')}"
        return _decimal_si(value)


def _decimal_si(value: Fraction) -> str:
    """The shortest `<integer><SI suffix>` spelling, as `10300m` for 10.3; finer than `n` is rounded up."""
    exponent = -9
    scaled = value * 10**9
    if scaled.denominator != 1:
        scaled = Fraction(math.ceil(scaled))
    number = scaled.numerator
    while number % 1000 == 0 and exponent < 18:
        number, exponent = number // 1000, exponent + 3
    return f"{number}{_DECIMAL_SUFFIX_BY_EXPONENT[exponent]}"


MAGNITUDE_LIMIT: Final = 4000
"""Powers of ten beyond which a text is not even expanded into an exact number: `1e999999999`
must not cost a gigabyte of digits (it keeps kube-apiserver busy for minutes). Quotas stop far
lower, near 10^19: that rule (`limits`) judges the values that pass here."""
MILLI: Final = Fraction(1, 1000)
BYTE: Final = Fraction(1)
MI: Final = 1024**2


@functools.lru_cache(maxsize=4096)
def _parse_text(raw: str) -> Quantity:
    """Parsing is cached: the same few spellings come back in every comparison of every object
    (Quantities are never changed in place, so one instance can serve them all)."""
    match = _SYNTAX.fullmatch(raw)  # as Kubernetes: " 8" or "8\n" is no quantity (a YAML slip must not pass)
    if not match:
        raise QuantityError(f"{shown(raw)} is not a quantity")
    digits, suffix = Decimal(match[1]), match[2]
    if suffix in _BINARY:
        exponent = 3 * _BINARY[suffix]  # 1024^p is within a factor 1.2^p of 10^3p
    elif suffix in _DECIMAL:
        exponent = _DECIMAL[suffix]
    elif suffix[:1] in ("e", "E") and len(suffix) <= 8:
        exponent = int(suffix[1:])
    elif suffix[:1] in ("e", "E"):
        raise QuantityError(f"{shown(raw)} is out of range (its exponent is far beyond 10^{MAGNITUDE_LIMIT})")
    else:
        raise QuantityError(f"{shown(raw)} is not a quantity (unknown suffix {suffix!r})")
    _within_magnitude(raw, digits, exponent)
    number = Fraction(digits)
    if suffix in _BINARY:
        return Quantity(number * 1024 ** _BINARY[suffix], binary=True)
    return Quantity(number * Fraction(10) ** exponent)


def _within_magnitude(raw: object, digits: Decimal, exponent: int) -> None:
    """Refuse `digits x 10^exponent` before it is expanded into an exact number, if it is absurd."""
    if digits and abs(digits.adjusted() + exponent) > MAGNITUDE_LIMIT:
        raise QuantityError(
            f"{shown(raw)} is out of range (beyond 10^{MAGNITUDE_LIMIT} or below 10^-{MAGNITUDE_LIMIT})"
        )


def shown(raw: object) -> str:
    """`raw` for a message, bounded: a YAML alias bomb in a catalog field is a few hundred bytes
    whose full repr is gigabytes (measured: 1.6 KB of YAML, a 722 MB message, 65 s)."""
    try:
        return _SHORT_REPR.repr(raw)
    except ValueError:  # an int beyond Python's 4300-digit conversion limit
        return f"<{type(raw).__name__} too long to show>"


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()  # Python 3.11: no keyword arguments yet
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict, short.maxset = 3, 4, 4, 4, 4
    short.maxstring, short.maxother, short.maxlong = 40, 40, 40
    return short


_SHORT_REPR: Final = _short_repr()
