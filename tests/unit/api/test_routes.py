"""Every always-mounted route, for every role, answered from the in-memory cluster."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.core.annotations import PREFIX
from tests.support.catalog import WORKED_EXAMPLE
from tests.support.envelope import assert_data, assert_error
from tests.support.oidc import Issuer, bearer

API = "/api/billing"
ORG_ROUTES = ["/organization-subscription", "/quota-usage", "/quota-status"]


def test_config_in_quota_only_mode(client: TestClient, guest: dict[str, str]) -> None:
    body = client.get(f"{API}/config", headers=guest).json()
    assert body == {
        "success": True,
        "config": {
            "provider": "none",
            "features": {
                "quotas": True,
                "plans": True,
                "checkout": False,
                "portal": False,
                "webhooks": False,
                "addons": False,
                "history": False,
                "notifications": False,
            },
            "externalBillingUrl": None,
        },
    }


def test_health(client: TestClient, guest: dict[str, str]) -> None:
    assert assert_data(client.get(f"{API}/health", headers=guest)) == {
        "status": "ok",
        "provider": "none",
        "catalog": {"valid": True, "plans": 3},
    }


def test_plans_are_self_service_and_cheapest_first(client: TestClient, project_user: dict[str, str]) -> None:
    plans = assert_data(client.get(f"{API}/plans", headers=project_user))
    assert [plan["id"] for plan in plans] == ["dev-pool", "pro-pool"]  # `internal` is not self-service
    dev = plans[0]
    assert dev["requests"] == {"cpu": "4", "memory": "8Gi", "storage": "60Gi"}
    assert dev["resources"] == {"cpu": 4, "memory": 8, "storage": 60}
    assert (dev["price"], dev["currency"], dev["objectStorage"], dev["ipv4"]) == (49, "EUR", "20Gi", 0)
    assert set(dev) == {
        *["id", "displayName", "description", "price", "currency", "recommended", "objectStorage", "ipv4", "features"],
        *["requests", "pods", "servicesLB", "burstRatio", "resources"],
    }


def test_addons_are_enabled_and_self_service(client: TestClient, guest: dict[str, str]) -> None:
    addons = assert_data(client.get(f"{API}/addons", headers=guest))
    assert [addon["id"] for addon in addons] == ["turbo-x1", "turbo-x2"]
    assert addons[0] == {
        "id": "turbo-x1",
        "displayName": "Turbo x1",
        "description": "",
        "price": 29,
        "currency": "EUR",
        "cpu": "2",
        "memory": "4Gi",
        "storage": "20Gi",
    }


def test_organization_subscription(client: TestClient, admin: dict[str, str]) -> None:
    sub = assert_data(client.get(f"{API}/organization-subscription", headers=admin))
    assert sub["organization"] == "acme"
    assert (sub["planId"], sub["planName"], sub["status"], sub["mode"], sub["ready"]) == (
        "pro-pool",
        "Pro Pool",
        "active",
        "plan",
        True,
    )
    assert (sub["providerSubscriptionId"], sub["providerCustomerId"]) == ("sub_123", "cus_456")
    assert sub["since"] == "2026-11-02T09:00:00Z"
    assert sub["addons"] == [{"addonId": "turbo-x1", "quantity": 1}]
    assert sub["resources"] == {"cpu": 10, "memory": 28, "storage": 180}  # what was sold: no overhead
    assert sub["monthlyCost"] == {"plan": 199, "addons": 29, "total": 228, "currency": "EUR"}
    # limits as enforced: 3 projects x (100m, 128Mi) of overhead included (10300m, 29056Mi)
    assert sub["usage"] == {
        "cpu": {"used": 9, "limit": 10.3},
        "memory": {"used": 12, "limit": 28.375},
        "storage": {"used": 45, "limit": 180},
        "pods": {"used": 23, "limit": 200},
        "publicIPv4": {"used": 1, "limit": 1},
    }


def test_organization_without_plan(client: TestClient, issuer: Issuer) -> None:
    sub = assert_data(client.get(f"{API}/organization-subscription", headers=_admin_of(issuer, "beta")))
    assert (sub["planId"], sub["status"], sub["mode"], sub["resources"], sub["monthlyCost"]) == (
        None,
        None,
        "none",
        None,
        None,
    )
    assert sub["usage"]["cpu"] == {"used": 0, "limit": None}


def test_suspended_organization_is_limited_to_the_floor(client: TestClient, issuer: Issuer) -> None:
    """gone's floor is not enforced yet (no HRQ, nothing applied): no limit is shown, the floor is pending."""
    usage = assert_data(client.get(f"{API}/quota-usage", headers=_admin_of(issuer, "gone")))
    assert usage["cpu"]["limit"] is None
    assert usage["publicIPv4"]["limit"] == 0  # the EIp admission check reads the annotations at once
    sub = assert_data(client.get(f"{API}/organization-subscription", headers=_admin_of(issuer, "gone")))
    assert sub["pending"] is True
    assert sub["pendingLimit"] == {"cpu": 0.5, "memory": 1, "storage": 0, "pods": 10, "publicIPv4": 0}
    status = assert_data(client.get(f"{API}/quota-status", headers=_admin_of(issuer, "gone")))
    assert (status["mode"], status["reason"], status["hrqExists"], status["quotaEnforced"]) == (
        "floor",
        "Suspended",
        False,
        False,
    )


