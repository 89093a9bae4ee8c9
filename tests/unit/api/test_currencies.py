"""Prices in several currencies: `/plans`, `/addons` and costs in the organization's currency, written exactly."""

from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orgquota.api.cluster import Cluster
from orgquota.api.exact_json import dumps
from orgquota.api.offers import plans
from orgquota.api.organization import monthly_cost_answer
from orgquota.core.advice import monthly_cost
from orgquota.core.annotations import ADDONS, CURRENCY
from orgquota.core.catalog import parse_catalog
from orgquota.core.money import EXACT
from tests.support.api_cluster import MULTI_CURRENCY_CATALOG as MULTI
from tests.support.api_cluster import set_annotations, use_catalog
from tests.support.envelope import assert_error

API = "/api/billing"


def exact(response: Any) -> Any:
    """The answer's data with every number read as a Decimal, as written."""
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal, parse_int=Decimal)["data"]


def prices(items: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {item["id"]: (str(item["price"]), item["currency"]) for item in items}


def test_plans_and_addons_answer_in_the_currency_asked_for(
    client: TestClient, cluster: Cluster, guest: dict[str, str]
) -> None:
    use_catalog(cluster, MULTI)
    assert prices(exact(client.get(f"{API}/plans", headers=guest))) == {
        "dev-pool": ("49.00", "EUR"),
        "pro-pool": ("199", "EUR"),
    }
    assert prices(exact(client.get(f"{API}/plans?currency=KWD", headers=guest))) == {
        "dev-pool": ("16.250", "KWD"),
        "pro-pool": ("61.125", "KWD"),
    }
    assert prices(exact(client.get(f"{API}/addons?currency=JPY", headers=guest))) == {
        "turbo-x1": ("4500", "JPY"),
        "turbo-x2": ("7600", "JPY"),
    }
    assert '"price":61.125,"currency":"KWD"' in client.get(f"{API}/plans?currency=KWD", headers=guest).text


@pytest.mark.parametrize("asked", ["USD", "kwd", "", "X" * 5000])
def test_an_unknown_currency_is_refused(
    client: TestClient, cluster: Cluster, guest: dict[str, str], admin: dict[str, str], asked: str
) -> None:
    use_catalog(cluster, MULTI)
    for route, who in (("/plans", guest), ("/addons", admin)):
        body = assert_error(client.get(f"{API}{route}", params={"currency": asked}, headers=who), 400, "currency: ")
        assert body["details"] == {"currency": asked[:8], "available": ["EUR", "JPY", "KWD"]}
        assert len(body["error"]) < 200


def test_the_organizations_currency_decides_its_prices_and_costs(
    client: TestClient, cluster: Cluster, admin: dict[str, str]
) -> None:
    use_catalog(cluster, MULTI)
    set_annotations(cluster, {CURRENCY: "KWD", ADDONS: '[{"addonId":"turbo-x1","quantity":3}]'})
    assert prices(exact(client.get(f"{API}/plans?currency=JPY", headers=admin)))["pro-pool"] == ("61.125", "KWD")
    cost = exact(client.get(f"{API}/organization-subscription", headers=admin))["monthlyCost"]
    assert cost == {
        "plan": Decimal("61.125"),
        "addons": Decimal("27.015"),
        "total": Decimal("88.140"),
        "currency": "KWD",
    }
    text = client.get(f"{API}/organization-subscription", headers=admin).text
    assert '"monthlyCost":{"plan":61.125,"addons":27.015,"total":88.140,"currency":"KWD"}' in text


def test_without_a_currency_an_organization_pays_in_the_plans_default(
    client: TestClient, cluster: Cluster, admin: dict[str, str]
) -> None:
    use_catalog(cluster, MULTI)
    cost = exact(client.get(f"{API}/organization-subscription", headers=admin))["monthlyCost"]
    assert cost == {"plan": Decimal(199), "addons": Decimal(29), "total": Decimal(228), "currency": "EUR"}


AMOUNTS = st.decimals(min_value=0, max_value=Decimal("999999999999.999"), places=3, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=AMOUNTS, addon=AMOUNTS, quantity=st.integers(min_value=1, max_value=100))
@example(plan=Decimal("999999999999.999"), addon=Decimal("999999999999.997"), quantity=99)
def test_no_amount_is_ever_computed_through_a_float(
    client: TestClient, cluster: Cluster, admin: dict[str, str], plan: Decimal, addon: Decimal, quantity: int
) -> None:
    """Amounts of up to 18 digits, which a float rounds (it holds 15 to 17), come back exactly from the API; and
    the same costs computed here with floats trapped (`FloatOperation`: a Decimal made from or compared with a
    float raises) are the same."""
    text = MULTI.replace("prices: {JPY: '31000', KWD: '61.125'}", f"prices: {{JPY: '31000', KWD: '{plan}'}}").replace(
        "prices: {JPY: '4500', KWD: '9.005'}", f"prices: {{JPY: '4500', KWD: '{addon}'}}"
    )
    use_catalog(cluster, text)
    set_annotations(cluster, {CURRENCY: "KWD", ADDONS: json.dumps([{"addonId": "turbo-x1", "quantity": quantity}])})
    cost = exact(client.get(f"{API}/organization-subscription", headers=admin))["monthlyCost"]
    listed = prices(exact(client.get(f"{API}/plans", headers=admin)))
    total = EXACT.add(plan, EXACT.multiply(addon, quantity))
    assert cost == {"plan": plan, "addons": EXACT.multiply(addon, quantity), "total": total, "currency": "KWD"}
    assert listed["pro-pool"][0] == format(plan, "f")  # a float would write 199.0 for 199.000
    with decimal.localcontext() as context:
        context.traps[decimal.FloatOperation] = True
        catalog = parse_catalog(text)
        assert monthly_cost(catalog, "pro-pool", {"turbo-x1": quantity}, "KWD") == total
        assert monthly_cost_answer(catalog, catalog.plans["pro-pool"].cost_in("KWD"), [("turbo-x1", quantity)]) == cost
        assert dumps(plans(catalog, "KWD")) == dumps(plans(catalog, "KWD"))


def test_decimals_are_written_as_json_numbers_with_their_own_digits() -> None:
    content = {"a": Decimal("0.1"), "b": [Decimal("12345678901.995"), Decimal("1E+3")], "c": "0.1", "d": 1.5}
    assert dumps(content) == b'{"a":0.1,"b":[12345678901.995,1000],"c":"0.1","d":1.5}'
    assert json.loads(dumps({"x": Decimal("999999999999999.999")}), parse_float=Decimal)["x"] == Decimal(
        "999999999999999.999"
    )
    with pytest.raises(ValueError, match="not a finite amount"):
        dumps(Decimal("NaN"))
