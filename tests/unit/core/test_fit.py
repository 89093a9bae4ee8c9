"""Whether usage fits a plan: the operator's own limits, exact quantities, public IPs counted."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgquota.core import annotations as ann
from orgquota.core.annotations import MAX_ADDON_QUANTITY, AddonRequest
from orgquota.core.catalog import Catalog, parse_catalog
from orgquota.core.desired import QuotaSettings, desired_quota
from orgquota.core.fit import PUBLIC_IPV4, Fit, Violation, fit, plan_limits
from orgquota.core.quantity import Quantity
from tests.support.catalog import CATALOG, WORKED_EXAMPLE

THREE = QuotaSettings(projects_limit=3)
Q = Quantity.parse


def test_the_limits_are_the_operators_quota_and_the_plans_public_ips(catalog: Catalog) -> None:
    limits = plan_limits(catalog, "pro-pool", [AddonRequest("turbo-x1", 1)], THREE)
    assert {key: str(value) for key, value in limits.items()} == {**WORKED_EXAMPLE, PUBLIC_IPV4: "1"}
    assert PUBLIC_IPV4 not in plan_limits(catalog, "dev-pool", [], THREE)  # no eipQuota: not limited


def test_usage_above_a_limit_is_a_violation_with_exact_quantities(catalog: Catalog) -> None:
    limits = plan_limits(catalog, "dev-pool", [], THREE)  # 4 cores + 3 x 100m, 8Gi + 3 x 128Mi
    used = {"requests.cpu": Q("4300m"), "requests.memory": Q("8577Mi"), "pods": Q("100"), PUBLIC_IPV4: Q("5")}
    assert fit(limits, used) == Fit(False, (Violation("requests.memory", Q("8577Mi"), Q("8576Mi")),))
    assert fit(limits, {"requests.cpu": Q("4300m")}) == Fit(True, ())  # exactly at the limit fits


def test_public_ips_over_the_plans_quota_do_not_fit(catalog: Catalog) -> None:
    result = fit(plan_limits(catalog, "pro-pool", [], THREE), {PUBLIC_IPV4: Quantity.count(2)})
    assert result.violations == (Violation(PUBLIC_IPV4, Quantity.count(2), Quantity.count(1)),)
    assert [str(v.used) for v in result.violations] == ["2"]


def test_addons_the_operator_would_ignore_grant_nothing(catalog: Catalog) -> None:
    plain = plan_limits(catalog, "dev-pool", [], THREE)
    assert plan_limits(catalog, "dev-pool", [AddonRequest("retired", 1)], THREE) == plain
    # the bound is per add-on over all its entries, as in the annotation: the second entry is ignored
    over = [AddonRequest("turbo-x1", MAX_ADDON_QUANTITY), AddonRequest("turbo-x1", 1)]
    assert plan_limits(catalog, "dev-pool", over, THREE) == plan_limits(catalog, "dev-pool", over[:1], THREE)


def test_a_plan_the_catalog_lacks_is_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="'gold' is not a plan"):
        plan_limits(catalog, "gold", [], THREE)


@given(
    plan=st.sampled_from(["dev-pool", "pro-pool", "burst-pool"]),
    turbo=st.integers(min_value=0, max_value=MAX_ADDON_QUANTITY),
    projects=st.integers(min_value=0, max_value=1000),
)
def test_the_limits_are_what_the_operator_enforces(plan: str, turbo: int, projects: int) -> None:
    """No second formula: the same annotations give the operator's `hard` exactly."""
    catalog = parse_catalog(CATALOG)
    settings = QuotaSettings(projects_limit=projects)
    addons = [AddonRequest("turbo-x2", turbo)] if turbo else []
    listed = json.dumps([{"addonId": "turbo-x2", "quantity": turbo}] if turbo else [])
    enforced = desired_quota({ann.PLAN_ID: plan, ann.ADDONS: listed}, catalog, settings).hard
    limits = plan_limits(catalog, plan, addons, settings)
    assert {key: value for key, value in limits.items() if key != PUBLIC_IPV4} == dict(enforced)
    assert all(str(limits[key]) == str(value) for key, value in enforced.items())
