"""What plans and add-ons cost, per currency, and the trial a plan offers: the catalog's money fields.

A price is an exact Decimal from the catalog's text (`"179.00"`, or a YAML number read as a Decimal),
never a float; it is bounded (`MAX_PRICE`) and has no more decimals than its currency settles.
`price`/`currency` are an item's default; `prices: {EUR: "179.00", USD: "199.00"}` add others.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    model_validator,
)

from orgquota.core.currencies import decimals
from orgquota.core.quantity import shown

MAX_PRICE: Final = Decimal(10) ** 12
"""a price must be below this (a trillion a month in any currency): far above a real one"""
MAX_TRIAL_DAYS: Final = 90


def amount(raw: Any) -> Decimal:
    """A price as written: a decimal string or a YAML number (already a Decimal), at least 0, below MAX_PRICE."""
    if isinstance(raw, bool) or not isinstance(raw, (str, Decimal, int)):
        raise ValueError(f'{shown(raw)} is not a decimal amount (write it as a string, e.g. "179.00")')
    try:
        value = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except InvalidOperation as exc:
        raise ValueError(f"{shown(raw)} is not a decimal amount") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"{shown(raw)} is not an amount of at least 0")
    if value >= MAX_PRICE:
        raise ValueError(f"{shown(raw)} is not below {MAX_PRICE:,}")
    return value


def currency_code(raw: str) -> str:
    if decimals(raw) is None:
        raise ValueError(f"{shown(raw)} is not an ISO 4217 currency code (e.g. USD, EUR, JPY)")
    return raw


def default_currency(raw: str) -> str:
    """An item's `currency`: empty (unpriced) or ISO 4217."""
    return raw and currency_code(raw)


Amount = Annotated[Decimal, PlainValidator(amount)]
Currency = Annotated[str, AfterValidator(currency_code)]


def settled(value: Decimal, currency: str) -> None:
    """ValueError when `value` has more decimals than its currency (`0.5` JPY, `1.005` EUR; `1.50` EUR is fine)."""
    places = decimals(currency)
    if places is not None and value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"{value} has more decimals than {currency} allows ({places})")


class Priced(BaseModel):
    """The money fields of a plan or an add-on."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    price: Amount | None = None
    """in `currency`, the default; None: not priced (negotiated, or free)"""
    currency: Annotated[str, AfterValidator(default_currency)] = ""
    """ISO 4217; empty only for an item without a price"""
    prices: dict[Currency, Amount] = Field(default_factory=dict)
    """the price in other currencies (the default's may be repeated, with the same amount)"""

    @model_validator(mode="after")
    def _settled(self) -> Priced:
        problems = []
        if self.price is not None and self.currency:
            try:
                settled(self.price, self.currency)
            except ValueError as exc:
                problems.append(f"price: {exc}")
            listed = self.prices.get(self.currency)
            if listed is not None and listed != self.price:
                problems.append(f"prices.{self.currency}: {listed} is not the price {self.price}")
        for currency, value in self.prices.items():
            try:
                settled(value, currency)
            except ValueError as exc:
                problems.append(f"prices.{currency}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def amounts(self) -> dict[str, Decimal]:
        """Every currency this item is sold in, with its price in it, as the catalog writes it."""
        listed = dict(self.prices)
        if self.price is not None and self.currency:
            listed[self.currency] = self.price
        return dict(sorted(listed.items()))

    def cost_in(self, currency: str | None) -> tuple[Decimal | None, str]:
        """What this item costs an organization paying in `currency`: its price there, else (not sold in it,
        or no currency yet) its default price and currency."""
        listed = self.amounts()
        if currency and currency in listed:
            return listed[currency], currency
        return self.price, self.currency

    def price_in(self, currency: str | None) -> tuple[Decimal | None, str]:
        """The price and currency to show: in `currency` when given and listed, else the default."""
        listed = self.amounts()
        if currency and currency in listed:
            return listed[currency], currency
        return listed.get(self.currency, self.price), self.currency


class Trial(BaseModel):
    """A plan's trial: `days` of the plan for free, once per organization."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: Annotated[StrictInt, Field(ge=1, le=MAX_TRIAL_DAYS)]
    requiresPaymentMethod: StrictBool = False
    """with a payment provider: the checkout asks for a card before the trial starts"""


def currency_problems(items: Mapping[str, Priced]) -> list[str]:
    """Sold items (`plans.x`, `addons.y`) must all be priced in the same currencies; unpriced ones are exempt.

    A currency one of them lacks would leave an organization paying in it unable to buy that item.
    """
    priced = {where: set(item.amounts()) for where, item in items.items() if item.amounts()}
    every = set().union(*priced.values()) if priced else set()
    return [
        f"{where}: no price in {', '.join(sorted(every - have))} "
        f"(every self-service plan and add-on is priced in the same currencies: {', '.join(sorted(every))})"
        for where, have in sorted(priced.items())
        if have != every
    ]
