import json

import pytest

from orgquota.core.annotations import ADDONS, MAX_ADDON_QUANTITY, PLAN_ID, SUBSCRIPTION
from orgquota.core.catalog import Catalog
from orgquota.core.desired import DesiredQuota, Mode, QuotaSettings, Reason, desired_quota
from orgquota.core.quantity import Quantity
from tests.support.catalog import FLOOR, WORKED_EXAMPLE

THREE_PROJECTS = QuotaSettings(projects_limit=3)


def quota(catalog: Catalog, settings: QuotaSettings = THREE_PROJECTS, **annotations: str) -> DesiredQuota:
    keys = {"plan": PLAN_ID, "subscription": SUBSCRIPTION, "addons": ADDONS}
    return desired_quota({keys[k]: v for k, v in annotations.items()}, catalog, settings)


def hard(result: DesiredQuota) -> dict[str, str]:
    return {key: str(value) for key, value in result.hard.items()}


def addons(*entries: object) -> str:
    return json.dumps(list(entries))


def test_worked_example_of_the_spec(catalog: Catalog) -> None:
    result = quota(catalog, plan="pro-pool", addons=addons({"addonId": "turbo-x1", "quantity": 1}))
    assert result.mode == Mode.PLAN
    assert result.reason == Reason.APPLIED
    assert result.ready
    assert hard(result) == WORKED_EXAMPLE


def test_overhead_scales_with_the_projects_limit(catalog: Catalog) -> None:
    result = quota(catalog, QuotaSettings(projects_limit=50), plan="dev-pool")
    assert hard(result)["requests.cpu"] == "9"  # 4 + 50 x 100m
    assert hard(result)["requests.memory"] == "14592Mi"  # 8192Mi + 50 x 128Mi
    assert hard(result)["requests.storage"] == "60Gi"  # no overhead on storage


def test_addons_multiply_and_add_up(catalog: Catalog) -> None:
    result = quota(
        catalog,
        QuotaSettings(projects_limit=0),
        plan="pro-pool",
        addons=addons(
            {"addonId": "turbo-x1", "quantity": 2},
            {"addonId": "turbo-x2", "quantity": 1},
            {"addonId": "turbo-x1", "quantity": 1},
        ),
    )
    assert hard(result)["requests.cpu"] == "18"  # 8 + 3 x 2 + 4
    assert hard(result)["requests.memory"] == "44Gi"  # 24 + 3 x 4 + 8
    assert hard(result)["requests.storage"] == "260Gi"  # 160 + 3 x 20 + 40
    assert "3 x turbo-x1, 1 x turbo-x2" in result.message


def test_burst_ratio_scales_limits_only(catalog: Catalog) -> None:
    result = quota(catalog, QuotaSettings(projects_limit=1), plan="burst-pool")
    assert hard(result)["requests.cpu"] == "10100m"
    assert hard(result)["limits.cpu"] == "15150m"
    assert hard(result)["requests.memory"] == "10368Mi"  # 10Gi + 128Mi
    assert hard(result)["limits.memory"] == "15552Mi"


@pytest.mark.parametrize("subscription", ["active", "trialing", "canceling", "past_due"])
def test_full_plan_states(catalog: Catalog, subscription: str) -> None:
    assert quota(catalog, plan="dev-pool", subscription=subscription).mode == Mode.PLAN


def test_no_subscription_annotation_means_the_plan(catalog: Catalog) -> None:
    assert quota(catalog, plan="dev-pool").mode == Mode.PLAN


@pytest.mark.parametrize(("subscription", "reason"), [("suspended", Reason.SUSPENDED), ("canceled", Reason.CANCELED)])
def test_suspended_and_canceled_get_the_floor(catalog: Catalog, subscription: str, reason: Reason) -> None:
    result = quota(
        catalog,
        plan="pro-pool",
        subscription=subscription,
        addons=addons({"addonId": "turbo-x2", "quantity": 5}),
    )
    assert (result.mode, result.reason, result.ready) == (Mode.FLOOR, reason, True)
    assert hard(result) == FLOOR  # no overhead, no add-ons


def test_floor_keeps_the_plans_limit_range(catalog: Catalog) -> None:
    suspended = quota(catalog, plan="pro-pool", subscription="suspended")
    assert suspended.limit_range == quota(catalog, plan="pro-pool").limit_range


def test_suspended_without_a_plan_is_still_the_floor(catalog: Catalog) -> None:
    result = quota(catalog, subscription="suspended")
    assert result.mode == Mode.FLOOR
    assert hard(result) == FLOOR
    assert result.limit_range is None  # no plan to take defaults from: leave any LimitRange alone


def test_no_plan_means_no_quota(catalog: Catalog) -> None:
    result = quota(catalog, subscription="active")
    assert (result.mode, result.reason, result.ready, dict(result.hard)) == (
        Mode.NONE,
        Reason.NO_PLAN,
        True,
        {},
    )


