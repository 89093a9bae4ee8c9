"""Event ordering: every arrival order of a realistic Stripe sequence, duplicates included, ends in
the same state. Events are translated, decided and applied as the webhook does (`events`, the
webhook's decision, the one state machine), from an organization bound by its checkout."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from orgquota.api.providers.stripe import events
from orgquota.api.providers.stripe.binding import Claim
from orgquota.api.providers.stripe.prices import PriceBook
from orgquota.api.providers.stripe.webhook import about_this_subscription
from orgquota.api.providers.webhook import Settled
from orgquota.core import annotations as ann
from orgquota.core.billing_facts import apply_in_order
from orgquota.core.catalog import Catalog
from tests.support.billing_facts import NOW, applied
from tests.support.stripe_events import subscription

PRICES = {"PRO_POOL": "price_pro", "DEV_POOL": "price_dev", "TURBO_X1": "price_t1"}
T0 = 1_900_000_000
CHECKED_OUT = {  # what the confirmed checkout wrote (a person's confirmation: no ordering mark)
    ann.SUBSCRIPTION: "active",
    ann.PLAN_ID: "pro-pool",
    ann.PLAN_NAME: "Pro Pool",
    ann.PROVIDER_SUBSCRIPTION_ID: "sub_1",
    ann.PROVIDER_CUSTOMER_ID: "cus_1",
    ann.ADDONS: "[]",
}
Event = tuple[str, int, str, dict[str, Any]]
"""type, created, id, object"""


def sub(items: list[tuple[str, int]], status: str = "active", cancel: bool = False) -> dict[str, Any]:
    return subscription(
        "sub_1", items, organization="acme", status=status, cancel_at_period_end=cancel, customer="cus_1"
    )


SEQUENCE: list[Event] = [
    ("customer.subscription.created", T0, "evt_1Pa", sub([("price_pro", 1)])),
    # the same second: the plan changed to dev-pool with 2 turbo-x1 (ordered by id after the creation)
    ("customer.subscription.updated", T0, "evt_1Pb", sub([("price_dev", 1), ("price_t1", 2)])),
    ("customer.subscription.updated", T0 + 50, "evt_0Zc", sub([("price_dev", 1), ("price_t1", 2)], cancel=True)),
    ("customer.subscription.deleted", T0 + 90, "evt_0Ad", sub([("price_dev", 1), ("price_t1", 2)], "canceled", True)),
]
DUPLICATED = [*SEQUENCE, SEQUENCE[1], SEQUENCE[2]]  # Stripe delivers at least once


def deliver(current: dict[str, str], event: Event, book: PriceBook, catalog: Catalog) -> dict[str, str]:
    kind, created, event_id, obj = event
    subject = events.subject(kind, obj)
    facts = events.event_facts(kind, obj, book, catalog)

    def refused(reason: str) -> Settled:
        raise AssertionError(f"{event_id} not bound: {reason}")

    decide = about_this_subscription(Claim(subject.subscription_id, subject.session_id), facts, refused)
    return applied(current, apply_in_order(current, decide(current), created=created, now=NOW, event_id=event_id))


def final(order: Sequence[Event], book: PriceBook, catalog: Catalog) -> Mapping[str, str]:
    state = dict(CHECKED_OUT)
    for event in order:
        state = deliver(state, event, book, catalog)
    return state


@pytest.mark.parametrize("sequence", [SEQUENCE, DUPLICATED], ids=["each-once", "with-duplicates"])
def test_every_arrival_order_ends_in_the_same_state(catalog: Catalog, sequence: list[Event]) -> None:
    book = PriceBook(PRICES, catalog)
    expected = {
        **CHECKED_OUT,
        ann.SUBSCRIPTION: "canceled",  # it was set to end: canceled, never suspended, whatever came first
        ann.PLAN_ID: "dev-pool",
        ann.PLAN_NAME: "Dev Pool",
        ann.ADDONS: '[{"addonId":"turbo-x1","quantity":2}]',
        ann.PROVIDER_EVENT_CREATED: str(T0 + 90),
        ann.PROVIDER_EVENT_ID: "evt_0Ad",
    }
    orders = 0
    for order in itertools.permutations(sequence):
        assert final(order, book, catalog) == expected, [event_id for _, _, event_id, _ in order]
        orders += 1
    assert orders == {4: 24, 6: 720}[len(sequence)]


def test_a_stale_retry_of_the_same_second_does_not_undo_a_cancellation(catalog: Catalog) -> None:
    book = PriceBook(PRICES, catalog)
    canceling = ("customer.subscription.updated", T0, "evt_b", sub([("price_pro", 1)], cancel=True))
    stale = ("customer.subscription.updated", T0, "evt_a", sub([("price_pro", 1)]))  # same second, sorts before
    state = final([canceling, stale, canceling], book, catalog)
    assert state[ann.SUBSCRIPTION] == "canceling"
