"""POST /webhook: signature on the raw bytes, ordering and duplicates, whom an event is about, and
what a Kubernetes failure answers. Organization writes go to the in-memory apiserver stand-in."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest.mock import ANY

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from orgquota.api.providers.stripe.webhook import TOLERANCE_SECONDS
from orgquota.core.annotations import PREFIX
from orgquota.kube.client import ORGANIZATION, KubeError
from tests.support.envelope import assert_data, assert_error
from tests.support.fake_kube import FakeKube
from tests.support.stripe_events import FIXTURE_PRICE, checkout_session, event, invoice, signature, subscription

HOOK = "/api/billing/webhook"
T0 = 1_900_000_000
ACME_ITEMS = [(FIXTURE_PRICE, 1), ("price_turbo_x1", 1)]  # pro-pool + 1 turbo-x1, as acme has


def post(client: TestClient, body: bytes, header: str | None = "") -> Any:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header or signature(body)
    return client.post(HOOK, content=body, headers=headers)


def updated(created: int, **kwargs: Any) -> bytes:
    kwargs.setdefault("organization", "acme")
    kwargs.setdefault("customer", "cus_456")
    return event("customer.subscription.updated", subscription("sub_123", ACME_ITEMS, **kwargs), created)


def counted(event_type: str, outcome: str) -> float:
    labels = {"provider": "stripe", "type": event_type, "outcome": outcome}
    return REGISTRY.get_sample_value("orgquota_webhook_events_total", labels) or 0.0


@pytest.mark.parametrize(
    "header",
    [
        None,  # no header
        signature(b"{}"),  # signs another body
        "t=1,v1=00",  # garbage
        "v1=abc",  # no timestamp
    ],
)
def test_an_unsigned_or_badly_signed_event_is_refused_and_writes_nothing(
    client: TestClient, orgs: FakeKube, header: str | None
) -> None:
    before = counted("unverified", "rejected")
    assert_error(post(client, updated(T0, cancel_at_period_end=True), header), 400)
    assert orgs.writes == []
    assert counted("unverified", "rejected") == before + 1


def test_a_wrong_secret_or_an_old_or_future_timestamp_is_refused(client: TestClient, orgs: FakeKube) -> None:
    body = updated(T0, cancel_at_period_end=True)
    assert_error(post(client, body, signature(body, secret="whsec_other")), 400)
    # Two seconds past the tolerance each way: a whole-second timestamp drops up to one second of the
    # time it was made at, and the request takes some more before the API reads its clock.
    assert_error(post(client, body, signature(body, timestamp=int(time.time()) - TOLERANCE_SECONDS - 2)), 400)
    future = signature(body, timestamp=int(time.time()) + TOLERANCE_SECONDS + 2)
    assert_error(post(client, body, future), 400, "timestamp is in the future")
    assert orgs.writes == []


def test_any_of_several_signatures_may_match_while_a_secret_is_rotated(client: TestClient) -> None:
    body = updated(T0, cancel_at_period_end=True)
    old, new = signature(body, secret="whsec_old"), signature(body)
    assert assert_data(post(client, body, f"{old},v1={new.split('v1=')[1]}"))["outcome"] == "applied"


def test_an_oversized_body_is_refused_unread(client: TestClient, orgs: FakeKube) -> None:
    assert_error(post(client, b"{" + b" " * (1 << 20) + b"}"), 413)
    assert orgs.writes == []


def test_the_signature_covers_the_raw_bytes(client: TestClient, orgs: FakeKube) -> None:
    body = updated(T0, cancel_at_period_end=True)
    reserialised = json.dumps(json.loads(body), indent=1).encode()  # same JSON, other bytes
    assert_error(post(client, reserialised, signature(body)), 400)
    assert orgs.writes == []


def test_cancel_then_a_duplicate_then_an_older_event(client: TestClient, orgs: FakeKube) -> None:
    body = updated(T0, cancel_at_period_end=True)
    answer = assert_data(post(client, body))
    assert answer["outcome"] == "applied"
    assert answer["changes"] == {
        PREFIX + "subscription": "canceling",
        PREFIX + "plan-name": "Pro Pool",  # what acme lacked of what the subscription says:
        PREFIX + "period-end": "2030-03-17T17:46:40Z",  # its name, and when it ends
        PREFIX + "provider-event-created": str(T0),
        PREFIX + "provider-event-id": ANY,  # the event\'s id: orders events of one second
    }
    assert assert_data(post(client, body))["outcome"] == "unchanged"  # the same delivery again
    assert assert_data(post(client, updated(T0 - 10)))["outcome"] == "unchanged"  # older: says active, changes nothing
    assert len(orgs.writes) == 1
    assert orgs.annotations("acme")[PREFIX + "subscription"] == "canceling"


def test_deleted_after_canceling_is_canceled(client: TestClient, orgs: FakeKube) -> None:
    assert_data(post(client, updated(T0, cancel_at_period_end=True)))
    deleted = event(
        "customer.subscription.deleted",
        subscription("sub_123", ACME_ITEMS, organization="acme", status="canceled"),
        T0 + 5,
    )
    assert assert_data(post(client, deleted))["changes"] == {
        PREFIX + "subscription": "canceled",
        PREFIX + "period-end": None,  # no period runs any more
        PREFIX + "provider-event-created": str(T0 + 5),
        PREFIX + "provider-event-id": ANY,  # the event\'s id: orders events of one second
    }
    assert orgs.annotations("acme")[PREFIX + "plan-id"] == "pro-pool"


def test_deleted_without_canceling_suspends_and_starts_the_clock(client: TestClient, orgs: FakeKube) -> None:
    deleted = event(
        "customer.subscription.deleted", subscription("sub_123", ACME_ITEMS, organization=None, status="canceled"), T0
    )
    changes = assert_data(post(client, deleted))["changes"]  # no metadata: found by provider-subscription-id
    assert changes[PREFIX + "subscription"] == "suspended"
    assert changes[PREFIX + "suspended-at"].endswith("Z")


def test_an_event_about_another_subscription_of_the_organization_changes_nothing(
    client: TestClient, orgs: FakeKube
) -> None:
    stale = event(
        "customer.subscription.deleted", subscription("sub_old", ACME_ITEMS, organization="acme", status="canceled"), T0
    )
    assert assert_data(post(client, stale))["outcome"] == "unchanged"
    assert orgs.writes == []


def test_a_failed_payment_of_a_subscription_the_organization_does_not_hold_changes_nothing(
    client: TestClient, orgs: FakeKube
) -> None:
    first = event("invoice.payment_failed", invoice("sub_never_started", "beta"), T0)
    assert assert_data(post(client, first))["outcome"] == "unchanged"
    assert orgs.writes == []


def test_payment_failed_is_past_due(client: TestClient, orgs: FakeKube) -> None:
    assert (
        assert_data(post(client, event("invoice.payment_failed", invoice("sub_123", None), T0)))["outcome"] == "applied"
    )
    assert orgs.annotations("acme")[PREFIX + "subscription"] == "past_due"
    assert (
        assert_data(post(client, event("invoice.paid", invoice("sub_123", "acme"), T0 + 1)))["outcome"] == "unchanged"
    )


def test_a_new_subscription_writes_plan_addons_and_ids(client: TestClient, orgs: FakeKube) -> None:
    orgs.annotate("beta", {PREFIX + "provider-customer-id": "cus_b"})  # beta's customer, of an earlier subscription
    body = event(
        "customer.subscription.created",
        subscription("sub_new", [("price_dev_pool", 1), ("price_turbo_x1", 3)], organization="beta", customer="cus_b"),
        T0,
    )
    assert assert_data(post(client, body))["outcome"] == "applied"
    annotations = orgs.annotations("beta")
    assert {k: v for k, v in annotations.items() if k.startswith(PREFIX)} == {
        PREFIX + "subscription": "active",
        PREFIX + "plan-id": "dev-pool",
        PREFIX + "plan-name": "Dev Pool",
        PREFIX + "provider-subscription-id": "sub_new",
        PREFIX + "provider-customer-id": "cus_b",
        PREFIX + "addons": '[{"addonId":"turbo-x1","quantity":3}]',
        PREFIX + "period-end": "2030-03-17T17:46:40Z",
        PREFIX + "provider-event-created": str(T0),
        PREFIX + "provider-event-id": ANY,  # the event\'s id: orders events of one second
    }


def test_a_completed_checkout_reads_its_subscription_from_stripe(client: TestClient, orgs: FakeKube) -> None:
    orgs.annotate("beta", {PREFIX + "checkout-session": "cs_test_1"})  # the session this API created for beta
    body = event("checkout.session.completed", checkout_session("cs_test_1", "sub_from_checkout", "beta"), T0)
    answer = assert_data(post(client, body))
    annotations = orgs.annotations("beta")
    # stripe-mock's subscription: pro-pool's price, active and set to cancel at the period's end
    assert answer["outcome"] == "applied"
    assert annotations[PREFIX + "plan-id"] == "pro-pool"
    assert annotations[PREFIX + "provider-subscription-id"] == "sub_from_checkout"
    assert annotations[PREFIX + "subscription"] == "canceling"


def test_unknown_organization_and_unknown_type_answer_200(client: TestClient, orgs: FakeKube) -> None:
    nobody = event("customer.subscription.updated", subscription("sub_x", ACME_ITEMS, organization="nobody"), T0)
    assert assert_data(post(client, nobody))["outcome"] == "unknown_organization"
    orphan = event("customer.subscription.updated", subscription("sub_x", ACME_ITEMS, organization=None), T0)
    assert assert_data(post(client, orphan))["outcome"] == "unknown_organization"
    assert assert_data(post(client, event("customer.created", {"id": "cus_1"}, T0)))["outcome"] == "ignored"
    assert orgs.writes == []


def test_a_price_no_setting_names_is_refused_for_a_retry(client: TestClient, orgs: FakeKube) -> None:
    body = event(
        "customer.subscription.updated", subscription("sub_123", [("price_unknown", 1)], organization="acme"), T0
    )
    refused = assert_error(post(client, body), 422)
    assert "price_unknown" in refused["error"]
    assert orgs.writes == []


def test_a_kubernetes_failure_answers_5xx_and_writes_nothing(client: TestClient, orgs: FakeKube) -> None:
    orgs.down = KubeError("GET", ORGANIZATION.path("acme", "acme"), 500, "etcd is down")
    before = counted("customer.subscription.updated", "error")
    assert_error(post(client, updated(T0, cancel_at_period_end=True)), 503)
    assert counted("customer.subscription.updated", "error") == before + 1
    orgs.down = None
    assert orgs.writes == []
    assert assert_data(post(client, updated(T0, cancel_at_period_end=True)))["outcome"] == "applied"  # Stripe's retry


def test_a_price_change_is_a_plan_change_and_an_item_change_is_an_addon_change(
    client: TestClient, orgs: FakeKube
) -> None:
    changed = subscription(
        "sub_123", [("price_dev_pool", 1), ("price_turbo_x1", 2)], organization="acme", customer="cus_456"
    )
    answer = assert_data(post(client, event("customer.subscription.updated", changed, T0)))
    assert answer["changes"] == {
        PREFIX + "plan-id": "dev-pool",
        PREFIX + "plan-name": "Dev Pool",
        PREFIX + "addons": '[{"addonId":"turbo-x1","quantity":2}]',
        PREFIX + "period-end": "2030-03-17T17:46:40Z",
        PREFIX + "provider-event-created": str(T0),
        PREFIX + "provider-event-id": ANY,  # the event\'s id: orders events of one second
    }
    assert orgs.annotations("acme")[PREFIX + "subscription"] == "active"


def test_unpaid_is_the_end_of_payment_and_starts_the_grace_clock(client: TestClient, orgs: FakeKube) -> None:
    """Every retry failed and Stripe marked the subscription unpaid (it sends no deletion then)."""
    changes = assert_data(post(client, updated(T0, status="unpaid")))["changes"]
    assert changes[PREFIX + "subscription"] == "suspended"
    assert changes[PREFIX + "suspended-at"].endswith("Z")
    paid = assert_data(post(client, updated(T0 + 60)))["changes"]  # the open invoice paid: active again
    assert paid[PREFIX + "subscription"] == "active"
    assert paid[PREFIX + "suspended-at"] is None
