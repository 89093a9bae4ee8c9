"""The Stripe routes against stripe-mock: every call they make to Stripe is checked by it (paths,
parameters, idempotency keys), and what they refuse is refused before Stripe is called."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import stripe
from fastapi.testclient import TestClient
from stripe.checkout._session_service import SessionService

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.providers.stripe.config import StripeSettings
from orgquota.api.settings import ApiSettings
from orgquota.core.annotations import PREFIX
from tests.support.audit import audit_lines
from tests.support.catalog import WORKED_EXAMPLE
from tests.support.envelope import assert_data, assert_error
from tests.support.fake_kube import FakeKube
from tests.support.oidc import Issuer, bearer
from tests.support.stripe_events import FIXTURE_PRICE, SECRET_KEY, WEBHOOK_SECRET, checkout_session, subscription

API = "/api/billing"
NOWHERE = "http://127.0.0.1:9"  # nothing listens: a Stripe call would answer 503


def stripe_settings(settings: ApiSettings) -> StripeSettings:
    assert isinstance(settings.provider_settings, StripeSettings)
    return settings.provider_settings


def app_with(settings: ApiSettings, cluster: Cluster, orgs: FakeKube, **changes: Any) -> TestClient:
    """The app with some of the Stripe settings changed."""
    cluster.kube = orgs
    changed = settings.model_copy(update={"provider_settings": stripe_settings(settings).model_copy(update=changes)})
    return TestClient(create_app(changed, cluster), raise_server_exceptions=False)


def small_usage(cluster: Cluster) -> None:
    used = {"requests.cpu": "1", "requests.memory": "1Gi", "requests.storage": "1Gi", "pods": "3"}
    hrq = {"metadata": {"namespace": "acme", "name": "plan-quota"}, "status": {"hard": WORKED_EXAMPLE, "used": used}}
    cluster.hrqs.replace([hrq])
    cluster.eips.replace([])


def bearer_of(issuer: Any, org: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issuer.token(org=org, groups=["org-admin"])}


def beta_admin(issuer: Any) -> dict[str, str]:
    return bearer_of(issuer, "beta")


def test_checkout_starts_a_subscription_session(client: TestClient, issuer: Any) -> None:
    body = {"planId": "dev-pool", "addons": [{"addonId": "turbo-x1", "quantity": 2}]}
    answer = assert_data(client.post(f"{API}/organization-subscription", json=body, headers=beta_admin(issuer)))
    assert answer["sessionId"].startswith("cs_")
    assert answer["checkoutUrl"].startswith("https://checkout.stripe.com/")


def test_checkout_of_a_plan_current_usage_does_not_fit_is_refused(
    settings: ApiSettings, cluster: Cluster, orgs: FakeKube, issuer: Any
) -> None:
    # beta has no plan (no HRQ): its usage is its pods', 6 cpu, over dev-pool's 4 + 3 x 100m
    beta_pods = [
        {
            "metadata": {"namespace": "beta-x", "name": f"job-{i}"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "2"}}}]},
            "status": {"phase": "Running"},
        }
        for i in range(3)
    ]
    cluster.pods.replace(beta_pods)
    with app_with(settings, cluster, orgs, api_base=NOWHERE) as client:
        body = {"planId": "dev-pool"}
        refused = assert_error(
            client.post(f"{API}/organization-subscription", json=body, headers=beta_admin(issuer)), 409
        )
    assert refused["details"]["violations"][0] == {"resource": "requests.cpu", "used": "6", "newLimit": "4300m"}


def test_checkout_is_refused_while_a_subscription_is_live(client: TestClient, admin: dict[str, str]) -> None:
    body = assert_error(
        client.post(f"{API}/organization-subscription", json={"planId": "dev-pool"}, headers=admin), 409
    )
    assert body["details"] == {"subscriptionId": "sub_123", "status": "active"}


def test_unpriced_addon_cannot_be_bought(client: TestClient, issuer: Any, admin: dict[str, str]) -> None:
    body = {"planId": "dev-pool", "addons": [{"addonId": "turbo-x2"}]}
    refused = assert_error(client.post(f"{API}/organization-subscription", json=body, headers=beta_admin(issuer)), 409)
    assert "STRIPE_PRICE_TURBO_X2 is not set" in refused["error"]
    refused = assert_error(
        client.post(f"{API}/organization-subscription/addons", json={"addonId": "turbo-x2"}, headers=admin), 409
    )
    assert refused["details"] == {"addonId": "turbo-x2", "setting": "STRIPE_PRICE_TURBO_X2"}


def test_unpriced_plan_cannot_be_bought(settings: ApiSettings, cluster: Cluster, orgs: FakeKube, issuer: Any) -> None:
    prices = {key: value for key, value in stripe_settings(settings).prices.items() if key != "DEV_POOL"}
    with app_with(settings, cluster, orgs, prices=prices, api_base=NOWHERE) as client:
        refused = assert_error(
            client.post(f"{API}/organization-subscription", json={"planId": "dev-pool"}, headers=beta_admin(issuer)),
            409,
        )
    assert (
        refused["error"]
        == "plan 'dev-pool' cannot be bought: it has no Stripe price (STRIPE_PRICE_DEV_POOL is not set)"
    )


@pytest.mark.parametrize("plan", ["internal", "nope"])
def test_a_plan_that_is_not_for_sale_is_a_bad_request(client: TestClient, issuer: Any, plan: str) -> None:
    refused = assert_error(
        client.post(f"{API}/organization-subscription", json={"planId": plan}, headers=beta_admin(issuer)), 400
    )
    assert refused["details"]["availablePlans"] == ["dev-pool", "pro-pool"]


def test_a_downgrade_that_does_not_fit_is_refused_before_stripe_is_called(
    settings: ApiSettings, cluster: Cluster, orgs: FakeKube, admin: dict[str, str]
) -> None:
    with app_with(settings, cluster, orgs, api_base=NOWHERE) as client:
        refused = assert_error(
            client.put(f"{API}/organization-subscription", json={"planId": "dev-pool"}, headers=admin), 409
        )
    assert refused["error"] == "current usage does not fit plan 'dev-pool': free resources first"
    violations = {v["resource"]: v for v in refused["details"]["violations"]}
    assert violations["requests.cpu"] == {"resource": "requests.cpu", "used": "9", "newLimit": "6300m"}  # add-ons kept
    assert orgs.writes == []


def test_a_plan_change_that_fits_changes_the_subscription_item_price(
    client: TestClient, cluster: Cluster, orgs: FakeKube, admin: dict[str, str]
) -> None:
    small_usage(cluster)
    answer = assert_data(client.put(f"{API}/organization-subscription", json={"planId": "dev-pool"}, headers=admin))
    assert answer == {"subscriptionId": "sub_123", "planId": "dev-pool", "pending": True}
    assert orgs.annotations("acme")[PREFIX + "plan-id"] == "pro-pool"  # the webhook confirms the change


def test_cancel_sets_canceling_and_keeps_the_plan(client: TestClient, orgs: FakeKube, admin: dict[str, str]) -> None:
    answer = assert_data(client.delete(f"{API}/organization-subscription", headers=admin))
    # stripe-mock's subscription is set to end at its fixture `cancel_at`
    assert answer == {"status": "canceling", "periodEnd": "2009-02-13T23:31:30Z", "planId": "pro-pool"}
    annotations = orgs.annotations("acme")
    assert (annotations[PREFIX + "subscription"], annotations[PREFIX + "plan-id"]) == ("canceling", "pro-pool")
    assert annotations[PREFIX + "period-end"] == "2009-02-13T23:31:30Z"  # what GET /organization-subscription shows
    assert PREFIX + "provider-event-created" not in annotations


def test_cancel_without_a_subscription_is_a_conflict(client: TestClient, issuer: Any) -> None:
    assert_error(client.delete(f"{API}/organization-subscription", headers=beta_admin(issuer)), 409)


def test_adding_an_addon_adds_an_item(client: TestClient, admin: dict[str, str]) -> None:
    answer = assert_data(
        client.post(f"{API}/organization-subscription/addons", json={"addonId": "turbo-x1"}, headers=admin)
    )
    assert answer == {"subscriptionId": "sub_123", "addonId": "turbo-x1", "quantity": 1, "pending": True}


def test_removing_an_addon_the_subscription_lacks_is_not_found(
    client: TestClient, cluster: Cluster, issuer: Any, admin: dict[str, str]
) -> None:
    small_usage(cluster)
    assert_error(client.delete(f"{API}/organization-subscription/addons/turbo-x1", headers=admin), 404)  # not in Stripe
    assert_error(client.delete(f"{API}/organization-subscription/addons/turbo-x2", headers=admin), 404)  # not granted


def test_removing_an_addon_deletes_its_last_item_when_usage_fits(
    settings: ApiSettings, cluster: Cluster, orgs: FakeKube, admin: dict[str, str]
) -> None:
    prices = {"PRO_POOL": "price_pro_pool", "TURBO_X1": FIXTURE_PRICE}  # stripe-mock's item is now one turbo-x1
    with app_with(settings, cluster, orgs, prices=prices) as client:
        refused = assert_error(client.delete(f"{API}/organization-subscription/addons/turbo-x1", headers=admin), 409)
        assert refused["details"]["violations"][0]["resource"] == "requests.cpu"
        small_usage(cluster)
        answer = assert_data(client.delete(f"{API}/organization-subscription/addons/turbo-x1", headers=admin))
    assert answer["quantity"] == 0


def test_customer_portal(client: TestClient, issuer: Any, admin: dict[str, str]) -> None:
    assert assert_data(client.post(f"{API}/customer-portal", headers=admin))["url"].startswith("https://")
    assert_error(client.post(f"{API}/customer-portal", headers=beta_admin(issuer)), 409)


def test_verify_checkout_reads_the_session_and_refuses_another_organizations(
    client: TestClient, admin: dict[str, str]
) -> None:
    # stripe-mock's session names no organization: it is nobody's
    refused = assert_error(client.get(f"{API}/verify-checkout", params={"sessionId": "cs_test_1"}, headers=admin), 404)
    assert refused["details"] == {"sessionId": "cs_test_1"}
    assert_error(client.post(f"{API}/verify-checkout", json={"sessionId": "cs_test_1"}, headers=admin), 404)
    assert_error(client.get(f"{API}/verify-checkout", params={"sessionId": "../customers"}, headers=admin), 400)


def test_project_users_cannot_buy(client: TestClient, project_user: dict[str, str]) -> None:
    assert_error(
        client.post(f"{API}/organization-subscription", json={"planId": "dev-pool"}, headers=project_user), 403
    )


def test_the_provider_needs_its_secrets(issuer: Issuer) -> None:
    environ = {"OIDC_ISSUER_URL": issuer.url, "BILLING_PROVIDER": "stripe", "STRIPE_SECRET_KEY": SECRET_KEY}
    with pytest.raises(SystemExit, match="orgquota api: invalid setting: STRIPE_WEBHOOK_SECRET: required"):
        ApiSettings.from_env(environ)


def test_a_completed_checkout_is_written_at_once(
    client: TestClient, orgs: FakeKube, issuer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stripe-mock's sessions are never complete: here Stripe's answer is a completed session of beta's,
    its subscription expanded (the rest of the route is as against stripe-mock)."""
    session = checkout_session("cs_test_done", "sub_new", "beta")
    session["subscription"] = subscription("sub_new", [("price_dev_pool", 1)], organization="beta", customer="cus_b")

    async def retrieve(self: object, session_id: str, params: object = None, options: object = None) -> object:
        assert (session_id, params) == ("cs_test_done", {"expand": ["subscription"]})
        return stripe.checkout.Session.construct_from(session, "sk_test")

    monkeypatch.setattr(SessionService, "retrieve_async", retrieve)
    refused = assert_error(
        client.get(f"{API}/verify-checkout", params={"sessionId": "cs_test_done"}, headers=beta_admin(issuer)), 409
    )  # a session this API did not create for beta (a Payment Link's, say) binds nothing
    assert "not bound to organization 'beta'" in refused["error"]
    assert orgs.writes == []
    orgs.annotate("beta", {PREFIX + "checkout-session": "cs_test_done"})  # as POST /organization-subscription does
    answer = assert_data(
        client.get(f"{API}/verify-checkout", params={"sessionId": "cs_test_done"}, headers=beta_admin(issuer))
    )
    assert answer == {
        "status": "complete",
        "complete": True,
        "planId": "dev-pool",
        "planName": "Dev Pool",
        "subscriptionStatus": "active",
    }
    written = orgs.annotations("beta")
    assert (
        written[PREFIX + "subscription"],
        written[PREFIX + "plan-id"],
        written[PREFIX + "provider-subscription-id"],
    ) == (
        "active",
        "dev-pool",
        "sub_new",
    )
    assert PREFIX + "provider-event-created" not in written  # a person's confirmation does not order Stripe's events
    assert_error(
        client.get(f"{API}/verify-checkout", params={"sessionId": "cs_test_done"}, headers=bearer_of(issuer, "acme")),
        404,
    )


