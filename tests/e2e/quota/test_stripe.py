"""Stripe event → billing annotations → the operator's HRQ, on the real apiserver and operator, with
the billing API's own calls to Stripe made against stripe-mock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from localcluster.kubectl import Cluster
from localcluster.stripe_mock import StripeMock
from orgquota.core.annotations import PREFIX
from tests.support.billing_api import BillingApi, start_billing_api
from tests.support.catalog import WORKED_EXAMPLE
from tests.support.oidc import Issuer
from tests.support.operator_process import OperatorProcess
from tests.support.orgs import Orgs
from tests.support.stripe_events import (
    FIXTURE_PRICE,
    SECRET_KEY,
    WEBHOOK_SECRET,
    checkout_session,
    deliver,
    event,
    invoice,
    signature,
    subscription,
)
from tests.support.waiting import assert_eq, eventually

PRICES = {
    "STRIPE_PRICE_PRO_POOL": "price_pro_pool",
    "STRIPE_PRICE_DEV_POOL": FIXTURE_PRICE,  # stripe-mock's subscriptions are on dev-pool
    "STRIPE_PRICE_TURBO_X1": "price_turbo_x1",
}


@pytest.fixture(scope="module")
def billing_api(
    cluster: Cluster,
    operator: OperatorProcess,
    issuer: Issuer,
    stripe_mock: StripeMock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BillingApi]:
    """`orgquota api` with BILLING_PROVIDER=stripe, beside the quota suite's operator, on stripe-mock."""
    env = {
        "BILLING_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_mock.api_base,
        "ORGQUOTA_LOG_LEVEL": "DEBUG",
        **PRICES,
    }
    api = start_billing_api(cluster, cluster.kubeconfig, issuer, tmp_path_factory.mktemp("billing-api"), env)
    yield api
    api.stop()
    print(f"billing API log: {api.log_path}")


def billing_of(orgs: Orgs, name: str) -> dict[str, Any]:
    org = orgs.get("organization", name, name)
    assert org is not None
    found: dict[str, Any] = org["metadata"].get("annotations") or {}
    return found


PRO_WITH_TURBO = [("price_pro_pool", 1), ("price_turbo_x1", 1)]
FLOOR_CPU = "500m"


CUSTOMER = "cus_test_1"


def customer_org(orgs: Orgs) -> str:
    """A new Organization whose Stripe customer is recorded (bound by an earlier subscription)."""
    return orgs.create({PREFIX + "provider-customer-id": CUSTOMER})


def created(api: BillingApi, org: str, subscription_id: str, when: int) -> bytes:
    """Deliver `customer.subscription.created` (pro-pool + 1 turbo-x1); the delivered body."""
    body = event(
        "customer.subscription.created",
        subscription(subscription_id, PRO_WITH_TURBO, organization=org, customer=CUSTOMER),
        when,
    )
    answer = deliver(api, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["outcome"] == "applied"
    return body


def version(orgs: Orgs, org: str) -> str:
    found = orgs.get("organization", org, org)
    assert found is not None
    return str(found["metadata"]["resourceVersion"])


def cpu(orgs: Orgs, org: str) -> str:
    return orgs.hard(org)["requests.cpu"]


def test_a_new_subscription_becomes_the_plan_quota(billing_api: BillingApi, orgs: Orgs) -> None:
    org = customer_org(orgs)
    now = int(time.time())
    delivered = created(billing_api, org, f"sub_{org}", now)
    found = billing_of(orgs, org)
    assert {
        k: found[k]
        for k in (PREFIX + "subscription", PREFIX + "plan-id", PREFIX + "addons", PREFIX + "provider-subscription-id")
    } == {
        PREFIX + "subscription": "active",
        PREFIX + "plan-id": "pro-pool",
        PREFIX + "addons": '[{"addonId":"turbo-x1","quantity":1}]',
        PREFIX + "provider-subscription-id": f"sub_{org}",
    }
    eventually(
        lambda: assert_eq(cpu(orgs, org), WORKED_EXAMPLE["requests.cpu"])
    )  # 8 + 2 (turbo-x1) + 3 x 100m overhead

    written = version(orgs, org)
    assert deliver(billing_api, delivered).json()["data"]["outcome"] == "unchanged"  # delivered again
    older = subscription(f"sub_{org}", PRO_WITH_TURBO, organization=org, status="past_due")
    assert deliver(billing_api, event("customer.subscription.updated", older, now - 60)).json()["data"]["outcome"] == (
        "unchanged"
    )
    assert version(orgs, org) == written
    assert billing_of(orgs, org)[PREFIX + "subscription"] == "active"


def test_cancel_keeps_the_plan_until_the_subscription_is_deleted(billing_api: BillingApi, orgs: Orgs) -> None:
    org = customer_org(orgs)
    now = int(time.time())
    created(billing_api, org, f"sub_{org}", now)
    # the API decides from its watch of Organizations, a moment behind the webhook's write
    eventually(
        lambda: assert_eq(billing_api.data("/organization-subscription", billing_api.admin_of(org))["status"], "active")
    )
    answer = billing_api.http.delete("/api/billing/organization-subscription", headers=billing_api.admin_of(org))
    assert answer.status_code == 200, answer.text  # stripe-mock took cancel_at_period_end
    assert billing_of(orgs, org)[PREFIX + "subscription"] == "canceling"
    eventually(lambda: assert_eq(cpu(orgs, org), WORKED_EXAMPLE["requests.cpu"]))  # the plan is kept while canceling
    deleted = subscription(f"sub_{org}", PRO_WITH_TURBO, organization=None, status="canceled")  # found by its id
    assert (
        deliver(billing_api, event("customer.subscription.deleted", deleted, now + 1)).json()["data"]["outcome"]
        == "applied"
    )
    assert billing_of(orgs, org)[PREFIX + "subscription"] == "canceled"
    eventually(lambda: assert_eq(cpu(orgs, org), FLOOR_CPU))


def test_a_deleted_subscription_nobody_canceled_suspends(billing_api: BillingApi, orgs: Orgs) -> None:
    org = customer_org(orgs)
    now = int(time.time())
    created(billing_api, org, f"sub_{org}", now)
    deliver(billing_api, event("invoice.payment_failed", invoice(f"sub_{org}", org), now + 1))
    assert billing_of(orgs, org)[PREFIX + "subscription"] == "past_due"
    deleted = subscription(f"sub_{org}", PRO_WITH_TURBO, organization=org, status="canceled")
    deliver(billing_api, event("customer.subscription.deleted", deleted, now + 2))
    found = billing_of(orgs, org)
    assert found[PREFIX + "subscription"] == "suspended"
    assert found[PREFIX + "suspended-at"].endswith("Z")
    eventually(lambda: assert_eq(cpu(orgs, org), FLOOR_CPU))


def test_bad_signatures_and_strangers_write_nothing(billing_api: BillingApi, orgs: Orgs) -> None:
    org = orgs.create()
    body = event(
        "customer.subscription.created", subscription("sub_x", PRO_WITH_TURBO, organization=org), int(time.time())
    )
    for header in (None, signature(body, secret="whsec_wrong"), signature(body, timestamp=int(time.time()) - 400)):
        assert deliver(billing_api, body, header).status_code == 400
    assert PREFIX + "plan-id" not in billing_of(orgs, org)
    stranger = event(
        "customer.subscription.created",
        subscription("sub_y", PRO_WITH_TURBO, organization="no-such-org"),
        int(time.time()),
    )
    assert deliver(billing_api, stranger).json()["data"]["outcome"] == "unknown_organization"
    assert (
        deliver(billing_api, event("charge.refunded", {"id": "ch_1"}, int(time.time()))).json()["data"]["outcome"]
        == "ignored"
    )


FREEZE = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: freeze-{org}}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - {{apiGroups: [kube-dc.com], apiVersions: [v1], operations: [UPDATE], resources: [organizations]}}
  validations:
    - {{expression: "false", message: "organization frozen by the test"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: freeze-{org}}}
