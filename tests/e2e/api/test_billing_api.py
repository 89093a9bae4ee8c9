"""The billing API as a process against the real apiserver with the operator running: answers follow
annotation and catalog edits without a restart, downgrades are judged against the HRQ's usage, and an
apiserver outage is a 503 that ends by itself."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcluster.kubectl import Cluster
from orgquota.core.annotations import PREFIX
from tests.support import tree
from tests.support.billing_api import BillingApi, eventually
from tests.support.files import CATALOG_FILE
from tests.support.oidc import bearer
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import assert_eq

CATALOG = CATALOG_FILE


@pytest.fixture
def org(cluster: Cluster) -> Iterator[str]:
    """A fresh organization on dev-pool in a namespace of its own name."""
    name = f"api-{uuid.uuid4().hex[:6]}"
    manifests = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        {
            "apiVersion": "kube-dc.com/v1",
            "kind": "Organization",
            "metadata": {"name": name, "namespace": name, "annotations": {PREFIX + "plan-id": "dev-pool"}},
            "spec": {"email": f"admin@{name}.example"},
        },
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))
    yield name
    cluster.kubectl("delete", "organization", name, "-n", name, "--ignore-not-found", "--wait=false")


def test_answers_follow_annotations_without_restart(billing_api: BillingApi, cluster: Cluster, org: str) -> None:
    admin = billing_api.admin_of(org)

    def on(plan: str, cpu_limit: float) -> None:
        sub = billing_api.data("/organization-subscription", admin)
        assert (sub["planId"], sub["usage"]["cpu"]["limit"], sub["pending"]) == (plan, cpu_limit, False)

    eventually(lambda: on("dev-pool", 4.3))  # 4 cores + 3 projects x 100m, as the operator computes
    addons = json.dumps([{"addonId": "turbo-x1", "quantity": 2}])
    cluster.kubectl(
        "annotate",
        f"organization/{org}",
        "-n",
        org,
        f"{PREFIX}plan-id=pro-pool",
        f"{PREFIX}addons={addons}",
        "--overwrite",
    )
    eventually(lambda: on("pro-pool", 12.3))
    sub = billing_api.data("/organization-subscription", admin)
    assert sub["addons"] == [{"addonId": "turbo-x1", "quantity": 2}]
    assert sub["resources"] == {"cpu": 12, "memory": 32, "storage": 200}
    # the operator's HRQ arrives through the watch: the status route sees it
    status = eventually(lambda: _enforced(billing_api.data("/quota-status", admin)))
    assert (status["planId"], status["mode"], status["limitRangeExists"]) == ("pro-pool", "plan", True)


def _enforced(status: dict[str, object]) -> dict[str, object]:
    assert (status["hrqExists"], status["reason"]) == (True, "Applied"), status
    return status


def test_catalog_edits_show_without_restart(billing_api: BillingApi, cluster: Cluster) -> None:
    guest = bearer(billing_api.issuer.token())
    original = CATALOG.read_text()
    configmap = yaml.safe_load(original)
    plans = yaml.safe_load(configmap["data"]["plans.yaml"])
    plans["plans"]["dev-pool"]["displayName"] = "Dev Pool (renamed)"
    configmap["data"]["plans.yaml"] = yaml.safe_dump(plans)
    try:
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(configmap))

        def renamed() -> None:
            names = {p["id"]: p["displayName"] for p in billing_api.data("/plans", guest)}
            assert names["dev-pool"] == "Dev Pool (renamed)"

        eventually(renamed)
    finally:
        cluster.kubectl("apply", "-f", str(CATALOG))


def test_simulate_downgrade_against_hrq_usage(billing_api: BillingApi, enforcing_cluster: Cluster, org: str) -> None:
    """Usage is real: pods in a project namespace, counted by the controller-manager and summed by HNC."""
    cluster = enforcing_cluster
    admin = billing_api.admin_of(org)
    cluster.kubectl("annotate", f"organization/{org}", "-n", org, f"{PREFIX}plan-id=pro-pool", "--overwrite")
    eventually(lambda: _hrq_plan(cluster, org, "pro-pool"))
    dev = tree.project(cluster, org, "dev")
    eventually(lambda: tree.quota_ready(cluster, dev))
    tree.admitted(cluster, *(tree.pod(dev, f"app-{i}", "2", memory) for i, memory in enumerate(["3Gi", "3Gi", "4Gi"])))
    eventually(lambda: assert_eq(tree.hrq_used(cluster, org).get("requests.cpu"), "6"), timeout=60)
    simulate = billing_api.http.post

    def judged() -> dict[str, Any]:
        response = simulate("/api/billing/simulate-downgrade", headers=admin, json={"planId": "dev-pool"})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["data"]
        assert result["fits"] is False, result
        return result

    result = eventually(judged)
    violations = {v["resource"]: (v["used"], v["newLimit"]) for v in result["violations"]}
    assert violations["requests.cpu"] == ("6", "4300m")
    assert violations["requests.memory"] == ("10Gi", "8576Mi")
    fits = simulate("/api/billing/simulate-downgrade", headers=admin, json={"planId": "scale-pool"}).json()
    assert fits["data"] == {"fits": True, "violations": []}
    usage = billing_api.data("/quota-usage", admin)
    assert (usage["cpu"]["used"], usage["memory"]["used"], usage["pods"]["used"]) == (6, 10, 3)
    projects = {p["namespace"]: p for p in billing_api.data("/projects", admin)}
    assert set(projects) == {org, dev}
    assert projects[dev]["usage"] == {"pods": 3, "cpu": 6, "memory": 10, "storage": 0}
    assert projects[dev]["cap"] is None
    assert projects[dev]["organization"] == org
    user = bearer(billing_api.issuer.token(org=org, namespaces=[dev]))
    overview = billing_api.data(f"/project/{dev}/overview", user)
    assert overview == {"namespace": dev, "compute": {"pods": 3, "cpu": 6, "memory": 10}, "billing": None}
    denied = billing_api.get(f"/project/{org}/overview", user)
    assert denied.status_code == 403
    assert denied.json()["details"] == {"namespace": org, "availableNamespaces": [dev]}


def _hrq_plan(cluster: Cluster, namespace: str, plan: str) -> None:
    proc = cluster.kubectl(
        "get", "hierarchicalresourcequotas.hnc.x-k8s.io", "plan-quota", "-n", namespace, "-o", "json", check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["metadata"]["labels"][PREFIX + "plan-id"] == plan


def test_apiserver_outage_is_503_then_recovers(
    billing_api: BillingApi, cluster: Cluster, apiserver_relay: tuple[TcpProxy, Path], org: str
) -> None:
    proxy, _ = apiserver_relay
    admin = billing_api.admin_of(org)
    eventually(lambda: billing_api.data("/quota-usage", admin))
    proxy.stop()
    try:

        def unavailable() -> None:
            response = billing_api.get("/quota-usage", admin)
            assert response.status_code == 503, response.text
            body = response.json()
            assert "Kubernetes API" in body["error"], body

        eventually(unavailable, timeout=20)
        health = billing_api.get("/health", admin)
        assert health.status_code == 503
        assert health.json()["details"]["problems"]
        # changed while the API cannot see it: the new LIST after the outage brings it in
        cluster.kubectl("annotate", f"organization/{org}", "-n", org, f"{PREFIX}plan-id=pro-pool", "--overwrite")
    finally:
        proxy.start()
    eventually(lambda: _plan_is(billing_api.data("/organization-subscription", admin), "pro-pool"), timeout=40)


def _plan_is(sub: dict[str, object], plan: str) -> None:
    assert sub["planId"] == plan, sub


def test_http_errors_and_metrics(billing_api: BillingApi) -> None:
    expired = billing_api.issuer.token(iat=1, exp=2)
    response = billing_api.get("/config", bearer(expired))
    assert response.status_code == 401
    assert response.json()["error"] == "the token has expired"
    assert billing_api.http.post("/api/billing/webhook").status_code == 404
    metrics = billing_api.http.get("/metrics").text
    assert 'route="/api/billing/config",status="401"' in metrics
    assert "window.keycloakURL" in billing_api.http.get("/env.js").text