def test_quota_usage(client: TestClient, admin: dict[str, str]) -> None:
    usage = assert_data(client.get(f"{API}/quota-usage", headers=admin))
    assert usage["cpu"] == {"used": 9, "limit": 10.3, "percent": 87.4}
    assert usage["loadBalancers"] == {"used": 1, "limit": 100, "percent": 1}
    assert usage["publicIPv4"] == {"used": 1, "limit": 1, "percent": 100}
    assert usage["lastUpdated"] == "2026-11-03T08:00:00Z"


def test_quota_status(client: TestClient, admin: dict[str, str]) -> None:
    assert assert_data(client.get(f"{API}/quota-status", headers=admin)) == {
        "quotaEnforced": True,
        "planId": "pro-pool",
        "mode": "plan",
        "hrqExists": True,
        "limitRangeExists": True,
        "ready": True,
        "reason": "Applied",
        "message": "plan pro-pool with 1 x turbo-x1 is enforced",
        "overQuota": [],
        "alerts": [{"resource": "cpu", "level": "warning", "percent": 87.3, "since": "2026-11-03T08:00:00Z"}],
    }


def test_over_quota_is_named(client: TestClient, cluster: Cluster, admin: dict[str, str]) -> None:
    hrq = {
        "metadata": {"namespace": "acme", "name": "plan-quota"},
        "status": {"hard": {"requests.cpu": "1", "pods": "5"}, "used": {"requests.cpu": "2", "pods": "5"}},
    }
    cluster.hrqs.apply("MODIFIED", hrq)
    assert assert_data(client.get(f"{API}/quota-status", headers=admin))["overQuota"] == ["cpu"]


@pytest.mark.parametrize("route", ORG_ROUTES)
def test_org_routes_refuse_project_users_and_guests(
    client: TestClient, route: str, project_user: dict[str, str], guest: dict[str, str]
) -> None:
    for headers, role in ((project_user, "project-user"), (guest, "guest")):
        body = assert_error(client.get(API + route, headers=headers), 403, "organization administrators only")
        assert body["details"]["role"] == role


def test_org_admin_of_an_organization_that_does_not_exist(client: TestClient, issuer: Issuer) -> None:
    body = assert_error(client.get(f"{API}/quota-usage", headers=_admin_of(issuer, "nowhere")), 404, "'nowhere'")
    assert body["details"] == {"organization": "nowhere"}


def test_simulate_downgrade(client: TestClient, admin: dict[str, str]) -> None:
    result = assert_data(
        client.post(f"{API}/simulate-downgrade", headers=admin, json={"planId": "dev-pool", "addons": []})
    )
    assert result["fits"] is False
    assert {v["resource"]: (v["used"], v["newLimit"]) for v in result["violations"]} == {
        "requests.cpu": ("9", "4300m"),
        "limits.cpu": ("9", "4300m"),
        "requests.memory": ("12Gi", "8576Mi"),
        "publicIPv4": ("1", "0"),
    }
    # the current add-on is counted when none are given: 4 + 2 + 0.3 cores
    kept = assert_data(client.post(f"{API}/simulate-downgrade", headers=admin, json={"planId": "dev-pool"}))
    assert ("9", "6300m") in {(v["used"], v["newLimit"]) for v in kept["violations"]}
    fits = assert_data(
        client.post(
            f"{API}/simulate-downgrade",
            headers=admin,
            json={"planId": "pro-pool", "addons": [{"addonId": "turbo-x2", "quantity": 1}]},
        )
    )
    assert fits == {"fits": True, "violations": []}


