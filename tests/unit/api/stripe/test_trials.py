"""Trials with Stripe: the checkout sets the catalog's trial, `trialing` grants the plan, `trial_will_end` records
the end, and a trial that ends unpaid (`paused`, `unpaid`, `incomplete` after a trial) gives the floor."""

from __future__ import annotations

from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from stripe.params.checkout import SessionCreateParams

from orgquota.api.cluster import Cluster
from orgquota.api.providers.stripe.checkout import offer_trial
from orgquota.core import annotations as ann
from orgquota.core.prices import Trial
from tests.support.api_cluster import CATALOG_TEXT, configmap
from tests.support.envelope import assert_data
from tests.support.fake_kube import FakeKube
from tests.support.stripe_events import FIXTURE_PRICE, event, signature, subscription

HOOK = "/api/billing/webhook"
T0 = 1_900_000_000
TRIAL_END = T0 + 14 * 86400
ITEMS = [(FIXTURE_PRICE, 1), ("price_turbo_x1", 1)]


def deliver(client: TestClient, event_type: str, created: int, **fields: Any) -> str:
    obj = subscription("sub_123", ITEMS, organization="acme", customer="cus_456", status=fields.pop("status"))
    body = event(event_type, obj | fields, created)
    answer = client.post(HOOK, content=body, headers={"Stripe-Signature": signature(body)})
    return str(assert_data(answer)["outcome"])


def test_checkout_sets_the_catalogs_trial_once() -> None:
    params = cast(SessionCreateParams, {"subscription_data": {}})
    offer_trial(params, Trial(days=14), {})
    assert params == {
        "subscription_data": {
            "trial_period_days": 14,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
        },
        "payment_method_collection": "if_required",
    }
    with_card = cast(SessionCreateParams, {"subscription_data": {}})
    offer_trial(with_card, Trial(days=7, requiresPaymentMethod=True), {})
    assert with_card == {"subscription_data": {"trial_period_days": 7}}
    used = cast(SessionCreateParams, {"subscription_data": {}})
    offer_trial(used, Trial(days=7), {ann.TRIAL_ENDS_AT: "2026-01-01T00:00:00Z"})
    assert used == {"subscription_data": {}}  # one trial per organization, ever


def test_stripe_accepts_the_trial_checkout(client: TestClient, cluster: Cluster, issuer: Any) -> None:
    text = CATALOG_TEXT.replace("price: 49\n    currency: EUR", "price: 49\n    currency: EUR\n    trial: {days: 14}")
    cluster.catalog.live.replace([configmap(cluster.settings.catalog_name, text)])
    headers = {"Authorization": "Bearer " + issuer.token(org="beta", groups=["org-admin"])}
    answer = assert_data(
        client.post("/api/billing/organization-subscription", json={"planId": "dev-pool"}, headers=headers)
    )
    assert answer["sessionId"].startswith("cs_")  # stripe-mock checks the parameters against Stripe's API


@pytest.mark.parametrize("ending", ["paused", "unpaid", "incomplete", "incomplete_expired"])
def test_trialing_grants_the_plan_and_a_trial_ended_unpaid_gives_the_floor(
    client: TestClient, orgs: FakeKube, ending: str
) -> None:
    assert deliver(client, "customer.subscription.updated", T0, status="trialing", trial_end=TRIAL_END) == "applied"
    stored = orgs.annotations("acme")
    assert (stored[ann.SUBSCRIPTION], stored[ann.PLAN_ID], stored[ann.TRIAL_ENDS_AT]) == (
        "trialing",
        "pro-pool",
        "2030-03-31T17:46:40Z",
    )
    deliver(client, "customer.subscription.trial_will_end", T0 + 1, status="trialing", trial_end=TRIAL_END)
    assert orgs.annotations("acme")[ann.SUBSCRIPTION] == "trialing"
    deliver(client, "customer.subscription.updated", T0 + 2, status=ending, trial_end=TRIAL_END)
    after = orgs.annotations("acme")
    assert after[ann.SUBSCRIPTION] == "suspended"  # the floor, then the grace period
    assert ann.SUSPENDED_AT in after
    assert after[ann.TRIAL_ENDS_AT] == "2030-03-31T17:46:40Z"


def test_incomplete_without_a_trial_changes_nothing_and_unpaid_without_one_ends_payment(
    client: TestClient, orgs: FakeKube
) -> None:
    deliver(client, "customer.subscription.updated", T0, status="incomplete", trial_end=None)
    assert orgs.annotations("acme")[ann.SUBSCRIPTION] == "active"  # a first payment not yet done sells nothing
    deliver(client, "customer.subscription.updated", T0 + 1, status="unpaid", trial_end=None)
    assert orgs.annotations("acme")[ann.SUBSCRIPTION] == "suspended"
