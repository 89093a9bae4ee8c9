"""Billing facts as the property tests draw them: any fact on any state of an Organization's
annotations, at one fixed time, and a patch applied as the apiserver applies a merge patch."""

from __future__ import annotations

from datetime import UTC, datetime

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
)
from tests.support.fake_kube import merge_patch

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def applied(current: dict[str, str], patch: dict[str, str | None]) -> dict[str, str]:
    """`current` annotations after the merge patch `patch` of them (None removes one)."""
    return dict(merge_patch(current, patch))


ids = st.sampled_from(["pro-pool", "dev-pool", "scale-pool"])
addon_lists = st.lists(
    st.builds(AddonRequest, st.sampled_from(["turbo-x1", "turbo-x2"]), st.integers(1, 5)), max_size=3
).map(tuple)
facts: st.SearchStrategy[BillingFact] = st.one_of(
    st.builds(
        Subscribed,
        plan_id=ids,
        plan_name=st.text(max_size=8),
        subscription_id=st.sampled_from(["sub_1", "sub_2"]),
        customer_id=st.sampled_from(["cus_1", "cus_2"]),
        addons=addon_lists,
        trialing=st.booleans(),
    ),
    st.just(CancelRequested()),
    st.just(PaymentFailed()),
    st.just(Ended()),
    st.builds(PlanChanged, ids, st.text(max_size=8)),
    st.builds(PlanChanged, ids, st.text(max_size=8), addon_lists),
    st.just(Terminated()),
    st.just(Renewed()),
)
states = st.fixed_dictionaries(
    {},
    optional={
        ann.SUBSCRIPTION: st.sampled_from(["active", "trialing", "canceling", "past_due", "suspended", "canceled"]),
        ann.PLAN_ID: ids,
        ann.SUSPENDED_AT: st.just("2026-11-01T00:00:00Z"),
        ann.PROVIDER_EVENT_CREATED: st.integers(0, 100).map(str),
    },
)
