"""Binding: the attacker's own Stripe events and checkouts, refused with nothing written.

acme holds subscription sub_123 of customer cus_456; beta has no plan and no customer. Every
attack below names its victim in the data Stripe lets anyone set (metadata, `client_reference_id`).
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from stripe.checkout._session_service import SessionService

from orgquota.core.annotations import PREFIX
from tests.support.envelope import assert_data, assert_error
from tests.support.fake_kube import FakeKube
from tests.support.oidc import Issuer
from tests.support.stripe_events import FIXTURE_PRICE, checkout_session, event, signature, subscription

HOOK = "/api/billing/webhook"
T0 = 1_900_000_000
ITEMS = [(FIXTURE_PRICE, 1)]


def post(client: TestClient, body: bytes) -> Any:
    return client.post(
        HOOK, content=body, headers={"Content-Type": "application/json", "Stripe-Signature": signature(body)}
    )


def not_bound(event_type: str) -> float:
    labels = {"provider": "stripe", "type": event_type, "outcome": "not_bound"}
    return REGISTRY.get_sample_value("orgquota_webhook_events_total", labels) or 0.0


def refused(client: TestClient, orgs: FakeKube, event_type: str, obj: dict[str, Any]) -> str:
    """The event is answered 200 `not_bound`, counted, and writes nothing; the reason given."""
    before = not_bound(event_type)
    answer = assert_data(post(client, event(event_type, obj, T0)))
    assert answer["outcome"] == "not_bound", answer
    assert orgs.writes == []
    assert not_bound(event_type) == before + 1
    reason: str = answer["reason"]
    return reason


def test_another_organizations_subscription_is_not_moved_by_its_metadata(client: TestClient, orgs: FakeKube) -> None:
    stolen = subscription("sub_123", ITEMS, organization="beta", customer="cus_456")  # acme's, naming beta
    assert "is organization acme's" in refused(client, orgs, "customer.subscription.updated", stolen)
    assert PREFIX + "provider-subscription-id" not in orgs.annotations("beta")


def test_another_customer_does_not_overwrite_the_organizations(client: TestClient, orgs: FakeKube) -> None:
    other = subscription("sub_evil", ITEMS, organization="acme", customer="cus_evil")
    assert "customer cus_evil is not the organization's (cus_456)" in refused(
        client, orgs, "customer.subscription.created", other
    )
    assert orgs.annotations("acme")[PREFIX + "provider-customer-id"] == "cus_456"


def test_a_dashboard_subscription_for_an_organization_without_customer_binds_nothing(
    client: TestClient, orgs: FakeKube
) -> None:
    made = subscription("sub_dash", ITEMS, organization="beta", customer="cus_someone")
    assert "no Stripe customer yet" in refused(client, orgs, "customer.subscription.created", made)


def test_a_payment_link_naming_the_victim_binds_nothing(client: TestClient, orgs: FakeKube) -> None:
    """A Payment Link opened with `?client_reference_id=beta`: a completed session this API never created."""
    session = {**checkout_session("cs_link", "sub_link", "beta"), "metadata": {}}
    assert "no Stripe customer yet" in refused(client, orgs, "checkout.session.completed", session)
    # and for acme, which has a customer: stripe-mock's subscription is another customer's
    session = {**checkout_session("cs_link", "sub_link", "acme"), "metadata": {}}
    assert "is not the organization's (cus_456)" in refused(client, orgs, "checkout.session.completed", session)


def test_a_second_live_subscription_of_the_same_customer_is_not_taken(client: TestClient, orgs: FakeKube) -> None:
    second = subscription("sub_second", ITEMS, organization="acme", customer="cus_456")
    assert "holds another live subscription (sub_123)" in refused(client, orgs, "customer.subscription.created", second)
    orgs.annotate("acme", {PREFIX + "subscription": "canceled"})  # once the first has ended, a new one is taken
    assert assert_data(post(client, event("customer.subscription.created", second, T0)))["outcome"] == "applied"


def admin_of(issuer: Issuer, org: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issuer.token(org=org, groups=["org-admin"])}


def test_the_checkout_this_api_created_binds_the_organization(
    client: TestClient, orgs: FakeKube, issuer: Issuer
) -> None:
    started = assert_data(
        client.post(
            "/api/billing/organization-subscription", json={"planId": "pro-pool"}, headers=admin_of(issuer, "beta")
        )
    )
    assert orgs.annotations("beta")[PREFIX + "checkout-session"] == started["sessionId"]
    completed = checkout_session(started["sessionId"], "sub_from_checkout", "beta")
    assert assert_data(post(client, event("checkout.session.completed", completed, T0)))["outcome"] == "applied"
    assert orgs.annotations("beta")[PREFIX + "provider-subscription-id"] == "sub_from_checkout"


@pytest.fixture
def expired(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Checkout Sessions the API expires (stripe-mock still checks each call)."""
    seen: list[str] = []
    real_expire = SessionService.expire_async

    async def expire(self: SessionService, session_id: str, *args: Any, **kwargs: Any) -> stripe.checkout.Session:
        seen.append(session_id)
        return await real_expire(self, session_id, *args, **kwargs)

    monkeypatch.setattr(SessionService, "expire_async", expire)
    return seen


