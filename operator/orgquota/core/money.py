"""Money: catalog prices are Decimals, and what is added up from them is exact, never rounded on the way."""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Inexact, InvalidOperation, Overflow
from typing import Final

EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, InvalidOperation, Overflow])
"""Decimal arithmetic without rounding: `EXACT.add`, `EXACT.subtract` and `EXACT.multiply` of prices are exact
(a result needs only the digits of its operands), and anything that would round raises instead."""
