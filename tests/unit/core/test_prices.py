"""The catalog's money: per-currency prices as exact decimals, one set of currencies, and trials."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from orgquota.core.catalog import CatalogError, parse_catalog
from orgquota.core.currencies import decimals
from tests.support.catalog import CATALOG


def priced(**fields: Any) -> dict[str, Any]:
    """The test catalog with pro-pool, dev-pool and turbo-x1 priced; `fields` replace pro-pool's money fields."""
    data: dict[str, Any] = yaml.safe_load(CATALOG)
    for where in (data["plans"]["dev-pool"], data["addons"]["turbo-x1"]):
        where.update(price="10.00", currency="EUR", prices={"JPY": "1500", "KWD": "3.250"})
    data["plans"]["pro-pool"].update(
        {"price": "179.00", "currency": "EUR", "prices": {"JPY": "28000", "KWD": "55.125"}, **fields}
    )
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(yaml.safe_dump(data))
    return caught.value.problems


def test_per_currency_prices_are_exact_decimals_in_each_currency() -> None:
    plan = parse_catalog(yaml.safe_dump(priced())).plans["pro-pool"]
    assert plan.amounts() == {"EUR": Decimal("179.00"), "JPY": Decimal(28000), "KWD": Decimal("55.125")}
    assert plan.price_in("KWD") == (Decimal("55.125"), "KWD")
    assert str(plan.price_in("EUR")[0]) == "179.00"
    assert plan.price_in(None) == (Decimal("179.00"), "EUR")


def test_a_yaml_number_is_read_exactly() -> None:
    text = yaml.safe_dump(priced()).replace("price: '179.00'", "price: 179.1").replace("'55.125'", "55.125")
    plan = parse_catalog(text).plans["pro-pool"]
    assert plan.amounts() == {"EUR": Decimal("179.1"), "JPY": Decimal(28000), "KWD": Decimal("55.125")}
    assert str(plan.amounts()["KWD"]) == "55.125"


def test_old_catalogs_with_one_price_and_none_stay_valid() -> None:
    catalog = parse_catalog(CATALOG)
    assert catalog.plans["pro-pool"].amounts() == {}
    assert catalog.plans["pro-pool"].trial is None


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"currency": "usd"}, "plans.pro-pool.currency: 'usd' is not an ISO 4217 currency code"),
        ({"currency": "XAU"}, "plans.pro-pool.currency: 'XAU' is not an ISO 4217 currency code"),
        ({"prices": {"JPY": "28000", "EURO": "1"}}, "plans.pro-pool.prices.EURO.[key]: 'EURO' is not an ISO 4217"),
        ({"prices": {"JPY": "0.5", "KWD": "55.125"}}, "plans.pro-pool: prices.JPY: 0.5 has more decimals than JPY"),
        ({"prices": {"JPY": "1", "KWD": "1.0005"}}, "plans.pro-pool: prices.KWD: 1.0005 has more decimals than KWD"),
        ({"price": "1.005"}, "plans.pro-pool: price: 1.005 has more decimals than EUR allows (2)"),
        ({"price": "-1"}, "plans.pro-pool.price: '-1' is not an amount of at least 0"),
        ({"price": "1000000000000"}, "plans.pro-pool.price: '1000000000000' is not below 1,000,000,000,000"),
        ({"price": "NaN"}, "plans.pro-pool.price: 'NaN' is not an amount of at least 0"),
        ({"price": "lots"}, "plans.pro-pool.price: 'lots' is not a decimal amount"),
        ({"price": True}, "plans.pro-pool.price: True is not a decimal amount"),
        ({"prices": {"EUR": "170", "JPY": "1", "KWD": "1"}}, "plans.pro-pool: prices.EUR: 170 is not the price 179.00"),
        ({"trial": {"days": 0}}, "plans.pro-pool.trial.days: Input should be greater than or equal to 1"),
        ({"trial": {"days": 91}}, "plans.pro-pool.trial.days: Input should be less than or equal to 90"),
        ({"trial": {"days": "14"}}, "plans.pro-pool.trial.days: Input should be a valid integer"),
        ({"trial": {"days": 14.5}}, "plans.pro-pool.trial.days: Input should be a valid integer"),
        ({"trial": {"days": 14, "card": True}}, "plans.pro-pool.trial.card: unknown field"),
        ({"trial": {"days": 14}, "selfService": False}, "plans.pro-pool: trial: only a self-service plan can offer"),
    ],
)
def test_bad_money_and_trials_are_refused_naming_the_field(fields: dict[str, Any], problem: str) -> None:
    assert any(found.startswith(problem) for found in problems_of(priced(**fields))), problems_of(priced(**fields))


SAME = "every self-service plan and add-on is priced in the same currencies"


def test_every_sold_plan_and_add_on_is_priced_in_the_same_currencies() -> None:
    assert problems_of(priced(prices={"JPY": "28000"})) == [f"plans.pro-pool: no price in KWD ({SAME}: EUR, JPY, KWD)"]
    data = priced()
    data["addons"]["turbo-x1"]["prices"] = {"JPY": "1500", "KWD": "3.250", "USD": "11"}
    assert problems_of(data)[0].split("; ") == [
        f"{where}: no price in USD ({SAME}: EUR, JPY, KWD, USD)" for where in ("plans.dev-pool", "plans.pro-pool")
    ]


def test_unpriced_hidden_and_disabled_items_need_no_currency() -> None:
    data = priced()
    data["plans"]["burst-pool"]["selfService"] = False
    data["plans"]["burst-pool"].update(price="5", currency="USD")
    data["addons"]["retired"].update(price="5", currency="USD")
    catalog = parse_catalog(yaml.safe_dump(data))
    assert catalog.plans["burst-pool"].amounts() == {"USD": Decimal(5)}
    assert catalog.addons["turbo-x2"].amounts() == {}


def test_a_trial_is_read() -> None:
    trial = parse_catalog(yaml.safe_dump(priced(trial={"days": 14}))).plans["pro-pool"].trial
    assert trial is not None
    assert (trial.days, trial.requiresPaymentMethod) == (14, False)


def test_money_and_trials_are_not_what_a_quota_is_made_of() -> None:
    plain = parse_catalog(yaml.safe_dump(priced()))
    other = parse_catalog(yaml.safe_dump(priced(price="170.00", prices={"JPY": "1", "KWD": "1"}, trial={"days": 9})))
    assert plain.enforced() == other.enforced()


def test_the_currencies_have_their_own_decimals() -> None:
    assert (decimals("JPY"), decimals("EUR"), decimals("KWD"), decimals("CLF"), decimals("ABC")) == (0, 2, 3, 4, None)
