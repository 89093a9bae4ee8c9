"""The usage-history series of an organization: resource names, base units and the monthly cost, exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

from orgquota.core.advice import RESOURCES
from orgquota.core.annotations import ADDONS, PLAN_ID, SUBSCRIPTION
from orgquota.core.catalog import Catalog, parse_catalog
from orgquota.core.desired import QuotaSettings, desired_quota
from orgquota.core.status import quota_usage
from orgquota.core.usage_series import MonthlyCost, in_base_units, monthly_cost, org_series
from tests.support.catalog import CATALOG, WORKED_EXAMPLE

PRICED = parse_catalog(
    CATALOG.replace("displayName: Pro Pool", "displayName: Pro Pool\n    price: 199.99\n    currency: EUR").replace(
        'turbo-x1: {cpu: "2"', 'turbo-x1: {price: 14.33, currency: EUR, cpu: "2"'
    )
)

HRQ = {
    "spec": {"hard": WORKED_EXAMPLE},
    "status": {
        "hard": WORKED_EXAMPLE,
        "used": {"requests.cpu": "1500m", "limits.cpu": "2", "requests.memory": "1Gi", "pods": "3"},
    },
}


def test_every_quota_resource_is_named_and_in_base_units() -> None:
    used, hard = in_base_units(quota_usage(HRQ, public_ips=1, public_ip_limit=2))
    assert set(hard) == set(RESOURCES)
    assert hard == {
        "cpu": Fraction(103, 10),
        "memory": 29056 * 2**20,
        "storage": 180 * 2**30,
        "pods": 200,
        "services_loadbalancers": 100,
        "public_ipv4": 2,
    }
    assert used == {
        "cpu": Fraction(3, 2),
        "memory": 2**30,
        "storage": 0,
        "pods": 3,
        "services_loadbalancers": 0,
        "public_ipv4": 1,
    }


def test_an_unlimited_public_ip_quota_has_no_hard_value_and_no_hrq_no_values_at_all() -> None:
    used, hard = in_base_units(quota_usage(HRQ, public_ips=4, public_ip_limit=None))
    assert "public_ipv4" not in hard
    assert used["public_ipv4"] == 4
    assert in_base_units(quota_usage(None, public_ips=4, public_ip_limit=None)) == ({}, {})


def test_a_value_that_is_not_a_quantity_is_left_out_not_guessed() -> None:
    used, hard = in_base_units({"used": {"cpu": "lots", "pods": "2"}, "hard": {"cpu": "1", "bogus": "2"}})
    assert used == {"pods": 2}
    assert hard == {"cpu": 1}


def test_the_monthly_cost_is_the_plan_plus_add_ons_times_their_quantities_exactly() -> None:
    addons = json.dumps([{"addonId": "turbo-x1", "quantity": 3}, {"addonId": "turbo-x2", "quantity": 1}])
    cost = monthly_cost({PLAN_ID: "pro-pool", ADDONS: addons}, PRICED)
    # turbo-x2 has no price: it costs nothing; 199.99 + 3 x 14.33 is 242.98 (in floats: 242.98000000000002)
    assert cost == MonthlyCost(Decimal("242.98"), "EUR")


def test_no_cost_without_a_priced_plan_of_the_catalog(catalog: Catalog) -> None:
    assert monthly_cost({}, PRICED) is None
    assert monthly_cost({PLAN_ID: " pro-pool"}, PRICED) is None
    assert monthly_cost({PLAN_ID: "pro-pool"}, catalog) is None


def test_plan_labels_say_what_the_annotations_say_cut_to_a_label_length(catalog: Catalog) -> None:
    def series(annotations: dict[str, str]) -> tuple[str, str, str]:
        found = org_series(desired_quota(annotations, catalog, QuotaSettings()), annotations, catalog, None)
        return found.plan, found.subscription, found.mode

    assert series({PLAN_ID: "pro-pool"}) == ("pro-pool", "active", "plan")
    assert series({PLAN_ID: "pro-pool", SUBSCRIPTION: "suspended"}) == ("pro-pool", "suspended", "floor")
    assert series({}) == ("", "", "none")
    assert series({PLAN_ID: "x" * 1000, SUBSCRIPTION: "y" * 1000}) == ("x" * 63, "y" * 63, "floor")
