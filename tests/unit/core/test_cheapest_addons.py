"""The cheapest add-ons to add: the search against every combination."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from orgquota.core.cheapest_addons import Offer, cheapest_addons


@st.composite
def addon_problems(draw: st.DrawFn) -> tuple[list[Offer], list[int], int, Decimal | None]:
    count = draw(st.integers(1, 3))
    offers = [Offer(f"a{i}", Decimal(draw(st.integers(1, 60))), draw(st.integers(0, 8))) for i in range(count)]
    amounts = [draw(st.integers(0, 6)) for _ in range(count)]
    below = draw(st.one_of(st.none(), st.integers(0, 300).map(Decimal)))
    return offers, amounts, draw(st.integers(0, 40)), below


@settings(max_examples=300, deadline=None)
@given(addon_problems(), st.integers(0, 3))
def test_the_addon_search_finds_the_cheapest_combination(
    problem: tuple[list[Offer], list[int], int, Decimal | None], already: int
) -> None:
    offers, amounts, need, below = problem
    amount = {offer.addon_id: each for offer, each in zip(offers, amounts, strict=True)}
    held = {offers[0].addon_id: already}

    def enough(addons: dict[str, int]) -> bool:
        return sum(amount[addon_id] * quantity for addon_id, quantity in addons.items()) >= need

    costs = [
        sum((offer.price * q for offer, q in zip(offers, combo, strict=True)), Decimal(0))
        for combo in itertools.product(*(range(offer.room + 1) for offer in offers))
        if enough({offer.addon_id: q + held.get(offer.addon_id, 0) for offer, q in zip(offers, combo, strict=True)})
    ]
    cheapest = min((cost for cost in costs if below is None or cost < below), default=None)
    found = cheapest_addons(offers, held, enough, below)
    if cheapest is None:
        assert found is None
    else:
        assert found is not None
        added, cost = found
        assert cost == cheapest
        assert cost == sum((o.price * added.get(o.addon_id, 0) for o in offers), Decimal(0))
        assert enough({a: held.get(a, 0) + added.get(a, 0) for a in {*held, *added}})
        assert all(0 < quantity <= o.room for o in offers if (quantity := added.get(o.addon_id, 0)))


def test_a_mix_can_be_cheaper_than_more_of_one() -> None:
    """10 cores from 2-core add-ons at 29.90 and 4-core ones at 55.15: 1 + 2 (140.20) beats 5 x 2 cores (149.50)."""
    offers = [Offer("two", Decimal("29.90"), 100), Offer("four", Decimal("55.15"), 100)]

    def cores(addons: dict[str, int]) -> bool:
        return 2 * addons.get("two", 0) + 4 * addons.get("four", 0) >= 10

    assert cheapest_addons(offers, {}, cores) == ({"two": 1, "four": 2}, Decimal("140.20"))
    assert cheapest_addons(offers, {}, cores, below=Decimal("140.20")) is None
    assert cheapest_addons(offers, {"four": 2}, cores) == ({"two": 1}, Decimal("29.90"))


def test_with_nothing_to_offer_only_what_is_held_counts() -> None:
    assert cheapest_addons([], {"x": 1}, lambda addons: addons.get("x") == 1) == ({}, Decimal(0))
    assert cheapest_addons([], {}, lambda addons: False) is None
