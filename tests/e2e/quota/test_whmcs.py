"""WHMCS end to end: the module's signed calls -> `orgquota api` -> annotations -> the operator's HRQ.

The API runs as a process with BILLING_PROVIDER=whmcs against the session's apiserver, beside the
operator; the module is `tests.support.whmcs_client`, which signs as the PHP module does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from localcluster.kubectl import Cluster
from tests.e2e.quota.conftest import OperatorProcess, Orgs, assert_eq, eventually
from tests.e2e.quota.test_quota import DEV_POOL, FLOOR, WORKED_EXAMPLE
from tests.support.api_process import ApiProcess
from tests.support.whmcs_client import Answer, Signed, WhmcsModule, call_body
from tests.unit.api.conftest import Issuer

SECRET = "e2e-whmcs-secret"
CLIENT_AREA = "https://billing.example.com/clientarea.php"
P = "billing.kube-dc.com/"


@pytest.fixture(scope="module")
def api(cluster: Cluster, operator: OperatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    issuer = Issuer()
    env = {
        **cluster.env,
        "BILLING_PROVIDER": "whmcs",
        "WHMCS_WEBHOOK_SECRET": SECRET,
        "WHMCS_CLIENT_AREA_URL": CLIENT_AREA,
        "OIDC_ISSUER_URL": issuer.url,
        "ORGANIZATION_PROJECTS_LIMIT": operator.env["ORGANIZATION_PROJECTS_LIMIT"],
        "ORGQUOTA_LOG_LEVEL": "DEBUG",
    }
    token = issuer.token(org="acme", groups=["org-admin"], namespaces=[])
    process = ApiProcess(env, tmp_path_factory.mktemp("api") / "api.log", token)
    process.start()
    yield process
    process.stop()
    issuer.close()
    print(f"billing API log: {process.log_path}")


@pytest.fixture
def module(api: ApiProcess) -> WhmcsModule:
    return WhmcsModule(api.url, SECRET)


def billing(orgs: Orgs, name: str) -> dict[str, str]:
    org = orgs.get("organization", name, name)
    assert org is not None
    return {k: v for k, v in (org["metadata"].get("annotations") or {}).items() if k.startswith(P)}


def ok(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer.json
    assert answer.json["success"] is True
    data: dict[str, Any] = answer.json["data"]
    return data


class Clock:
    """Provider times one second apart, ending near now (the window is 300 s back)."""

    def __init__(self) -> None:
        self.now = int(time.time()) - 120

    def tick(self) -> int:
        self.now += 1
        return self.now


def test_config_offers_no_checkout_and_links_the_client_area(api: ApiProcess) -> None:
    status, body = api.get("/api/billing/config")
    assert status == 200
    assert body["config"] == {
        "provider": "whmcs",
        "features": {
            "quotas": True,
            "plans": True,
            "checkout": False,
            "portal": False,
            "webhooks": True,
            "addons": False,
        },
        "externalBillingUrl": CLIENT_AREA,
    }


def test_every_action_reaches_the_quota(module: WhmcsModule, api: ApiProcess, orgs: Orgs) -> None:
    name = orgs.create()
    clock = Clock()
    applied = api.metric("orgquota_webhook_events_total", provider="whmcs", type="activate", outcome="applied")

    ok(module.call("activate", name, clock.tick(), options={"Turbo x1": "1", "Location": "Frankfurt"}))
    after_activate = billing(orgs, name)
    assert after_activate == {
        P + "subscription": "active",
        P + "plan-id": "pro-pool",
        P + "plan-name": "Pro Pool",
        P + "provider-subscription-id": "whmcs-svc-42",
        P + "provider-customer-id": "whmcs-client-7",
        P + "addons": '[{"addonId":"turbo-x1","quantity":1}]',
        P + "provider-event-created": str(clock.now),
    }
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))
    assert api.metric("orgquota_webhook_events_total", type="activate", outcome="applied") == applied + 1

    renewed = ok(module.call("renew", name, clock.tick()))
    assert renewed["changes"] == {}
    assert billing(orgs, name) == after_activate

    ok(module.call("change", name, clock.tick(), plan_id="dev-pool", options={}))
    assert billing(orgs, name) == after_activate | {
        P + "plan-id": "dev-pool",
        P + "plan-name": "Dev Pool",
        P + "addons": "[]",
        P + "provider-event-created": str(clock.now),
    }
    eventually(lambda: assert_eq(orgs.hard(name), DEV_POOL))

    ok(module.call("suspend", name, clock.tick(), plan_id="dev-pool"))
    suspended = billing(orgs, name)
    assert suspended[P + "subscription"] == "suspended"
    assert P + "suspended-at" in suspended
    eventually(lambda: assert_eq(orgs.hard(name), FLOOR))

    ok(module.call("unsuspend", name, clock.tick(), plan_id="pro-pool", options={"Turbo x1": 1}))
    resumed = billing(orgs, name)
    assert resumed[P + "subscription"] == "active"
    assert P + "suspended-at" not in resumed
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))

    ok(module.call("terminate", name, clock.tick()))
    assert billing(orgs, name) == {
        P + "subscription": "canceled",
        P + "addons": '[{"addonId":"turbo-x1","quantity":1}]',
        P + "provider-event-created": str(clock.now),
    }
    eventually(lambda: assert_eq(orgs.hard(name), FLOOR))


def test_a_late_call_changes_nothing(module: WhmcsModule, orgs: Orgs) -> None:
    name = orgs.create()
    clock = Clock()
    earlier = clock.tick()
    ok(module.call("activate", name, clock.tick(), options={}))
    before = billing(orgs, name)
    late = ok(module.call("suspend", name, earlier))  # delivered after a newer call
    assert late["changes"] == {}
    assert billing(orgs, name) == before


def test_refused_calls_write_nothing(module: WhmcsModule, api: ApiProcess, orgs: Orgs) -> None:
    name = orgs.create()
    now = int(time.time())
    ok(module.call("activate", name, now - 1, options={"Turbo x2": 2}))
    before = billing(orgs, name)
    suspend = call_body("suspend", name)

    def refused(answer: Answer, status: int, message: str) -> dict[str, Any]:
        assert answer.status == status, answer.json
        assert answer.json["success"] is False
        assert message in answer.json["error"], answer.json
        return answer.json

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
    other = ok(module.call("suspend", name, service_id=99))
    assert other["changes"] == {}
    assert "whmcs-svc-99 is not the organization's subscription" in other["ignored"]
    assert billing(orgs, name) == before

    # A signed call is applied once: a copy within the window is refused, and after it too.
    renew = module.signed(call_body("renew", name), int(time.time()) - 296)
    assert ok(module.send(renew))["changes"] == {}
    refused(module.send(renew), 401, "already applied")
    eventually(lambda: refused(module.send(renew), 401, "too old"), timeout=15)
    assert billing(orgs, name) == before
    assert api.metric("orgquota_webhook_events_total", provider="whmcs", outcome="unauthorized") >= 5
