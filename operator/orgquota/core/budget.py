"""An organization's monthly budget: the annotation `billing.kube-dc.com/budget`, read and written exactly.

Written by the billing API (`PUT /budget`) as `{"monthly": "250", "currency": "USD"}` (the amount a
decimal string, never a float); the operator exports it (`orgquota_organization_budget`) so that
Prometheus can alert on the monthly cost against it, and the API refuses a purchase above it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

MAX_MONTHLY: Final = Decimal(10) ** 12
"""far above any real budget; keeps the figure a plain number in JSON and in Prometheus"""
MAX_PLACES: Final = 2
"""cents: a budget is money in major units"""


class BudgetError(ValueError):
    """A budget that must not be stored; the message says why in words a caller can act on."""


@dataclass(frozen=True)
class Budget:
    monthly: Decimal
    currency: str

    def annotation(self) -> str:
        return json.dumps({"monthly": str(self.monthly), "currency": self.currency}, separators=(",", ":"))

    def exceeded_by(self, cost: Decimal) -> bool:
        return cost > self.monthly


def monthly_amount(raw: Any) -> Decimal:
    """A positive decimal of at most two places (a JSON number read as Decimal, or a string)."""
    if isinstance(raw, bool) or not isinstance(raw, (Decimal, int, str)):
        raise BudgetError("monthly must be a positive decimal number, e.g. 300 or 249.50")
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise BudgetError("monthly must be a positive decimal number, e.g. 300 or 249.50") from exc
    if not amount.is_finite() or amount <= 0:
        raise BudgetError("monthly must be a positive decimal number, e.g. 300 or 249.50")
    if amount >= MAX_MONTHLY:
        raise BudgetError(f"monthly must be below {MAX_MONTHLY:,}")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES and amount != amount.quantize(Decimal("0.01")):
        raise BudgetError("monthly has more than two decimal places")
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount


def parse_budget(raw: str | None) -> Budget | None:
    """The budget an annotation holds; None when there is none or it cannot be read (no budget applies)."""
    if raw is None:
        return None
    try:
        data = json.loads(raw, parse_float=Decimal)
        if not isinstance(data, dict) or not isinstance(data.get("currency"), str) or not data["currency"]:
            return None
        return Budget(monthly_amount(data.get("monthly")), data["currency"])
    except (ValueError, RecursionError):
        return None
