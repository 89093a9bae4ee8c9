"""The one state machine of billing facts: the table of what each fact writes, order and duplicates."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orgquota.core import annotations as ann
from orgquota.core.annotations import AddonRequest
from orgquota.core.billing_facts import (
    BillingFact,
    CancelRequested,
    Ended,
    PaymentFailed,
    PlanChanged,
    Renewed,
    Subscribed,
    Terminated,
    addons_annotation,
    apply_fact,
)
from tests.support.billing_facts import NOW, applied, facts, states

PAID = Subscribed("pro-pool", "Pro Pool", "sub_1", "cus_1", (AddonRequest("turbo-x1", 1),))
ACTIVE = {
    ann.PLAN_ID: "pro-pool",
    ann.PLAN_NAME: "Pro Pool",
    ann.SUBSCRIPTION: "active",
    ann.PROVIDER_SUBSCRIPTION_ID: "sub_1",
    ann.PROVIDER_CUSTOMER_ID: "cus_1",
    ann.ADDONS: '[{"addonId":"turbo-x1","quantity":1}]',
    ann.PROVIDER_EVENT_CREATED: "1000",
}


def test_subscribed_writes_the_plan_and_the_provider_ids_and_ends_a_suspension() -> None:
    current = {ann.SUBSCRIPTION: "suspended", ann.SUSPENDED_AT: "2026-11-01T00:00:00Z"}
    assert apply_fact(current, PAID, created=1000, now=NOW) == {**ACTIVE, ann.SUSPENDED_AT: None}


def test_a_trialing_subscription_is_written_as_trialing() -> None:
    trial = Subscribed("pro-pool", "Pro Pool", "sub_1", "cus_1", trialing=True)
    assert apply_fact({}, trial, created=None, now=NOW)[ann.SUBSCRIPTION] == "trialing"


def test_cancel_request_keeps_the_plan() -> None:
    assert apply_fact(ACTIVE, CancelRequested(), created=1001, now=NOW) == {
        ann.SUBSCRIPTION: "canceling",
        ann.PROVIDER_EVENT_CREATED: "1001",
    }


def test_payment_failure_is_past_due_with_the_plan_kept() -> None:
    assert apply_fact(ACTIVE, PaymentFailed(), created=1001, now=NOW) == {
        ann.SUBSCRIPTION: "past_due",
        ann.PROVIDER_EVENT_CREATED: "1001",
    }


def test_end_of_a_canceling_subscription_is_canceled() -> None:
    canceling = {**ACTIVE, ann.SUBSCRIPTION: "canceling"}
    assert apply_fact(canceling, Ended(), created=1002, now=NOW) == {
        ann.SUBSCRIPTION: "canceled",
        ann.PROVIDER_EVENT_CREATED: "1002",
    }


def test_end_of_a_subscription_nobody_canceled_starts_the_grace_clock() -> None:
    assert apply_fact(ACTIVE, Ended(), created=1002, now=NOW) == {
        ann.SUBSCRIPTION: "suspended",
        ann.SUSPENDED_AT: "2026-11-29T12:00:00Z",
        ann.PROVIDER_EVENT_CREATED: "1002",
    }


def test_a_second_end_does_not_restart_the_grace_clock() -> None:
    suspended = {**ACTIVE, ann.SUBSCRIPTION: "suspended", ann.SUSPENDED_AT: "2026-11-01T00:00:00Z"}
    assert apply_fact(suspended, Ended(), created=2000, now=NOW) == {ann.PROVIDER_EVENT_CREATED: "2000"}


def test_an_ended_subscription_is_not_revived_by_a_late_failure_or_cancel_request() -> None:
    canceled = {**ACTIVE, ann.SUBSCRIPTION: "canceled"}
    assert apply_fact(canceled, PaymentFailed(), created=2000, now=NOW) == {ann.PROVIDER_EVENT_CREATED: "2000"}
    assert apply_fact(canceled, CancelRequested(), created=2000, now=NOW) == {ann.PROVIDER_EVENT_CREATED: "2000"}


def test_plan_change_writes_plan_id_and_name_only() -> None:
    assert apply_fact(ACTIVE, PlanChanged("dev-pool", "Dev Pool"), created=1003, now=NOW) == {
        ann.PLAN_ID: "dev-pool",
        ann.PLAN_NAME: "Dev Pool",
        ann.PROVIDER_EVENT_CREATED: "1003",
    }


def test_plan_change_with_addons_writes_them_too() -> None:
    change = PlanChanged("dev-pool", "Dev Pool", (AddonRequest("turbo-x2", 2),))
    assert apply_fact(ACTIVE, change, created=1003, now=NOW) == {
        ann.PLAN_ID: "dev-pool",
        ann.PLAN_NAME: "Dev Pool",
        ann.ADDONS: '[{"addonId":"turbo-x2","quantity":2}]',
        ann.PROVIDER_EVENT_CREATED: "1003",
    }
    assert apply_fact(ACTIVE, PlanChanged("pro-pool", "Pro Pool", ()), created=1003, now=NOW) == {
        ann.ADDONS: "[]",
        ann.PROVIDER_EVENT_CREATED: "1003",
    }


def test_termination_cancels_and_forgets_the_plan_and_the_provider_ids() -> None:
    assert apply_fact(ACTIVE, Terminated(), created=None, now=NOW) == {
        ann.SUBSCRIPTION: "canceled",
        ann.PLAN_ID: None,
        ann.PLAN_NAME: None,
        ann.PROVIDER_SUBSCRIPTION_ID: None,
        ann.PROVIDER_CUSTOMER_ID: None,
    }


def test_renewal_writes_only_the_ordering_mark() -> None:
    assert apply_fact(ACTIVE, Renewed(), created=5000, now=NOW) == {ann.PROVIDER_EVENT_CREATED: "5000"}
    assert apply_fact(ACTIVE, Renewed(), created=None, now=NOW) == {}


def test_a_fact_older_than_the_last_applied_changes_nothing() -> None:
    assert apply_fact(ACTIVE, Ended(), created=999, now=NOW) == {}


def test_within_a_second_messages_are_ordered_by_their_id() -> None:
    seen = {**ACTIVE, ann.PROVIDER_EVENT_ID: "evt_b"}
    assert apply_fact(seen, Ended(), created=1000, now=NOW, event_id="evt_a") == {}  # sorts before: stale
    assert apply_fact(seen, Ended(), created=1000, now=NOW, event_id="evt_b") == {}  # the same: a duplicate
    assert apply_fact(seen, Ended(), created=1000, now=NOW, event_id="evt_c") == {
        ann.SUBSCRIPTION: "suspended",
        ann.SUSPENDED_AT: "2026-11-29T12:00:00Z",
        ann.PROVIDER_EVENT_ID: "evt_c",
    }


def test_an_end_the_provider_says_was_asked_for_is_canceled_whatever_arrived_first() -> None:
    assert apply_fact(ACTIVE, Ended(requested=True), created=1002, now=NOW)[ann.SUBSCRIPTION] == "canceled"


def test_a_fact_without_provider_time_does_not_move_the_ordering_mark() -> None:
    assert apply_fact(ACTIVE, CancelRequested(), created=None, now=NOW) == {ann.SUBSCRIPTION: "canceling"}


def test_addons_have_one_spelling_whatever_the_order_or_repetition() -> None:
    text = addons_annotation([AddonRequest("b", 1), AddonRequest("a", 2), AddonRequest("b", 2)])
    assert text == '[{"addonId":"a","quantity":2},{"addonId":"b","quantity":3}]'


def test_addons_spelled_otherwise_but_equal_are_not_rewritten() -> None:
    spaced = {**ACTIVE, ann.ADDONS: '[ {"addonId": "turbo-x1", "quantity": 1} ]'}
    assert apply_fact(spaced, PAID, created=None, now=NOW) == {}


@given(states, facts, st.integers(0, 200) | st.none(), st.sampled_from(["", "evt_1"]))
def test_a_duplicate_delivery_changes_nothing(
    current: dict[str, str], fact: BillingFact, created: int | None, event_id: str
) -> None:
    once = applied(current, apply_fact(current, fact, created=created, now=NOW, event_id=event_id))
    assert apply_fact(once, fact, created=created, now=NOW, event_id=event_id) == {}


@given(states, facts, st.integers(0, 200))
def test_an_older_fact_never_writes(current: dict[str, str], fact: BillingFact, created: int) -> None:
    last = int(current.get(ann.PROVIDER_EVENT_CREATED, "-1"))
    patch = apply_fact(current, fact, created=created, now=NOW)
    if created < last:
        assert patch == {}
    elif ann.PROVIDER_EVENT_CREATED in patch:
        assert patch[ann.PROVIDER_EVENT_CREATED] == str(created)