def test_two_checkouts_at_once_record_one_and_expire_the_other(
    client: TestClient, orgs: FakeKube, issuer: Issuer, expired: list[str]
) -> None:
    # the other checkout records its session between this one's read and its write
    orgs.before_next_write(lambda: orgs.annotate("beta", {PREFIX + "checkout-session": "cs_other"}))
    body = {"planId": "pro-pool"}
    answer = assert_error(
        client.post("/api/billing/organization-subscription", json=body, headers=admin_of(issuer, "beta")), 409
    )
    assert answer["details"] == {"organization": "beta", "sessionId": "cs_other"}
    assert orgs.annotations("beta")[PREFIX + "checkout-session"] == "cs_other"
    assert len(expired) == 1
    assert expired[0] != "cs_other"  # its own session can no longer complete
    # a checkout started later expires the open one before it records its own
    started = assert_data(
        client.post("/api/billing/organization-subscription", json=body, headers=admin_of(issuer, "beta"))
    )
    assert expired[1] == "cs_other"
    assert orgs.annotations("beta")[PREFIX + "checkout-session"] == started["sessionId"]


@pytest.mark.parametrize("name", ["../kube-system/organizations/acme", "ACME", "acme?watch=1", "a" * 64, " "])
def test_an_organization_name_that_is_no_dns_label_never_reaches_an_apiserver_path(
    client: TestClient, orgs: FakeKube, name: str
) -> None:
    obj = subscription("sub_x", ITEMS, organization=name, customer="cus_456")
    assert (
        assert_data(post(client, event("customer.subscription.updated", obj, T0)))["outcome"] == "unknown_organization"
    )
    link = {**checkout_session("cs_x", "sub_x", "acme"), "metadata": {}, "client_reference_id": name}
    assert assert_data(post(client, event("checkout.session.completed", link, T0)))["outcome"] == "unknown_organization"
    assert orgs.writes == []


def test_a_kubernetes_failure_while_recording_the_checkout_expires_its_session(
    client: TestClient, orgs: FakeKube, issuer: Issuer, expired: list[str]
) -> None:
    orgs.fail("PATCH", "/apis/kube-dc.com/v1/namespaces/beta/organizations/beta", 500)
    body = {"planId": "pro-pool"}
    refused = assert_error(
        client.post("/api/billing/organization-subscription", json=body, headers=admin_of(issuer, "beta")), 503
    )
    assert "nothing was written" in refused["error"]
    assert len(expired) == 1  # a session nobody recorded can never bind: it cannot be paid either
    assert PREFIX + "checkout-session" not in orgs.annotations("beta")
