"""WHMCS end to end: the module's signed calls -> `orgquota api` -> annotations -> the operator's HRQ.

The API runs as a process with BILLING_PROVIDER=whmcs against the session's apiserver (through the
relay a test can cut), beside the operator; the module is `tests.support.whmcs_client`, which signs
as the PHP module does.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcluster.kubectl import Cluster
from orgquota.core.annotations import APPLIED_CALLS, PREFIX
from tests.support.billing_api import BillingApi, eventually, start_billing_api
from tests.support.catalog import DEV_POOL, FLOOR, WORKED_EXAMPLE
from tests.support.oidc import Issuer
from tests.support.operator_process import OperatorProcess
from tests.support.tcp_proxy import TcpProxy
from tests.support.whmcs_client import Answer, Signed, WhmcsModule, call_body

SECRET = "e2e-whmcs-secret-of-32-characters"
CLIENT_AREA = "https://billing.example.com/clientarea.php"


@pytest.fixture(scope="module")
def api(
    cluster: Cluster,
    api_operator: OperatorProcess,
    apiserver_relay: tuple[TcpProxy, Path],
    issuer: Issuer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BillingApi]:
    env = {"BILLING_PROVIDER": "whmcs", "WHMCS_WEBHOOK_SECRET": SECRET, "WHMCS_CLIENT_AREA_URL": CLIENT_AREA}
    api = start_billing_api(cluster, apiserver_relay[1], issuer, tmp_path_factory.mktemp("whmcs-api"), env)
    yield api
    api.stop()


@pytest.fixture
def module(api: BillingApi) -> WhmcsModule:
    return WhmcsModule(api.url, SECRET)


class Orgs:
    """Organizations as kubectl sees them (never through the API under test)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def create(self) -> str:
        name = f"whmcs-{uuid.uuid4().hex[:6]}"
        manifests = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            {
                "apiVersion": "kube-dc.com/v1",
                "kind": "Organization",
                "metadata": {"name": name, "namespace": name},
                "spec": {"email": f"admin@{name}.example"},
            },
        ]
        self.cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))
        return name

    def billing(self, name: str) -> dict[str, str]:
        """The billing annotations but the API's record of the calls it applied (`applied_calls`)."""
        org = self.cluster.get_json("organization", name, "-n", name)
        annotations = org["metadata"].get("annotations") or {}
        return {k: v for k, v in annotations.items() if k.startswith(PREFIX) and k != APPLIED_CALLS}

    def applied_calls(self, name: str) -> dict[str, int]:
        org = self.cluster.get_json("organization", name, "-n", name)
        return dict(json.loads((org["metadata"].get("annotations") or {}).get(APPLIED_CALLS, "{}")))

    def hard(self, name: str) -> dict[str, str]:
        hrq = self.cluster.get_json("hierarchicalresourcequotas.hnc.x-k8s.io", "plan-quota", "-n", name)
        hard: dict[str, str] = hrq["spec"]["hard"]
        return hard


@pytest.fixture
def orgs(cluster: Cluster) -> Orgs:
    return Orgs(cluster)


