"""Which Stripe price sells which plan or add-on: the `STRIPE_PRICE_<ID>` settings, both ways.

`<ID>` is the catalog id upper-cased with `-` as `_` (`pro-pool` → `STRIPE_PRICE_PRO_POOL`). A plan or
add-on without a price of its own cannot be bought: nothing is ever sold at another item's price.
A setting that two catalog ids share, or a price id that two settings share, is ambiguous; those
items are not for sale and their prices map back to nothing, so a misconfiguration is refused
instead of guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from orgquota.api.providers.stripe.config import PRICE_PREFIX
from orgquota.core.catalog import Catalog
from orgquota.core.prices import Priced as PricedItem


def _in(currency: str | None) -> str:
    return f" in {currency}" if currency else ""


class Kind(StrEnum):
    PLAN = "plan"
    ADDON = "addon"


@dataclass(frozen=True)
class Priced:
    kind: Kind
    id: str
    currency: str | None = None
    """a currency other than the item's default (`STRIPE_PRICE_<ID>_<CURRENCY>`); None: the default price"""


def setting_key(item_id: str, currency: str | None = None) -> str:
    """The `<ID>` of `STRIPE_PRICE_<ID>` for a plan or add-on id (`<ID>_<CURRENCY>` for another currency)."""
    key = item_id.upper().replace("-", "_")
    return f"{key}_{currency}" if currency else key


def setting_name(item_id: str, currency: str | None = None) -> str:
    return PRICE_PREFIX + setting_key(item_id, currency)


def _sold(kind: Kind, item_id: str, item: PricedItem) -> list[Priced]:
    """The item at its default price, and in each other currency the catalog prices it in."""
    return [Priced(kind, item_id)] + [Priced(kind, item_id, c) for c in item.amounts() if c != item.currency]


class PriceBook:
    """The prices of the catalog's plans and add-ons under the given settings (`<ID>` → price id)."""

    def __init__(self, prices: Mapping[str, str], catalog: Catalog) -> None:
        items = [sold for plan_id, plan in catalog.plans.items() for sold in _sold(Kind.PLAN, plan_id, plan)]
        items += [sold for addon_id, addon in catalog.addons.items() for sold in _sold(Kind.ADDON, addon_id, addon)]
        by_key: dict[str, list[Priced]] = {}
        for item in items:
            by_key.setdefault(setting_key(item.id, item.currency), []).append(item)
        self.problems: list[str] = []
        """why some items are not for sale although a price is set (ambiguous settings)"""
        price_of: dict[Priced, str] = {}
        for key, sharing in by_key.items():
            price = prices.get(key)
            if price is None:
                continue
            if len(sharing) > 1:
                names = ", ".join(f"{item.kind.value} {item.id!r}{_in(item.currency)}" for item in sharing)
                self.problems.append(f"{PRICE_PREFIX}{key} would price {names}: rename one of them")
                continue
            price_of[sharing[0]] = price
        owners: dict[str, list[Priced]] = {}
        for item, price in price_of.items():
            owners.setdefault(price, []).append(item)
        for price, sharing in owners.items():
            if len(sharing) > 1:
                names = ", ".join(setting_name(item.id, item.currency) for item in sharing)
                self.problems.append(f"{names} are the same price {price!r}: each item needs a price of its own")
                for item in sharing:
                    del price_of[item]
        self._price_of: Final = price_of
        self._item_of: Final = {price: item for item, price in price_of.items()}

    def price(self, item: Priced) -> str | None:
        """The price that sells `item` (None: it is not for sale)."""
        return self._price_of.get(item)

    def plan_price(self, plan_id: str) -> str | None:
        return self.price(Priced(Kind.PLAN, plan_id))

    def addon_price(self, addon_id: str) -> str | None:
        return self.price(Priced(Kind.ADDON, addon_id))

    def item_of(self, price_id: str) -> Priced | None:
        """The plan or add-on a Stripe price sells (None: none of the catalog's)."""
        return self._item_of.get(price_id)
