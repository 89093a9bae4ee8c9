"""Stripe's objects → billing facts, and prices ↔ plans and add-ons (pure)."""

from __future__ import annotations

import pytest

from orgquota.api.providers.stripe.events import (
    Subject,
    UnmappedPrice,
    event_facts,
    subject,
    subscription_facts,
)
from orgquota.api.providers.stripe.prices import Kind, PriceBook, Priced, setting_name
from orgquota.core.annotations import AddonRequest
from orgquota.core.billing_facts import CancelRequested, Ended, PaymentFailed, PlanChanged, Renewed, Subscribed
from orgquota.core.catalog import Catalog
from tests.support.stripe_events import checkout_session, invoice, subscription

PRICES = {"PRO_POOL": "price_pro", "DEV_POOL": "price_dev", "TURBO_X1": "price_t1"}
END = "2030-03-17T17:46:40Z"
"""the fixture's period end (and `cancel_at` when set to cancel): 1,900,000,000 s"""
PRO = Subscribed("pro-pool", "Pro Pool", "sub_1", "cus_1", (AddonRequest("turbo-x1", 2),), period_end=END)
SOLD = PlanChanged("pro-pool", "Pro Pool", (AddonRequest("turbo-x1", 2),))
"""an ended subscription still says what it sold: its end is the same whatever arrived before it"""


@pytest.fixture
def book(catalog: Catalog) -> PriceBook:
    return PriceBook(PRICES, catalog)


def test_setting_names() -> None:
    assert setting_name("pro-pool") == "STRIPE_PRICE_PRO_POOL"
    assert setting_name("turbo-x1") == "STRIPE_PRICE_TURBO_X1"


def test_prices_map_both_ways(book: PriceBook) -> None:
    assert book.plan_price("pro-pool") == "price_pro"
    assert book.addon_price("turbo-x1") == "price_t1"
    assert book.plan_price("burst-pool") is None  # no setting: not for sale
    assert book.addon_price("turbo-x2") is None
    assert book.item_of("price_dev") == Priced(Kind.PLAN, "dev-pool")
    assert book.item_of("price_t1") == Priced(Kind.ADDON, "turbo-x1")
    assert book.item_of("price_other") is None
    assert book.problems == []


def test_a_price_shared_by_two_items_sells_neither(catalog: Catalog) -> None:
    book = PriceBook({"PRO_POOL": "price_x", "TURBO_X1": "price_x"}, catalog)
    assert (book.plan_price("pro-pool"), book.addon_price("turbo-x1"), book.item_of("price_x")) == (None, None, None)
    assert book.problems == [
        "STRIPE_PRICE_PRO_POOL, STRIPE_PRICE_TURBO_X1 are the same price 'price_x': each item needs a price of its own"
    ]


def test_a_setting_two_ids_share_prices_neither(catalog: Catalog) -> None:
    catalog.addons["pro_pool"] = catalog.addons["turbo-x1"]  # PRO_POOL names plan pro-pool and add-on pro_pool
    book = PriceBook(PRICES, catalog)
    assert book.plan_price("pro-pool") is None
    assert "STRIPE_PRICE_PRO_POOL would price plan 'pro-pool', addon 'pro_pool'" in book.problems[0]


def sub(status: str = "active", cancel: bool = False, items: list[tuple[str, int]] | None = None) -> dict[str, object]:
    items = items if items is not None else [("price_pro", 1), ("price_t1", 2)]
    return subscription(
        "sub_1", items, organization="acme", status=status, cancel_at_period_end=cancel, customer="cus_1"
    )


@pytest.mark.parametrize(
    ("status", "cancel", "facts"),
    [
        ("active", False, [PRO]),
        ("active", True, [PRO, CancelRequested(END)]),
        ("trialing", False, [Subscribed(**{**PRO.__dict__, "trialing": True})]),
        ("past_due", False, [PRO, PaymentFailed()]),
        ("unpaid", False, [SOLD, Ended()]),  # every retry failed: the end of payment, not a plan kept forever
        ("canceled", False, [SOLD, Ended()]),
        ("canceled", True, [SOLD, Ended(requested=True)]),  # it was set to end: canceled, not suspended
        ("incomplete_expired", False, [SOLD, Ended()]),
        ("paused", False, [SOLD, Ended()]),
        ("incomplete", False, []),
    ],
)
def test_a_subscription_is_translated_whole(
    book: PriceBook, catalog: Catalog, status: str, cancel: bool, facts: list[object]
) -> None:
    assert subscription_facts(sub(status, cancel), book, catalog) == facts


def test_a_price_no_setting_names_is_an_error(book: PriceBook, catalog: Catalog) -> None:
    with pytest.raises(UnmappedPrice, match="price_other"):
        subscription_facts(sub(items=[("price_pro", 1), ("price_other", 1)]), book, catalog)
    with pytest.raises(UnmappedPrice, match="2 plan prices"):
        subscription_facts(sub(items=[("price_pro", 1), ("price_dev", 1)]), book, catalog)
    with pytest.raises(UnmappedPrice, match="0 plan prices"):
        subscription_facts(sub(items=[("price_t1", 1)]), book, catalog)


def test_events_to_facts(book: PriceBook, catalog: Catalog) -> None:
    assert event_facts("customer.subscription.updated", sub(cancel=True), book, catalog) == [PRO, CancelRequested(END)]
    assert event_facts("customer.subscription.deleted", sub("canceled"), book, catalog) == [SOLD, Ended()]
    asked = {**sub("canceled"), "cancellation_details": {"reason": "cancellation_requested"}}
    assert event_facts("customer.subscription.deleted", asked, book, catalog) == [SOLD, Ended(requested=True)]
    unknown = sub("canceled", items=[("price_other", 1)])  # an end is applied even when its items are not ours
    assert event_facts("customer.subscription.deleted", unknown, book, catalog) == [Ended()]
    assert event_facts("invoice.payment_failed", invoice("sub_1", None), book, catalog) == [PaymentFailed()]
    assert event_facts("invoice.paid", invoice("sub_1", None), book, catalog) == [Renewed()]
    session = checkout_session("cs_1", "sub_1", "acme")
    assert event_facts("checkout.session.completed", session, book, catalog, sub()) == [PRO]
    assert event_facts("checkout.session.completed", {**session, "mode": "payment"}, book, catalog, sub()) == []
    assert event_facts("customer.created", {}, book, catalog) == []


def test_whom_an_event_is_about() -> None:
    assert subject("customer.subscription.updated", sub()) == Subject("acme", "sub_1")
    assert subject(
        "checkout.session.completed", {**checkout_session("cs_1", "sub_1", "acme"), "metadata": {}}
    ) == Subject("acme", "sub_1", "cs_1")
    assert subject("invoice.payment_failed", invoice("sub_1", "acme")) == Subject("acme", "sub_1")
    old_shape = {"subscription": {"id": "sub_2", "metadata": {"organization": "beta"}}}
    assert subject("invoice.payment_failed", old_shape) == Subject("beta", "sub_2")
    assert subject("customer.subscription.deleted", {"id": "sub_3", "metadata": {}}) == Subject(None, "sub_3")