def test_simulate_downgrade_bad_input(client: TestClient, admin: dict[str, str]) -> None:
    def post(body: dict[str, Any]) -> Any:
        return client.post(f"{API}/simulate-downgrade", headers=admin, **body)

    body = assert_error(post({"json": {"planId": "gold"}}), 400, "unknown plan 'gold'")
    assert body["details"]["availablePlans"] == ["dev-pool", "internal", "pro-pool"]
    body = assert_error(post({"json": {"planId": "dev-pool", "addons": [{"addonId": "retired"}]}}), 400, "'retired'")
    assert body["details"]["availableAddons"] == ["hidden", "turbo-x1", "turbo-x2"]
    not_json = client.post(
        f"{API}/simulate-downgrade", headers={**admin, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert_error(not_json, 400, "not valid JSON")
    body = assert_error(post({"json": {"addons": []}}), 422, "planId")
    assert body["details"]["problems"][0]["field"] == "planId"
    assert_error(post({"json": {"planId": "dev-pool", "addons": [{"addonId": "turbo-x1", "quantity": 0}]}}), 422)
    assert_error(post({"json": {"planId": "dev-pool", "colour": "red"}}), 422, "colour")


def test_projects_by_role(
    client: TestClient, admin: dict[str, str], project_user: dict[str, str], guest: dict[str, str]
) -> None:
    projects = assert_data(client.get(f"{API}/projects", headers=admin))
    assert [p["namespace"] for p in projects] == ["acme", "acme-dev", "acme-prod"]
    dev = projects[1]
    assert (dev["namespace"], dev["organization"]) == ("acme-dev", "acme")
    assert dev["usage"] == {"pods": 2, "cpu": 0.75, "memory": 1.5, "storage": 10}
    assert projects[2]["usage"] == {"pods": 0, "cpu": 0, "memory": 0, "storage": 0}  # finished pods count for nothing
    assert [p["namespace"] for p in assert_data(client.get(f"{API}/projects", headers=project_user))] == ["acme-dev"]
    assert_error(client.get(f"{API}/projects", headers=guest), 403, "no organization or project rights")


def test_project_overview(client: TestClient, admin: dict[str, str], project_user: dict[str, str]) -> None:
    expected = {"namespace": "acme-dev", "compute": {"pods": 2, "cpu": 0.75, "memory": 1.5}, "billing": None}
    assert assert_data(client.get(f"{API}/project/acme-dev/overview", headers=admin)) == expected
    assert assert_data(client.get(f"{API}/project/acme-dev/overview", headers=project_user)) == expected
    body = assert_error(client.get(f"{API}/project/acme-prod/overview", headers=project_user), 403, "'acme-prod'")
    assert body["details"] == {"namespace": "acme-prod", "availableNamespaces": ["acme-dev"]}
    body = assert_error(client.get(f"{API}/project/beta-x/overview", headers=admin), 403, "access denied")
    assert body["details"]["availableNamespaces"] == ["acme", "acme-dev", "acme-prod"]


def test_project_overview_of_a_claimed_namespace_that_does_not_exist(client: TestClient, issuer: Issuer) -> None:
    headers = bearer(issuer.token(org="acme", namespaces=["ghost"]))
    body = assert_error(client.get(f"{API}/project/ghost/overview", headers=headers), 403, "'ghost'")
    assert body["details"] == {"namespace": "ghost", "availableNamespaces": []}


def test_a_claimed_namespace_of_another_organization_is_neither_listed_nor_shown(
    client: TestClient, issuer: Issuer
) -> None:
    """A token of acme's whose namespaces claim (an identity-provider attribute) names beta's project."""
    headers = bearer(issuer.token(org="acme", groups=["user"], namespaces=["acme-dev", "beta-x", "lonely"]))
    assert [p["namespace"] for p in assert_data(client.get(f"{API}/projects", headers=headers))] == ["acme-dev"]
    for namespace in ("beta-x", "lonely"):  # another organization's, and one in no organization's tree
        body = assert_error(client.get(f"{API}/project/{namespace}/overview", headers=headers), 403, "access denied")
        assert body["details"]["availableNamespaces"] == ["acme-dev"]
    no_org = bearer(issuer.token(groups=["user"], namespaces=["beta-x"]))  # a token with no organization
    assert assert_data(client.get(f"{API}/projects", headers=no_org)) == []
    assert_error(client.get(f"{API}/project/beta-x/overview", headers=no_org), 403)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/organization-subscription"),
        ("PUT", "/organization-subscription"),
        ("DELETE", "/organization-subscription"),
        ("POST", "/organization-subscription/addons"),
        ("DELETE", "/organization-subscription/addons/turbo-x1"),
        ("POST", "/customer-portal"),
        ("GET", "/verify-checkout"),
        ("POST", "/verify-checkout"),
        ("POST", "/webhook"),
        ("GET", "/no-such-thing"),
    ],
)
def test_provider_routes_do_not_exist_in_quota_only_mode(
    client: TestClient, admin: dict[str, str], method: str, path: str
) -> None:
    assert_error(client.request(method, API + path, headers=admin), 404, f"no such route: {method} {API}{path}")