spec:
  policyName: freeze-{org}
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {org}}}}}
"""


def _frozen(orgs: Orgs, org: str) -> None:
    proc = orgs.cluster.kubectl(
        "annotate", f"organization/{org}", "-n", org, "probe=1", "--dry-run=server", check=False
    )
    assert proc.returncode != 0, "the freeze is not enforced yet"


def test_a_kubernetes_failure_answers_5xx_and_stripe_retry_applies(billing_api: BillingApi, orgs: Orgs) -> None:
    org = customer_org(orgs)
    body = event(
        "customer.subscription.created", subscription(f"sub_{org}", PRO_WITH_TURBO, organization=org), int(time.time())
    )
    orgs.cluster.kubectl("apply", "-f", "-", input=FREEZE.format(org=org))
    try:
        eventually(lambda: _frozen(orgs, org))
        answer: Any = deliver(billing_api, body)
        assert answer.status_code == 503, answer.text
        assert PREFIX + "plan-id" not in billing_of(orgs, org)
    finally:
        orgs.cluster.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", f"freeze-{org}")
    eventually(lambda: assert_eq(deliver(billing_api, body).status_code, 200))  # Stripe's retry
    assert billing_of(orgs, org)[PREFIX + "plan-id"] == "pro-pool"


def test_checkout_and_portal_from_the_running_api(billing_api: BillingApi, orgs: Orgs) -> None:
    org = orgs.create()
    headers = billing_api.admin_of(org)
    eventually(lambda: billing_api.data("/organization-subscription", headers))  # the API's informer has it
    started = billing_api.http.post(
        "/api/billing/organization-subscription", json={"planId": "dev-pool"}, headers=headers
    )
    assert started.status_code == 200, started.text
    assert started.json()["data"]["sessionId"].startswith("cs_")
    assert billing_api.http.post("/api/billing/customer-portal", headers=headers).status_code == 409  # no customer yet
    assert billing_of(orgs, org)[PREFIX + "checkout-session"] == started.json()["data"]["sessionId"]
    # a subscription the dashboard made for this organization, before its checkout completed: not bound
    made = event("customer.subscription.created", subscription("sub_dash", PRO_WITH_TURBO, organization=org), 1)
    assert deliver(billing_api, made).json()["data"]["outcome"] == "not_bound"
    assert PREFIX + "plan-id" not in billing_of(orgs, org)
    session = checkout_session(started.json()["data"]["sessionId"], f"sub_{org}", org)
    completed = deliver(billing_api, event("checkout.session.completed", session, int(time.time())))
    assert completed.json()["data"]["outcome"] == "applied", completed.text  # the session this API created
    assert billing_of(orgs, org)[PREFIX + "plan-id"] == "dev-pool"  # stripe-mock's subscription
    portal = billing_api.http.post("/api/billing/customer-portal", headers=headers)
    assert portal.status_code == 200, portal.text
    again = billing_api.http.post(
        "/api/billing/organization-subscription", json={"planId": "dev-pool"}, headers=headers
    )
    assert again.status_code == 409
    billing_api.logged("POST /api/billing/organization-subscription 409")  # the lines before it are written too
    assert portal.json()["data"]["url"] not in billing_api.log()
