"""Bad input, written the way a new user would with kubectl, never removes or loosens a quota.

With the webhooks off (down, or the input predates them) the operator alone must hold the line;
with them on, the same input is refused at once, in the operator's own words.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from localcluster.kubectl import Cluster
from tests.support.catalog import FLOOR, WORKED_EXAMPLE, catalog_yaml
from tests.support.files import CATALOG_FILE
from tests.support.operator_process import OperatorProcess, Webhooks, webhooks_off
from tests.support.orgs import Orgs
from tests.support.waiting import assert_eq, consistently, eventually, present

PLAN = "billing.kube-dc.com/plan-id"
SUBSCRIPTION = "billing.kube-dc.com/subscription"
ADDONS = "billing.kube-dc.com/addons"
TURBO = json.dumps([{"addonId": "turbo-x1", "quantity": 1}])
PLAN_ALONE = WORKED_EXAMPLE | {
    "requests.cpu": "8300m",
    "limits.cpu": "8300m",
    "requests.memory": "24960Mi",
    "limits.memory": "24960Mi",
    "requests.storage": "160Gi",
}
MISTAKES: list[tuple[str, str, dict[str, str], str, str]] = [
    # (what, annotation as kubectl writes it, quota it must get, reason, in the message)
    ("blank plan id", f"{PLAN}= ", FLOOR, "PlanNotFound", f"{PLAN}: ' ' is not a plan of the catalog"),
    ("empty plan id", f"{PLAN}=", FLOOR, "PlanNotFound", f"{PLAN}: '' is not a plan of the catalog"),
    ("padded plan id", f"{PLAN}=pro-pool ", FLOOR, "PlanNotFound", f"{PLAN}: 'pro-pool ' is not a plan"),
    ("padded subscription", f"{SUBSCRIPTION}= active", FLOOR, "UnknownSubscription", f"{SUBSCRIPTION}: ' active'"),
    (
        "padded add-on id",
        f'{ADDONS}=[{{"addonId":" turbo-x1","quantity":1}}]',
        PLAN_ALONE,
        "InvalidAddons",
        "add-on ' turbo-x1' is not in the catalog",
    ),
    (
        "an add-on repeated past 100",
        f'{ADDONS}=[{{"addonId":"turbo-x1","quantity":1}},{{"addonId":"turbo-x1","quantity":100}}]',
        WORKED_EXAMPLE,
        "InvalidAddons",
        "quantity 100 takes turbo-x1 to 101 in all, above 100; ignored",
    ),
]


def has_quota(orgs: Orgs, name: str, hard: dict[str, str]) -> None:
    """The HRQ is `hard` and the LimitRange is there."""
    assert orgs.hard(name) == hard
    assert orgs.limit_range(name) is not None


def test_mistyped_annotations_keep_a_quota_no_larger(orgs: Orgs, operator: OperatorProcess) -> None:
    names = {what: orgs.create({PLAN: "pro-pool", ADDONS: TURBO}) for what, *_ in MISTAKES}
    for name in names.values():
        eventually(functools.partial(has_quota, orgs, name, WORKED_EXAMPLE))
    with webhooks_off(operator):
        for what, annotation, _, _, _ in MISTAKES:
            orgs.annotate(names[what], annotation)
        for what, _, quota, reason, text in MISTAKES:
            name = names[what]
            condition = eventually(functools.partial(orgs.reason, name, reason))
            assert text in condition["message"], (what, condition)
            assert orgs.hard(name) == quota, what
            assert orgs.limit_range(name) is not None, f"{what}: the LimitRange was removed"
    for what in ("blank plan id", "padded subscription"):  # the quota stays the floor, not none
        assert orgs.status(names[what])["mode"] == "floor"


CATALOG_MISTAKES: list[tuple[str, Any, str]] = [
    (
        "1e1000 cores",
        lambda p: p["plans"]["pro-pool"]["requests"].update(cpu="1e1000"),
        "plans.pro-pool.requests.cpu: '1e1000' is above 9223372036854775807m (64-bit millicores)",
    ),
    (
        "10^26 pods",
        lambda p: p["plans"]["pro-pool"].update(pods=10**26),
        "plans.pro-pool.pods: 100000000000000000000000000 is above 9223372036854775",
    ),
    (
        "a burst that overflows with add-ons",
        lambda p: p["plans"]["pro-pool"].update(burstRatio=10**14),
        "plans.pro-pool.requests.cpu: with 100 x each enabled add-on",
    ),
    (
        "an exponent that would take minutes",
        lambda p: p["plans"]["pro-pool"]["requests"].update(memory="1e999999999"),
        "plans.pro-pool.requests.memory: '1e999999999' is out of range",
    ),
    (
        "a plan priced in a currency the others lack",
        lambda p: p["plans"]["pro-pool"].update(prices={"EUR": "179.00"}),
        "addons.turbo-x1: no price in EUR",
    ),
]


@pytest.mark.parametrize(("what", "edit", "problem"), CATALOG_MISTAKES, ids=[c[0] for c in CATALOG_MISTAKES])
def test_an_impossible_catalog_number_changes_no_quota(
    cluster: Cluster, orgs: Orgs, operator: OperatorProcess, what: str, edit: Any, problem: str
) -> None:
    name = orgs.create({PLAN: "pro-pool", ADDONS: TURBO})
    eventually(lambda: orgs.reason(name, "Applied"))
    before = orgs.hrq(name)
    assert before is not None
    with webhooks_off(operator):
        try:
            cluster.kubectl("apply", "-f", "-", input=catalog_yaml(edit))
            condition = eventually(lambda: orgs.reason(name, "CatalogInvalid"))
            assert problem in condition["message"], condition
            newcomer = orgs.create({PLAN: "pro-pool", ADDONS: TURBO})  # a reconcile under the bad catalog
            eventually(lambda: assert_eq(orgs.hard(newcomer), WORKED_EXAMPLE))
            unchanged = before["metadata"]["resourceVersion"]
            consistently(lambda: assert_eq(present(orgs.hrq(name))["metadata"]["resourceVersion"], unchanged), 2)
        finally:
            cluster.kubectl("apply", "-f", str(CATALOG_FILE))
    eventually(lambda: orgs.reason(name, "Applied"))


def test_with_the_webhooks_on_the_same_input_is_refused_in_the_same_words(
    cluster: Cluster, orgs: Orgs, webhooks: Webhooks
) -> None:
    name = orgs.create({PLAN: "pro-pool", ADDONS: TURBO})
    for _, annotation, _, _, text in MISTAKES:
        proc = cluster.kubectl("annotate", f"organization/{name}", "-n", name, annotation, "--overwrite", check=False)
        assert proc.returncode != 0, annotation
        assert 'admission webhook "organizations.orgquota.kube-dc.com" denied the request' in proc.stderr
        assert text.removesuffix("; ignored") in proc.stderr, proc.stderr
    proc = cluster.kubectl("annotate", f"organization/{name}", "-n", name, "billing.kube-dc.com/plan_id=dev-pool")
    assert "Warning: billing.kube-dc.com/plan_id is not a billing annotation, nothing reads it" in proc.stderr
    for _, edit, problem in CATALOG_MISTAKES:
        proc = cluster.kubectl("apply", "-f", "-", input=catalog_yaml(edit), check=False)
        assert proc.returncode != 0
        assert problem in proc.stderr, proc.stderr