def test_catalog_edits_and_bad_catalogs(client: TestClient, cluster: Cluster, guest: dict[str, str]) -> None:
    configmap = {"metadata": {"namespace": "kube-dc", "name": "billing-plans"}, "data": {"plans.yaml": "plans: {}"}}
    cluster.catalog.live.apply("MODIFIED", configmap)
    health = assert_data(client.get(f"{API}/health", headers=guest))
    assert health["catalog"]["valid"] is False
    assert "plans" in health["catalog"]["problem"]
    assert len(assert_data(client.get(f"{API}/plans", headers=guest))) == 2  # the last good one stays in force


def test_no_catalog_ever_is_503(settings: ApiSettings, cluster: Cluster, issuer: Issuer) -> None:
    empty = Cluster(settings)
    for cache in empty.caches:
        cache.replace([])
    with TestClient(create_app(settings, empty)) as client:
        headers = bearer(issuer.token())
        assert_error(client.get(f"{API}/health", headers=headers), 503, "no valid plan catalog", "does not exist")
        assert_error(client.get(f"{API}/plans", headers=headers), 503, "no valid plan catalog")


def test_saved_last_good_catalog_stands_in_after_a_restart(settings: ApiSettings, issuer: Issuer) -> None:
    fresh = Cluster(settings)
    for cache in fresh.caches:
        cache.replace([])
    live = {"metadata": {"namespace": "kube-dc", "name": "billing-plans"}, "data": {"plans.yaml": "{bad"}}
    saved_text = json.dumps(
        {
            "plans": {
                "p": {
                    "requests": {"cpu": "1", "memory": "1Gi", "storage": "1Gi"},
                    "pods": 1,
                    "servicesLB": 0,
                    "limitRange": {},
                }
            },
            "suspendedPlan": {"cpu": "1", "memory": "1Gi", "pods": 1, "servicesLB": 0},
        }
    )
    saved = {
        "metadata": {"namespace": "kube-dc", "name": "billing-plans-last-good"},
        "data": {"plans.yaml": saved_text},
    }
    fresh.catalog.live.replace([live])
    fresh.catalog.last_good.replace([saved])
    with TestClient(create_app(settings, fresh)) as client:
        headers = bearer(issuer.token())
        assert [p["id"] for p in assert_data(client.get(f"{API}/plans", headers=headers))] == ["p"]
        assert assert_data(client.get(f"{API}/health", headers=headers))["catalog"]["valid"] is False


def test_apiserver_unreachable_is_503(client: TestClient, cluster: Cluster, admin: dict[str, str]) -> None:
    cluster.orgs.broken("ClientConnectorError: connection refused")
    body = assert_error(client.get(f"{API}/quota-usage", headers=admin), 503, "Kubernetes API is unreachable")
    assert body["details"]["problems"] == ["organizations: ClientConnectorError: connection refused"]
    assert_error(client.get(f"{API}/health", headers=admin), 503)
    cluster.orgs.replace(list(_orgs_of(cluster)))  # listed again: answers again
    assert client.get(f"{API}/quota-usage", headers=admin).status_code == 200


def test_a_plan_change_is_pending_until_the_operator_enforces_it(
    client: TestClient, cluster: Cluster, admin: dict[str, str]
) -> None:
    """The new plan shows at once, its limits only as pending: the HRQ still enforces the old ones."""
    sub = assert_data(client.get(f"{API}/organization-subscription", headers=admin))
    assert (sub["pending"], sub["pendingLimit"]) == (False, None)
    acme = cluster.orgs.get("acme", "acme")
    assert acme is not None
    status = dict(acme.status)
    annotations = {PREFIX + "plan-id": "dev-pool", PREFIX + "subscription": "active"}
    org = {"metadata": {"namespace": "acme", "name": "acme", "annotations": annotations}, "status": status}
    cluster.orgs.apply("MODIFIED", org)
    sub = assert_data(client.get(f"{API}/organization-subscription", headers=admin))
    assert (sub["planId"], sub["addons"], sub["usage"]["cpu"]["limit"]) == ("dev-pool", [], 10.3)
    assert sub["pending"] is True  # dev-pool: 4 cores + 3 projects x 100m, no add-on
    assert sub["pendingLimit"] == {"cpu": 4.3, "memory": 8.375, "storage": 60, "pods": 100, "publicIPv4": 0}
    status["applied"] = {"planId": "dev-pool", "subscription": "active"}  # the operator enforced it
    cluster.orgs.apply("MODIFIED", org | {"status": status})
    sub = assert_data(client.get(f"{API}/organization-subscription", headers=admin))
    assert (sub["pending"], sub["pendingLimit"]) == (False, None)