def metric(api: BillingApi, name: str, **labels: str) -> float:
    """The sum of the samples of `name` on the API's /metrics whose labels include `labels`."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    total = 0.0
    for line in api.http.get("/metrics").text.splitlines():
        sample = line.startswith(name + "{") or line.startswith(name + " ")
        if sample and all(label in line for label in wanted):
            total += float(line.split()[-1])
    return total


def hard_is(orgs: Orgs, name: str, expected: dict[str, str]) -> None:
    assert orgs.hard(name) == expected


def ok(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer.json
    assert answer.json["success"] is True
    data: dict[str, Any] = answer.json["data"]
    return data


def refused(answer: Answer, status: int, message: str) -> dict[str, Any]:
    assert answer.status == status, answer.json
    assert answer.json["success"] is False
    assert message in answer.json["error"], answer.json
    return answer.json


class Clock:
    """Provider times one second apart, ending near now (the window is 300 s back)."""

    def __init__(self) -> None:
        self.now = int(time.time()) - 120

    def tick(self) -> int:
        self.now += 1
        return self.now


def test_config_offers_no_checkout_and_links_the_client_area(api: BillingApi) -> None:
    response = api.get("/config", api.admin_of("acme"))
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {
        "provider": "whmcs",
        "features": {
            "quotas": True,
            "plans": True,
            "checkout": False,
            "portal": False,
            "webhooks": True,
            "addons": False,
            "history": False,  # no PROMETHEUS_URL here
            "notifications": False,  # nor SMTP_URL
        },
        "externalBillingUrl": CLIENT_AREA,
    }


def test_every_action_reaches_the_quota(module: WhmcsModule, api: BillingApi, orgs: Orgs) -> None:
    name = orgs.create()
    clock = Clock()
    applied = metric(api, "orgquota_webhook_events_total", provider="whmcs", type="activate", outcome="applied")

    ok(module.call("activate", name, clock.tick(), options={"Turbo x1": "1", "Location": "Frankfurt"}))
    after_activate = orgs.billing(name)
    assert after_activate == {
        PREFIX + "subscription": "active",
        PREFIX + "plan-id": "pro-pool",
        PREFIX + "plan-name": "Pro Pool",
        PREFIX + "provider-subscription-id": "whmcs-svc-42",
        PREFIX + "provider-customer-id": "whmcs-client-7",
        PREFIX + "addons": '[{"addonId":"turbo-x1","quantity":1}]',
        PREFIX + "provider-event-created": str(clock.now),
        PREFIX + "whmcs-client": "whmcs-client-7",  # bound by its first activation
    }
    eventually(lambda: hard_is(orgs, name, WORKED_EXAMPLE))
    assert metric(api, "orgquota_webhook_events_total", type="activate", outcome="applied") == applied + 1

    renewed = ok(module.call("renew", name, clock.tick()))
    assert renewed["changes"] == {}
    assert orgs.billing(name) == after_activate | {PREFIX + "provider-event-created": str(clock.now)}  # its place

    ok(module.call("change", name, clock.tick(), plan_id="dev-pool", options={}))
    assert orgs.billing(name) == after_activate | {
        PREFIX + "plan-id": "dev-pool",
        PREFIX + "plan-name": "Dev Pool",
        PREFIX + "addons": "[]",
        PREFIX + "provider-event-created": str(clock.now),
    }
    eventually(lambda: hard_is(orgs, name, DEV_POOL))

    ok(module.call("suspend", name, clock.tick(), plan_id="dev-pool"))
    suspended = orgs.billing(name)
    assert suspended[PREFIX + "subscription"] == "suspended"
    assert PREFIX + "suspended-at" in suspended
    eventually(lambda: hard_is(orgs, name, FLOOR))

    ok(module.call("unsuspend", name, clock.tick(), plan_id="pro-pool", options={"Turbo x1": 1}))
    resumed = orgs.billing(name)
    assert resumed[PREFIX + "subscription"] == "active"
    assert PREFIX + "suspended-at" not in resumed
    eventually(lambda: hard_is(orgs, name, WORKED_EXAMPLE))

    ok(module.call("terminate", name, clock.tick()))
    assert orgs.billing(name) == {
        PREFIX + "subscription": "canceled",
        PREFIX + "addons": '[{"addonId":"turbo-x1","quantity":1}]',
        PREFIX + "provider-event-created": str(clock.now),
        PREFIX + "whmcs-client": "whmcs-client-7",  # still bound: another client cannot take it over
    }
    eventually(lambda: hard_is(orgs, name, FLOOR))


def test_a_late_call_changes_nothing(module: WhmcsModule, orgs: Orgs) -> None:
    name = orgs.create()
    clock = Clock()
    earlier = clock.tick()
    ok(module.call("activate", name, clock.tick(), options={}))
    before = orgs.billing(name)
    late = ok(module.call("suspend", name, earlier))  # delivered after a newer call
    assert late["changes"] == {}
    assert orgs.billing(name) == before


def test_refused_calls_write_nothing(module: WhmcsModule, api: BillingApi, orgs: Orgs) -> None:
    name = orgs.create()
    now = int(time.time())
    ok(module.call("activate", name, now - 1, options={"Turbo x2": 2}))
    before = orgs.billing(name)
    suspend = call_body("suspend", name)

    forged = WhmcsModule(module.api_url, "not-the-secret")
    refused(forged.send(forged.signed(suspend)), 401, "signature does not match")
    signed = module.signed(suspend)
    refused(module.send(Signed(signed.body, {"Content-Type": "application/json"})), 401, "missing X-KubeDC")
    tampered = module.signed(suspend)
    refused(
        module.send(Signed(tampered.body.replace(b"suspend", b"terminate"), tampered.headers)),
        401,
        "signature does not match",
    )
    refused(module.send(module.signed(suspend, now - 301)), 401, "too old")
    refused(module.send(module.signed(suspend, now + 120)), 401, "from the future")

    refused(module.call("upgrade", name), 400, "unknown action 'upgrade'")
    missing = refused(module.send(module.signed({"action": "suspend", "organization": name})), 400, "missing fields")
    assert missing["error"] == "missing fields: planId, serviceId, clientId"
    assert missing["details"]["missing"] == ["planId", "serviceId", "clientId"]
    refused(module.call("change", name, plan_id="gold-pool"), 400, "planId: 'gold-pool' is not a plan")
    refused(module.call("activate", name, options={"Turbo x1": "many"}), 400, "configurableOptions.Turbo x1")
    unknown = module.call("suspend", "no-such-org")
    assert unknown.status == 404
    assert {k: unknown.json[k] for k in ("success", "error", "code")} == {
        "success": False,
        "error": "Organization not found",
        "code": "ORG_NOT_FOUND",
    }
    # another WHMCS customer's service or client naming this organization: 409, nothing written
    refused(module.call("suspend", name, service_id=99), 409, "holds WHMCS service whmcs-svc-42, not whmcs-svc-99")
    refused(module.call("activate", name, client_id=8, service_id=80), 409, "bound to WHMCS client whmcs-client-7")
    assert orgs.billing(name) == before

    # A signed call is applied once: a copy within the window is refused, and after it too.
    renew = module.signed(call_body("renew", name), int(time.time()) - 296)
    assert ok(module.send(renew))["changes"] == {}
    refused(module.send(renew), 401, "already applied")
    eventually(lambda: refused(module.send(renew), 401, "too old"), timeout=15)
    assert orgs.billing(name) == before
    assert metric(api, "orgquota_webhook_events_total", provider="whmcs", outcome="unauthorized") >= 5


def test_a_copy_sent_to_another_api_replica_is_refused(
    module: WhmcsModule,
    orgs: Orgs,
    cluster: Cluster,
    apiserver_relay: tuple[TcpProxy, Path],
    issuer: Issuer,
    tmp_path: Path,
) -> None:
    """Two API replicas behind one Service: the call is recorded in the Organization, not in a process."""
    name = orgs.create()
    ok(module.call("activate", name, int(time.time()) - 2, options={}))
    suspend = module.signed(call_body("suspend", name))
    assert ok(module.send(suspend))["changes"][PREFIX + "subscription"] == "suspended"
    assert len(orgs.applied_calls(name)) == 2
    env = {"BILLING_PROVIDER": "whmcs", "WHMCS_WEBHOOK_SECRET": SECRET, "WHMCS_CLIENT_AREA_URL": CLIENT_AREA}
    other = start_billing_api(cluster, apiserver_relay[1], issuer, tmp_path, env)
    try:
        cluster.kubectl("annotate", "organization", name, "-n", name, f"{PREFIX}subscription=active", "--overwrite")
        refused(WhmcsModule(other.url, SECRET).send(suspend), 401, "already applied")
    finally:
        other.stop()
    assert orgs.billing(name)[PREFIX + "subscription"] == "active"


def test_an_apiserver_outage_answers_503_and_the_same_call_succeeds_after(
    module: WhmcsModule, orgs: Orgs, apiserver_relay: tuple[TcpProxy, Path]
) -> None:
    name = orgs.create()
    ok(module.call("activate", name, int(time.time()) - 2, options={}))
    before = orgs.billing(name)
    suspend = module.signed(call_body("suspend", name))
    proxy, _ = apiserver_relay
    proxy.stop()
    try:
        failed = module.send(suspend)
    finally:
        proxy.start()
    assert failed.status == 503, failed.json
    assert failed.json["error"] == "the Kubernetes API failed; nothing was written, try again"
    assert orgs.billing(name) == before
    # Not applied, so not remembered: WHMCS may send the very same signed call again.
    assert ok(module.send(suspend))["changes"][PREFIX + "subscription"] == "suspended"