def test_unknown_plan_fails_closed(catalog: Catalog) -> None:
    result = quota(catalog, plan="platinum", subscription="active")
    assert (result.mode, result.reason, result.ready) == (Mode.FLOOR, Reason.PLAN_NOT_FOUND, False)
    assert hard(result) == FLOOR
    assert "plan-id: 'platinum' is not a plan of the catalog (plans: burst-pool, dev-pool, pro-pool)" in result.message
    assert result.limit_range is None


def test_unknown_subscription_fails_closed(catalog: Catalog) -> None:
    result = quota(catalog, plan="pro-pool", subscription="paused")
    assert (result.mode, result.reason, result.ready) == (Mode.FLOOR, Reason.UNKNOWN_SUBSCRIPTION, False)
    assert "'paused'" in result.message
    assert hard(result) == FLOOR


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("not json", "is not valid JSON"),
        ('{"addonId": "turbo-x1", "quantity": 1}', "must be a JSON list"),
        (addons({"addonId": "turbo-x9", "quantity": 1}), "'turbo-x9' is not in the catalog"),
        (addons({"addonId": "retired", "quantity": 1}), "'retired' is disabled"),
        (addons({"addonId": "turbo-x1", "quantity": 0}), "quantity 0 is not a whole number"),
        (addons({"addonId": "turbo-x1", "quantity": -2}), "quantity -2 is not a whole number"),
        (addons({"addonId": "turbo-x1", "quantity": 1.5}), "quantity 1.5 is not a whole number"),
        (addons({"addonId": "turbo-x1", "quantity": "1"}), "quantity '1' is not a whole number"),
        (addons({"addonId": "turbo-x1", "quantity": True}), "quantity True is not a whole number"),
        (
            addons({"addonId": "turbo-x1", "quantity": MAX_ADDON_QUANTITY + 1}),
            "is not a whole number from 1 to 100",
        ),
        (addons({"addonId": "turbo-x1"}), "quantity None is not a whole number"),
        (addons({"quantity": 1}), "has no addonId"),
        (addons("turbo-x1"), "has no addonId"),
    ],
)
def test_bad_addons_grant_nothing(catalog: Catalog, raw: str, problem: str) -> None:
    result = quota(catalog, plan="pro-pool", addons=raw)
    assert result.hard == quota(catalog, plan="pro-pool").hard
    assert (result.reason, result.ready) == (Reason.INVALID_ADDONS, False)
    assert any(problem in p for p in result.problems), result.problems
    assert problem in result.message


def test_good_addons_apply_beside_bad_ones(catalog: Catalog) -> None:
    result = quota(
        catalog,
        QuotaSettings(projects_limit=0),
        plan="pro-pool",
        addons=addons({"addonId": "turbo-x1", "quantity": 1}, {"addonId": "nope", "quantity": 1}),
    )
    assert hard(result)["requests.cpu"] == "10"
    assert len(result.problems) == 1


def test_empty_addons_annotation_is_no_addons(catalog: Catalog) -> None:
    assert quota(catalog, plan="pro-pool", addons=" ").reason == Reason.APPLIED
    assert quota(catalog, plan="pro-pool", addons="[]").reason == Reason.APPLIED


def test_limit_range_items_in_order_with_apiserver_defaults(catalog: Catalog) -> None:
    items = quota(catalog, plan="pro-pool").limit_range
    assert items is not None
    assert [item["type"] for item in items] == ["Container", "Pod", "PersistentVolumeClaim"]
    container, pod, pvc = items
    assert container == {
        "type": "Container",
        "default": {"cpu": Quantity.parse("1"), "memory": Quantity.parse("1Gi")},
        "defaultRequest": {"cpu": Quantity.parse("100m"), "memory": Quantity.parse("128Mi")},
        "max": {"cpu": Quantity.parse("4"), "memory": Quantity.parse("8Gi")},
        "min": {"cpu": Quantity.parse("10m"), "memory": Quantity.parse("16Mi")},
    }
    assert pod == {"type": "Pod", "max": {"cpu": Quantity.parse("8"), "memory": Quantity.parse("16Gi")}}
    assert pvc == {
        "type": "PersistentVolumeClaim",
        "max": {"storage": Quantity.parse("100Gi")},
        "min": {"storage": Quantity.parse("1Gi")},
    }


def test_limit_range_defaults_follow_the_apiserver(catalog: Catalog) -> None:
    """dev-pool sets no defaultRequest: the apiserver copies default into it, and so must we."""
    items = quota(catalog, plan="dev-pool").limit_range
    assert items is not None
    assert items[0]["defaultRequest"] == {"cpu": Quantity.parse("500m"), "memory": Quantity.parse("512Mi")}
    assert [item["type"] for item in items] == ["Container"]  # no Pod or PVC values: no such items