def test_limits_shown_are_the_hrqs_whatever_the_apis_projects_limit(
    issuer: Issuer, cluster: Cluster, admin: dict[str, str]
) -> None:
    """An API started without the operator's projects limit (default 50: 15 cores) still shows the 10.3 enforced."""
    settings = ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url})
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        sub = assert_data(client.get(f"{API}/organization-subscription", headers=admin))
        usage = assert_data(client.get(f"{API}/quota-usage", headers=admin))
    assert (sub["usage"]["cpu"]["limit"], sub["usage"]["memory"]["limit"]) == (10.3, 28.375)
    assert (usage["cpu"]["limit"], usage["memory"]["limit"]) == (10.3, 28.375)


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    assert f"{API}/simulate-downgrade" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"][f"{API}/quota-usage"]["get"]["security"] == [{"bearer": []}]
    page = client.get(f"{API}/docs").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert f"{API}/docs/assets/swagger-ui-bundle.js" in sources
    assert all(source.startswith(f"{API}/docs/assets/") for source in sources), sources  # no CDN
    for source in sources:
        served = client.get(source)
        assert served.status_code == 200, source
        assert len(served.content) > 100


def test_metrics_count_requests_by_route_template(client: TestClient, admin: dict[str, str]) -> None:
    client.get(f"{API}/project/acme-dev/overview", headers=admin)
    text = client.get("/metrics").text
    assert (
        'orgquota_http_requests_total{method="GET",route="/api/billing/project/{namespace}/overview",status="200"}'
        in text
    )
    assert "orgquota_http_request_seconds_bucket" in text
    assert "orgquota_webhook_events_total" in text or "# TYPE orgquota_webhook_events counter" in text


def _admin_of(issuer: Issuer, org: str) -> dict[str, str]:
    return bearer(issuer.token(org=org, groups=["org-admin"]))


def _orgs_of(cluster: Cluster) -> Any:
    from tests.support.api_cluster import cluster_objects

    return cluster_objects(cluster.settings)["orgs"]


def test_probes_need_no_token(client: TestClient, cluster: Cluster) -> None:
    assert client.get("/healthz").json() == {"success": True, "data": {"status": "ok"}}
    assert client.get("/readyz").status_code == 200
    cluster.pods.broken("ServerDisconnectedError")
    body = assert_error(client.get("/readyz"), 503, "not ready")
    assert body["details"]["problems"] == ["pods"]  # the error itself is the log's, not the caller's


def test_answers_follow_every_input(client: TestClient, cluster: Cluster, admin: dict[str, str]) -> None:
    """Answers are reused between changes; each input's change shows at once."""

    def usage() -> Any:
        return assert_data(client.get(f"{API}/quota-usage", headers=admin))

    assert usage() == usage()
    hrq = {
        "metadata": {"namespace": "acme", "name": "plan-quota"},
        "status": {"hard": {"requests.cpu": WORKED_EXAMPLE["requests.cpu"]}, "used": {"requests.cpu": "5"}},
    }
    cluster.hrqs.apply("MODIFIED", hrq)
    assert usage()["cpu"]["used"] == 5
    cluster.eips.apply("ADDED", {"metadata": {"namespace": "acme-prod", "name": "eip-2"}})
    assert usage()["publicIPv4"]["used"] == 2
    catalog = cluster.catalog.live.get("kube-dc", "billing-plans")
    assert catalog is not None
    edited = catalog["plans.yaml"].replace('requests: {cpu: "8"', 'requests: {cpu: "9"')
    cluster.catalog.live.apply(
        "MODIFIED", {"metadata": {"namespace": "kube-dc", "name": "billing-plans"}, "data": {"plans.yaml": edited}}
    )
    assert assert_data(client.get(f"{API}/organization-subscription", headers=admin))["resources"]["cpu"] == 11
    assert usage()["cpu"]["limit"] == 10.3  # what the HRQ enforces, until the operator writes the new one
    cluster.limit_ranges.apply("DELETED", {"metadata": {"namespace": "acme", "name": "default-resource-limits"}})
    assert assert_data(client.get(f"{API}/quota-status", headers=admin))["limitRangeExists"] is False
