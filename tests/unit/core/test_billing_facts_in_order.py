"""Several facts of one provider message, written as one patch (`apply_in_order`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orgquota.core import annotations as ann
from orgquota.core.billing_facts import (
    BillingFact,
    CancelRequested,
    PaymentFailed,
    Subscribed,
    apply_fact,
    apply_in_order,
)
from tests.support.billing_facts import NOW, applied, facts, states

PAID = Subscribed("pro-pool", "Pro Pool", "sub_1", "cus_1")
CANCELING = {
    ann.SUBSCRIPTION: "canceling",
    ann.PLAN_ID: "pro-pool",
    ann.PLAN_NAME: "Pro Pool",
    ann.PROVIDER_SUBSCRIPTION_ID: "sub_1",
    ann.PROVIDER_CUSTOMER_ID: "cus_1",
    ann.ADDONS: "[]",
    ann.PROVIDER_EVENT_CREATED: "4",
}


def test_paid_and_set_to_end_is_one_patch_that_ends_canceling() -> None:
    patch = apply_in_order({}, [PAID, CancelRequested()], created=5, now=NOW)
    assert patch[ann.SUBSCRIPTION] == "canceling"
    assert (patch[ann.PLAN_ID], patch[ann.PROVIDER_EVENT_CREATED]) == ("pro-pool", "5")


def test_facts_that_undo_each_other_write_only_the_mark() -> None:
    assert apply_in_order(CANCELING, [PAID, CancelRequested()], created=5, now=NOW) == {ann.PROVIDER_EVENT_CREATED: "5"}
    assert apply_in_order(CANCELING, [PAID, CancelRequested()], created=None, now=NOW) == {}


def test_a_past_due_subscription_keeps_its_plan() -> None:
    patch = apply_in_order({}, [PAID, PaymentFailed()], created=5, now=NOW)
    assert (patch[ann.SUBSCRIPTION], patch[ann.PLAN_ID]) == ("past_due", "pro-pool")


@given(states, st.lists(facts, max_size=3), st.integers(0, 200) | st.none())
def test_the_patch_is_where_the_facts_one_by_one_end(
    current: dict[str, str], sequence: list[BillingFact], created: int | None
) -> None:
    one_by_one = dict(current)
    for fact in sequence:  # one message's facts: the order of the message is checked once, for all
        one_by_one = applied(one_by_one, apply_fact(one_by_one, fact, created=None, now=NOW))
    together = applied(current, apply_in_order(current, sequence, created=created, now=NOW))
    marks = {ann.PROVIDER_EVENT_CREATED, ann.PROVIDER_EVENT_ID}
    last = int(current.get(ann.PROVIDER_EVENT_CREATED, "-1"))
    if (created is not None and created < last) or not sequence:
        assert together == current
    else:
        assert {k: v for k, v in together.items() if k not in marks} == {
            k: v for k, v in one_by_one.items() if k not in marks
        }
    # and delivering the same message again changes nothing
    assert apply_in_order(together, sequence, created=created, now=NOW) == {}