def test_secrets_and_checkout_addresses_are_not_logged(
    client: TestClient, issuer: Any, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    checkout = assert_data(
        client.post(f"{API}/organization-subscription", json={"planId": "dev-pool"}, headers=beta_admin(issuer))
    )
    portal = assert_data(client.post(f"{API}/customer-portal", headers=admin))
    logged = caplog.text
    assert "Checkout Session" in logged  # the checkout was logged, without its address
    for secret in (checkout["checkoutUrl"], portal["url"], SECRET_KEY, WEBHOOK_SECRET):
        assert secret not in logged


def test_config_offers_everything_stripe_does(client: TestClient, project_user: dict[str, str]) -> None:
    config = client.get(f"{API}/config", headers=project_user).json()["config"]
    assert config["provider"] == "stripe"
    own = {"history", "notifications"}  # the API's: PROMETHEUS_URL, SMTP_URL
    assert all(on for name, on in config["features"].items() if name not in own)


def test_changing_to_the_current_plan_is_a_conflict(client: TestClient, admin: dict[str, str]) -> None:
    refused = assert_error(
        client.put(f"{API}/organization-subscription", json={"planId": "pro-pool"}, headers=admin), 409
    )
    assert refused["error"] == "organization 'acme' is already on plan 'pro-pool'"


def with_budget(cluster: Cluster, monthly: object) -> None:
    record = cluster.orgs.get("acme", "acme")
    assert record is not None
    budget = json.dumps({"monthly": str(monthly), "currency": "EUR"})
    meta = {"namespace": "acme", "name": "acme", "annotations": {**record.annotations, PREFIX + "budget": budget}}
    cluster.orgs.apply("MODIFIED", {"metadata": meta})


def test_an_addon_above_the_budget_needs_over_budget(
    client: TestClient, cluster: Cluster, admin: dict[str, str]
) -> None:
    total = assert_data(client.get(f"{API}/organization-subscription", headers=admin))["monthlyCost"]["total"]
    with_budget(cluster, total)  # pro-pool + turbo-x1 (199 + 29): one more turbo-x1 is 29 above it
    body = {"addonId": "turbo-x1"}
    refused = client.post(f"{API}/organization-subscription/addons", json=body, headers=admin)
    assert assert_error(refused, 409)["code"] == "BUDGET_EXCEEDED"
    assert refused.json()["details"]["budget"] == total
    accepted = client.post(f"{API}/organization-subscription/addons", json={**body, "overBudget": True}, headers=admin)
    assert assert_data(accepted)["quantity"] >= 1


def test_a_plan_change_above_the_budget_is_refused_before_stripe_is_asked(
    client: TestClient, cluster: Cluster, admin: dict[str, str]
) -> None:
    with_budget(cluster, 50)  # dev-pool + turbo-x1 is 78
    refused = client.put(f"{API}/organization-subscription", json={"planId": "dev-pool"}, headers=admin)
    assert assert_error(refused, 409)["code"] == "BUDGET_EXCEEDED"
    assert refused.json()["details"] == {"monthlyCost": 78, "budget": 50, "currency": "EUR"}


def test_every_write_leaves_an_audit_line_with_who_where_and_how_it_ended(
    client: TestClient, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    alice = bearer(issuer.token(org="acme", groups=["org-admin"], sub="u-1", preferred_username="alice"))
    with caplog.at_level(logging.INFO, logger="orgquota.api.audit"):
        assert_error(client.put(f"{API}/organization-subscription", json={"planId": "dev-pool"}, headers=alice), 409)
        assert_data(client.delete(f"{API}/organization-subscription", headers=alice))
        assert_error(client.delete(f"{API}/organization-subscription", headers=beta_admin(issuer)), 409)
    lines = audit_lines(caplog)
    assert [(line["audit"], line["organization"], line["outcome"][:11]) for line in lines] == [
        ("plan change", "acme", "refused 409"),
        ("cancel", "acme", "done"),
        ("cancel", "beta", "refused 409"),
    ]
    assert (lines[0]["sub"], lines[0]["preferred_username"]) == ("u-1", "alice")
    assert lines[0]["inputs"] == {"body": {"planId": "dev-pool", "overBudget": False}}


def test_checkout_and_addon_changes_are_audited_whether_done_or_refused(
    client: TestClient, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    bob = bearer(issuer.token(org="beta", groups=["org-admin"], sub="u-2", preferred_username="bob"))
    alice = bearer(issuer.token(org="acme", groups=["org-admin"], sub="u-1", preferred_username="alice"))
    checkout = {"planId": "dev-pool", "addons": [{"addonId": "turbo-x1", "quantity": 2}]}
    with caplog.at_level(logging.INFO, logger="orgquota.api.audit"):
        assert_data(client.post(f"{API}/organization-subscription", json=checkout, headers=bob))
        assert_data(client.post(f"{API}/organization-subscription/addons", json={"addonId": "turbo-x1"}, headers=alice))
        assert_error(client.delete(f"{API}/organization-subscription/addons/turbo-x2", headers=alice), 404)
    lines = audit_lines(caplog)
    assert [(line["audit"], line["sub"], line["preferred_username"], line["organization"]) for line in lines] == [
        ("checkout", "u-2", "bob", "beta"),
        ("add-on added", "u-1", "alice", "acme"),
        ("add-on removed", "u-1", "alice", "acme"),
    ]
    assert [line["outcome"] for line in lines] == [
        "done",
        "done",
        "refused 404: the subscription has no add-on 'turbo-x2'",
    ]
    assert lines[0]["inputs"]["body"]["addons"] == [{"addonId": "turbo-x1", "quantity": 2}]
    assert (lines[1]["inputs"]["body"]["addonId"], lines[2]["inputs"]) == ("turbo-x1", {"addonId": "turbo-x2"})
