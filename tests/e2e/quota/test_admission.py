"""Admission end to end: the real apiserver calls the operator's webhooks; bad input that gets in anyway."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcluster.kubectl import Cluster
from tests.support.catalog import catalog_yaml
from tests.support.cluster import apply_ok
from tests.support.files import CATALOG_FILE, E2E_QUOTA_DIR
from tests.support.operator_process import OperatorProcess, Webhooks
from tests.support.orgs import Orgs
from tests.support.tree import admitted, pod, quota_ready
from tests.support.tree import project as make_project
from tests.support.waiting import assert_eq, consistently, eventually

TURBO = '[{"addonId":"turbo-x1","quantity":1}]'


def apply(cluster: Cluster, manifest: str, *flags: str) -> tuple[int, str]:
    proc = cluster.kubectl("apply", *flags, "-f", "-", input=manifest, check=False)
    return proc.returncode, proc.stderr


def set_cpu(plan: str, cpu: str) -> Any:
    def edit(plans: dict[str, Any]) -> None:
        plans["plans"][plan]["requests"]["cpu"] = cpu

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda p: p["plans"]["pro-pool"]["limitRange"].update(maxCPU="abc"),
            "plans.pro-pool.limitRange.maxCPU: 'abc' is not a quantity",
        ),
        (
            lambda p: p["plans"]["dev-pool"].update(burstRatio=0),
            "plans.dev-pool.burstRatio: Input should be greater than 0",
        ),
        (lambda p: p.pop("suspendedPlan"), "suspendedPlan: required"),
        (lambda p: p["addons"]["turbo-x1"].update(memory="4 GB"), "addons.turbo-x1.memory: '4 GB' is not a quantity"),
        ("plans: [unclosed", "plans.yaml: not valid YAML"),
        (
            lambda p: p["plans"]["pro-pool"].update(trial={"days": 91}),
            "plans.pro-pool.trial.days: Input should be less than or equal to 90",
        ),
        (
            lambda p: p["plans"]["pro-pool"].update(prices={"Euro": "179.00"}),
            "plans.pro-pool.prices.Euro.[key]: 'Euro' is not an ISO 4217 currency code",
        ),
        (lambda p: p["plans"]["pro-pool"].update(prices={"EUR": "179.00"}), "plans.dev-pool: no price in EUR"),
        (
            lambda p: p["plans"]["pro-pool"].update(currency="JPY", price="199.5"),
            "price: 199.5 has more decimals than JPY allows (0)",
        ),
    ],
)
def test_bad_catalogs_are_rejected(cluster: Cluster, webhooks: Webhooks, edit: Any, message: str) -> None:
    code, stderr = apply(cluster, catalog_yaml(edit))
    assert code != 0
    assert 'admission webhook "catalog.orgquota.kube-dc.com" denied the request' in stderr
    assert message in stderr


def test_only_the_catalog_is_judged(cluster: Cluster, webhooks: Webhooks) -> None:
    other = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "not-the-catalog", "namespace": "kube-dc"},
        "data": {"plans.yaml": "plans: [unclosed"},
    }
    code, stderr = apply(cluster, json.dumps(other))
    assert code == 0, stderr


@pytest.mark.usefixtures("enforcing_cluster")
def test_catalog_change_preview(cluster: Cluster, orgs: Orgs, operator: OperatorProcess, webhooks: Webhooks) -> None:
    busy = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
    eventually(lambda: _has_hrq(orgs, busy))
    eventually(lambda: quota_ready(cluster, busy))
    admitted(cluster, pod(busy, "a", cpu="1750m"), pod(busy, "b", cpu="1750m"))  # counted by HNC into the HRQ
    eventually(lambda: assert_eq((orgs.status(busy).get("quotaUsage") or {}).get("used", {}).get("cpu"), "3500m"))
    operator.wait_idle()
    code, stderr = apply(cluster, catalog_yaml(set_cpu("dev-pool", "2")), "--dry-run=server")
    assert code == 0, stderr
    changed = [line for line in stderr.splitlines() if "this catalog changes the quota of" in line]
    assert changed, stderr
    assert busy in changed[0]
    over = f"would be over their new quota: {busy} (requests.cpu used 3500m > 2300m, limits.cpu used 3500m > 2300m)"
    assert over in stderr
    code, stderr = apply(
        cluster, catalog_yaml(lambda p: p["plans"]["dev-pool"].update(displayName="Dev")), "--dry-run=server"
    )
    assert code == 0
    assert "changes the quota of 0 of" in stderr  # a catalog-data edit changes no quota


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ("billing.kube-dc.com/plan-id=gold", "billing.kube-dc.com/plan-id: 'gold' is not a plan of the catalog"),
        ("billing.kube-dc.com/subscription=paused", "billing.kube-dc.com/subscription: 'paused' is not one of active"),
        ("billing.kube-dc.com/addons=turbo please", "billing.kube-dc.com/addons is not valid JSON"),
        (
            'billing.kube-dc.com/addons=[{"addonId":"turbo-x9","quantity":1}]',
            "billing.kube-dc.com/addons: add-on 'turbo-x9' is not in the catalog",
        ),
        (
            'billing.kube-dc.com/addons=[{"addonId":"turbo-x1","quantity":0}]',
            "quantity 0 is not a whole number from 1 to 100",
        ),
        (
            'billing.kube-dc.com/addons=[{"addonId":"turbo-x1","quantity":101}]',
            "quantity 101 is not a whole number from 1 to 100",
        ),
        (
            "billing.kube-dc.com/suspended-at=yesterday",
            "billing.kube-dc.com/suspended-at: 'yesterday' is not an RFC 3339",
        ),
    ],
)
def test_bad_annotations_are_rejected(orgs: Orgs, webhooks: Webhooks, annotation: str, message: str) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
    proc = orgs.cluster.kubectl("annotate", f"organization/{name}", "-n", name, annotation, "--overwrite", check=False)
    assert proc.returncode != 0
    assert 'admission webhook "organizations.orgquota.kube-dc.com" denied the request' in proc.stderr
    assert message in proc.stderr


def test_good_annotations_pass(orgs: Orgs, webhooks: Webhooks) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
    orgs.annotate(
        name,
        "billing.kube-dc.com/addons=" + TURBO,
        "billing.kube-dc.com/subscription=trialing",
        "billing.kube-dc.com/suspended-at=2026-11-24T10:00:00Z",
    )


def test_a_value_that_predates_the_catalog_does_not_block_other_edits(
    cluster: Cluster, orgs: Orgs, webhooks: Webhooks
) -> None:
    with_legacy = catalog_yaml(lambda p: p["plans"].update(legacy=p["plans"]["dev-pool"]))
    assert apply(cluster, with_legacy)[0] == 0
    try:
        name = orgs.create({"billing.kube-dc.com/plan-id": "legacy"})
        eventually(lambda: _has_hrq(orgs, name))
    finally:
        cluster.kubectl("apply", "-f", str(CATALOG_FILE))  # legacy is retired
    orgs.annotate(name, "billing.kube-dc.com/subscription=active")  # plan-id unchanged: not judged again
    eventually(lambda: orgs.reason(name, "PlanNotFound"))


def eip(namespace: str, name: str, public: bool = True) -> str:
    labels = {"network.kube-dc.com/external-network-type": "public" if public else "cloud"}
    return json.dumps(
        {
            "apiVersion": "kube-dc.com/v1",
            "kind": "EIp",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {},
        }
    )


@pytest.fixture(scope="module")
def eip_crd(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(E2E_QUOTA_DIR / "eip-crd.yaml"))
    cluster.kubectl("wait", "--for=condition=Established", "crd/eips.kube-dc.com", "--timeout=60s")


def test_public_eips_are_limited_by_the_plan(cluster: Cluster, orgs: Orgs, webhooks: Webhooks, eip_crd: None) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool"})  # eipQuota: pro-pool 1
    project = make_project(cluster, name, "web")
    eventually(lambda: apply_ok(cluster, eip(project, "first")))  # the webhook may still be learning the CRD
    code, stderr = apply(cluster, eip(name, "second"))
    assert code != 0
    assert 'admission webhook "eips.orgquota.kube-dc.com" denied the request' in stderr
    assert (
        f"organization {name}: public EIp quota reached: plan pro-pool allows 1 and the organization holds 1" in stderr
    )
    assert apply(cluster, eip(name, "private", public=False))[0] == 0  # only public ones count


def test_no_public_eip_on_the_floor(cluster: Cluster, orgs: Orgs, webhooks: Webhooks, eip_crd: None) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "scale-pool", "billing.kube-dc.com/subscription": "suspended"})
    _, stderr = eventually(lambda: _denied(cluster, eip(name, "ip")))
    assert "the organization is on the suspended floor and the organization holds 0" in stderr


def test_with_the_webhook_down_a_bad_catalog_changes_nothing_even_across_restarts(
    cluster: Cluster, orgs: Orgs, operator: OperatorProcess, webhooks: Webhooks
) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool", "billing.kube-dc.com/addons": TURBO})
    eventually(lambda: orgs.reason(name, "Applied"))
    before = orgs.hrq(name)
    assert before is not None
    bad = catalog_yaml(lambda p: p["plans"]["pro-pool"]["requests"].update(cpu="lots"))
    with webhooks.off():
        try:
            assert apply(cluster, bad)[0] == 0
            condition = eventually(lambda: orgs.reason(name, "CatalogInvalid"))
            assert "plans.pro-pool.requests.cpu: 'lots' is not a quantity" in condition["message"]
            assert "the last good catalog stays in force" in condition["message"]
            operator.restart()  # a cold start with a bad catalog: the saved last good one stands in
            assert "is invalid" in operator.log()
            newcomer = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool", "billing.kube-dc.com/addons": TURBO})
            eventually(lambda: assert_eq(orgs.hard(newcomer), orgs.hard(name)))
            consistently(
                lambda: assert_eq(
                    orgs.hrq(name)["metadata"]["resourceVersion"],  # type: ignore[index]
                    before["metadata"]["resourceVersion"],
                ),
                duration=2,
            )
            eventually(
                lambda: assert_eq(
                    any(e["reason"] == "CatalogInvalid" for e in cluster.get_json("events", "-n", "kube-dc")["items"]),
                    True,
                )
            )
        finally:
            cluster.kubectl("apply", "-f", str(CATALOG_FILE))
    eventually(lambda: orgs.reason(name, "Applied"))


# -- helpers ----------------------------------------------------------------------------------


def _has_hrq(orgs: Orgs, name: str) -> None:
    assert orgs.hrq(name) is not None


def _denied(cluster: Cluster, manifest: str) -> tuple[int, str]:
    code, stderr = apply(cluster, manifest)
    assert code != 0, "expected a denial"
    return code, stderr
