"""Stripe prices per currency (`STRIPE_PRICE_<ID>_<CURRENCY>`) and the currency a subscription fixes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from fastapi.testclient import TestClient

from orgquota.api.cluster import Cluster
from orgquota.api.providers.stripe.events import subscription_facts
from orgquota.api.providers.stripe.prices import Kind, PriceBook, Priced, setting_name
from orgquota.core import annotations as ann
from orgquota.core.billing_facts import Subscribed, apply_in_order
from orgquota.core.catalog import Catalog, parse_catalog
from tests.support.api_cluster import CATALOG_TEXT, configmap
from tests.support.catalog import CATALOG
from tests.support.envelope import assert_error
from tests.support.stripe_events import subscription

PRICES = {"PRO_POOL": "price_pro", "PRO_POOL_JPY": "price_pro_jpy", "DEV_POOL_KWD": "price_dev_kwd"}


def multi_currency() -> Catalog:
    data = yaml.safe_load(CATALOG)
    for plan in ("dev-pool", "pro-pool"):
        data["plans"][plan].update(price="10.00", currency="EUR", prices={"JPY": "1500", "KWD": "3.250"})
    return parse_catalog(yaml.safe_dump(data))


def test_each_currency_has_its_own_setting_and_maps_back() -> None:
    book = PriceBook(PRICES, multi_currency())
    assert setting_name("pro-pool", "JPY") == "STRIPE_PRICE_PRO_POOL_JPY"
    assert book.price(Priced(Kind.PLAN, "pro-pool")) == "price_pro"
    assert book.price(Priced(Kind.PLAN, "pro-pool", "JPY")) == "price_pro_jpy"
    assert book.price(Priced(Kind.PLAN, "pro-pool", "KWD")) is None  # not set: not for sale in KWD
    assert book.item_of("price_pro_jpy") == Priced(Kind.PLAN, "pro-pool", "JPY")
    assert book.item_of("price_dev_kwd") == Priced(Kind.PLAN, "dev-pool", "KWD")
    assert book.problems == []


def test_a_subscription_fixes_the_currency_once_and_records_its_trial_end() -> None:
    catalog = multi_currency()
    stripe_sub = subscription("sub_1", [("price_pro_jpy", 1)], organization="acme", status="trialing")
    stripe_sub |= {"currency": "jpy", "trial_end": 1_900_000_000}
    facts = subscription_facts(stripe_sub, PriceBook(PRICES, catalog), catalog)
    assert isinstance(facts[0], Subscribed)
    assert (facts[0].currency, facts[0].trial_ends_at) == ("JPY", "2030-03-17T17:46:40Z")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    written = apply_in_order({}, facts, created=1, now=now)
    assert (written[ann.CURRENCY], written[ann.TRIAL_ENDS_AT], written[ann.SUBSCRIPTION]) == (
        "JPY",
        "2030-03-17T17:46:40Z",
        "trialing",
    )
    assert ann.CURRENCY not in apply_in_order({ann.CURRENCY: "JPY"}, facts, created=2, now=now)


def test_with_a_payment_provider_there_is_no_trial_route(client: TestClient, admin: dict[str, str]) -> None:
    """Stripe's checkout sets trials: `POST /trial` is not mounted (404 in the envelope)."""
    assert_error(client.post("/api/billing/trial", json={"planId": "pro-pool"}, headers=admin), 404, "")


def test_a_checkout_in_another_currency_than_the_organizations_is_refused(
    client: TestClient, cluster: Cluster, issuer: Any
) -> None:
    yen = (
        CATALOG_TEXT.replace("currency: EUR\n", "currency: EUR\n    prices: {JPY: '9000'}\n")
        .replace("price: 29, currency: EUR,", "price: 29, currency: EUR, prices: {JPY: '4500'},")
        .replace("price: 49, currency: EUR,", "price: 49, currency: EUR, prices: {JPY: '7600'},")
    )
    cluster.catalog.live.replace([configmap(cluster.settings.catalog_name, yen)])
    record = cluster.orgs.get("beta", "beta")
    assert record is not None
    metadata = {"namespace": "beta", "name": "beta", "annotations": {**record.annotations, ann.CURRENCY: "EUR"}}
    cluster.orgs.apply("MODIFIED", {"metadata": metadata, "status": record.status})
    headers = {"Authorization": "Bearer " + issuer.token(org="beta", groups=["org-admin"])}
    route = "/api/billing/organization-subscription"
    body = assert_error(client.post(route, json={"planId": "dev-pool", "currency": "JPY"}, headers=headers), 409, "EUR")
    assert body["details"] == {"currency": "EUR"}
    assert_error(client.post(route, json={"planId": "dev-pool", "currency": "XYZ"}, headers=headers), 400, "currency")
