"""The cheapest add-ons to add so that a quota lasts: a small exact search, not a guess.

Add-ons only ever add quota, so whether a quota lasts can only go from no to yes as their quantities
grow. The search takes the add-ons in order; for each it finds by bisection the least quantity with
which the quota could still last (every later add-on at its most), then tries larger quantities only
while they cost less than the best combination found so far. What it skips either cannot last or
costs at least as much as something it kept, so the answer is the cheapest (on a tie, the first found:
fewest of the earlier add-ons). With prices > 0 the price of what is found first bounds every later
branch, which keeps the search to a few hundred checks for a catalog's handful of add-ons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from orgquota.core.money import EXACT


@dataclass(frozen=True)
class Offer:
    addon_id: str
    price: Decimal
    """monthly, > 0"""
    room: int
    """how many more of it may be held"""


def cheapest_addons(
    offers: Sequence[Offer],
    held: Mapping[str, int],
    lasting: Callable[[dict[str, int]], bool],
    below: Decimal | None = None,
) -> tuple[dict[str, int], Decimal] | None:
    """The quantities to add (by add-on id) and their monthly price: the cheapest with which `lasting(held + added)`
    holds, costing less than `below`; None when there is none."""
    best: tuple[dict[str, int], Decimal] | None = None

    def too_dear(cost: Decimal) -> bool:
        ceiling = below if best is None else best[1]
        return ceiling is not None and cost >= ceiling

    def could_last(index: int, added: Mapping[str, int]) -> bool:
        most = {**added, **{offer.addon_id: offer.room for offer in offers[index:]}}
        return lasting({addon_id: held.get(addon_id, 0) + most.get(addon_id, 0) for addon_id in {*held, *most}})

    def visit(index: int, added: dict[str, int], cost: Decimal) -> None:
        nonlocal best
        if too_dear(cost):
            return
        if index == len(offers):
            if could_last(index, added):
                best = (added, cost)
            return
        offer = offers[index]
        least = _least(lambda quantity: could_last(index + 1, {**added, offer.addon_id: quantity}), offer.room)
        for quantity in range(least, offer.room + 1) if least is not None else ():
            spent = EXACT.add(cost, EXACT.multiply(offer.price, quantity))
            if too_dear(spent):
                return  # more of this add-on only costs more, whatever the later ones need
            visit(index + 1, {**added, offer.addon_id: quantity}, spent)

    visit(0, {}, Decimal(0))
    if best is None:
        return None
    return {addon_id: quantity for addon_id, quantity in best[0].items() if quantity}, best[1]


def _least(holds: Callable[[int], bool], most: int) -> int | None:
    """The least quantity in 0..most for which `holds` (true from some quantity on), or None."""
    if most < 0 or not holds(most):
        return None
    low, high = 0, most
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return low
