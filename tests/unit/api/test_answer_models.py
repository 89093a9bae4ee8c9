"""The answers as the OpenAPI document declares them, held to the JSON the routes really send.

The routes build their JSON by hand and return it ready-made, so FastAPI never checks it against
the declared models: these tests do, for every route, with the models' extra fields forbidden, so
a field added to a builder (or a number turned into a string) without its model fails here.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from orgquota.api import project_caps, routes, schema, trial
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.history import routes as history
from orgquota.api.live import routes as live
from orgquota.api.notifications import routes as notification_settings
from orgquota.api.notifications import webhook as alerts_webhook
from orgquota.api.schema.envelope import ErrorAnswer
from orgquota.api.schema.projects import ProjectOverview
from orgquota.api.settings import ApiSettings
from tests.support.api_cluster import CATALOG_TEXT, SMTP_SECRET, configmap
from tests.support.oidc import Issuer, bearer

API = "/api/billing"
ERROR_REF = {"$ref": "#/components/schemas/ErrorAnswer"}


def declared() -> dict[tuple[str, str], Any]:
    """(method, path template) -> the declared success model of every route of quota-only mode (a provider's own
    routers are mounted under the prefix)."""
    return {
        (method, API + route.path): route.response_model
        for route in trial.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    } | {
        (method, route.path): route.response_model
        for route in [
            *routes.router.routes,
            *history.router.routes,
            *project_caps.router.routes,
            *notification_settings.router.routes,
            *alerts_webhook.router.routes,
            *live.router.routes,
        ]
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


class Answers:
    """Requests through the test client, each answer held to what the document declares for it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.models = declared()
        self.seen: set[tuple[str, str]] = set()

    def check(self, method: str, template: str, response: Any, status: int) -> Any:
        """The answer has `status` and validates against its declared model (or the error envelope); its JSON."""
        assert response.status_code == status, response.text
        model = self.models[(method, API + template)] if status < 400 else ErrorAnswer
        try:
            model.model_validate_json(response.content)
        except ValidationError as exc:
            pytest.fail(f"{method} {template} ({status}) does not match {model.__name__}: {exc}\n{response.text}")
        self.seen.add((method, API + template))
        return response.json()

    def get(self, template: str, headers: dict[str, str], status: int = 200, path: str | None = None) -> Any:
        return self.check("GET", template, self.client.get(API + (path or template), headers=headers), status)

    def simulate(self, headers: dict[str, str], body: dict[str, Any], status: int = 200) -> Any:
        response = self.client.post(f"{API}/simulate-downgrade", headers=headers, json=body)
        return self.check("POST", "/simulate-downgrade", response, status)

    def cap(self, method: str, path: str, headers: dict[str, str], body: Any = None, status: int = 200) -> Any:
        response = self.client.request(method, API + path, headers=headers, json=body)
        return self.check(method, "/project/{namespace}/cap", response, status)

    def send(self, method: str, template: str, headers: dict[str, str], body: Any = None, status: int = 200) -> Any:
        response = self.client.request(method, API + template, headers=headers, json=body)
        return self.check(method, template, response, status)


def _schema(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_route_documents_its_success_envelope(history_client: TestClient) -> None:
    spec = history_client.get(f"{API}/openapi.json").json()
    operations = [(m, p, o) for p, ops in spec["paths"].items() if p.startswith(API) for m, o in ops.items()]
    assert {(method.upper(), path) for method, path, _ in operations} == set(declared())
    for method, path, operation in operations:
        if path == f"{API}/events":  # not one answer: a stream of events, each field of LiveEvents one event
            assert operation["responses"]["200"]["content"] == {
                "text/event-stream": {"schema": {"$ref": "#/components/schemas/LiveEvents"}}
            }
            continue
        success = _schema(spec, operation["responses"]["200"])
        assert success.get("additionalProperties") is False, (method, path)
        assert success["properties"]["success"]["const"] is True, (method, path)
        payload = "config" if path == f"{API}/config" else "data"
        assert set(success["required"]) == {"success", payload}, (method, path)
        assert success["properties"][payload], (method, path)


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"BILLING_PROVIDER": "whmcs", "WHMCS_WEBHOOK_SECRET": "s" * 32},
        {"BILLING_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"},
    ],
    ids=["none", "whmcs", "stripe"],
)
def test_every_route_documents_the_error_envelope(
    issuer: Issuer, cluster: Cluster, environment: dict[str, str]
) -> None:
    settings = ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url, **environment})
    spec = create_app(settings, cluster).openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's 422, never answered
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["4XX"]["content"]["application/json"]["schema"] == ERROR_REF, (method, path)
            assert responses["5XX"]["content"]["application/json"]["schema"] == ERROR_REF, (method, path)
            assert "422" not in responses, (method, path)


def test_real_answers_match_their_models(
    history_client: TestClient,
    cluster: Cluster,
    issuer: Issuer,
    admin: dict[str, str],
    project_user: dict[str, str],
    guest: dict[str, str],
) -> None:
    answers = Answers(history_client)
    beta, gone = (bearer(issuer.token(org=org, groups=["org-admin"])) for org in ("beta", "gone"))
    answers.get("/config", guest)
    answers.get("/health", guest)
    answers.get("/plans", project_user)
    answers.get("/addons", guest)
    for route in ("/organization-subscription", "/quota-usage", "/quota-status"):
        for headers in (admin, admin, beta, gone):  # admin twice: the second answer is the cached one
            answers.get(route, headers)
        answers.get(route, project_user, 403)
    assert answers.simulate(admin, {"planId": "dev-pool", "addons": []})["data"]["violations"]
    fits = answers.simulate(admin, {"planId": "pro-pool", "addons": [{"addonId": "turbo-x2", "quantity": 1}]})
    assert fits["data"]["fits"]
    answers.simulate(beta, {"planId": "dev-pool"})  # no HRQ: usage summed from the pods
    answers.simulate(admin, {"planId": "gold"}, 400)
    answers.simulate(admin, {"addons": []}, 422)
    assert len(answers.get("/projects", admin)["data"]) == 3
    answers.get("/projects", project_user)
    answers.get("/projects", guest, 403)
    overview = "/project/{namespace}/overview"
    local = answers.get(overview, project_user, path="/project/acme-dev/overview")
    ProjectOverview.model_validate_json(json.dumps(local["data"]))  # not merely the proxied "any object"
    answers.get(overview, project_user, 403, path="/project/acme-prod/overview")
    answers.get(overview, bearer(issuer.token(namespaces=["ghost"])), 403, path="/project/ghost/overview")
    answers.get("/config", {}, 401)
    answers.get("/events", {}, 401)  # its events are held to LiveEvents in test_events.py (a stream, not one answer)
    cap = "/project/acme-dev/cap?dryRun=true"  # the history client has no apiserver to write to
    assert answers.cap("PUT", cap, admin, {"cpu": "8", "pods": 300})["data"]["exceedsPlan"]
    assert answers.cap("PUT", cap, admin, {"cpu": "100m"}, 409)["details"]["violations"]
    assert answers.cap("PUT", cap, admin, {"cpu": "100m", "belowUsage": True})["data"]["violations"]
    answers.cap("PUT", cap, admin, {"cpu": "lots"}, 400)
    answers.cap("PUT", "/project/beta-x/cap", admin, {"cpu": "1"}, 403)
    answers.cap("DELETE", cap, admin)
    answers.cap("DELETE", "/project/ghost/cap", admin, status=404)
    for resource in ("cpu", "pods", "public_ipv4"):  # with a limit series, without one, without any series
        answers.get("/usage-history", admin, path=f"/usage-history?resource={resource}&range=30d&step=1d")
    answers.get("/usage-history", admin, 400, path="/usage-history?range=401d")
    assert answers.get("/forecast", admin)["data"]["resources"]["cpu"]["runsOutAt"]
    assert answers.get("/recommendations", admin)["data"]["suggestion"]["kind"] == "none"
    cluster.eips.replace([])  # the public IP no longer full: the CPU running out decides
    assert answers.get("/recommendations", admin)["data"]["suggestion"]["simulate"]["fits"]
    answers.get("/recommendations", project_user, 403)
    assert answers.get("/quota-status", admin)["data"]["alerts"][0]["level"] == "warning"
    answers.get("/notification-settings", admin)
    assert answers.send("PUT", "/notification-settings", admin, {"emails": ["ops@acme.example"]})["data"]["emails"]
    answers.send("PUT", "/notification-settings", admin, {"emails": ["nobody"]}, 400)
    assert answers.get("/budget", admin)["data"]["monthly"] is None
    assert answers.send("PUT", "/budget", admin, {"monthly": 250, "currency": "EUR"})["data"]["percent"] == 91.2
    answers.send("PUT", "/budget", admin, {"monthly": -1}, 400)
    answers.send("DELETE", "/budget", admin)
    hook = {"Authorization": f"Bearer {SMTP_SECRET}"}
    firing = {"status": "firing", "labels": {"organization": "acme"}, "startsAt": "2026-11-24T12:00:00Z"}
    assert answers.send("POST", "/alerts", hook, {"alerts": [{**firing, "fingerprint": "f1"}]})["data"]["mailed"] == 1
    answers.send("POST", "/alerts", {}, {"alerts": []}, 401)
    answers.send("POST", "/trial", beta, {"planId": "pro-pool"}, 400)  # no trial offered
    trial_plan = CATALOG_TEXT.replace(
        "price: 199\n    currency: EUR", "price: 199\n    currency: EUR\n    trial: {days: 7}"
    )
    cluster.catalog.live.replace([configmap(cluster.settings.catalog_name, trial_plan)])
    assert answers.send("POST", "/trial", beta, {"planId": "pro-pool"})["data"]["status"] == "trialing"
    answers.send("POST", "/trial", beta, {"planId": "pro-pool"}, 409)
    assert answers.seen == set(answers.models), "a route whose answers this test does not check"


def test_answers_of_a_bad_catalog_and_an_outage_match_their_models(
    client: TestClient, cluster: Cluster, guest: dict[str, str], admin: dict[str, str]
) -> None:
    answers = Answers(client)
    live = {"metadata": {"namespace": "kube-dc", "name": "billing-plans"}, "data": {"plans.yaml": "plans: {}"}}
    cluster.catalog.live.apply("MODIFIED", live)
    assert answers.get("/health", guest)["data"]["catalog"]["problem"]
    cluster.orgs.broken("ClientConnectorError: connection refused")
    answers.get("/health", guest, 503)
    answers.get("/forecast", admin, 503)  # no PROMETHEUS_URL
    missing = client.get(f"{API}/no-such-route", headers=guest)
    assert missing.status_code == 404
    ErrorAnswer.model_validate_json(missing.content)


def test_an_undeclared_field_or_a_changed_type_does_not_validate(client: TestClient, admin: dict[str, str]) -> None:
    answer = client.get(f"{API}/quota-usage", headers=admin).json()
    model = declared()[("GET", f"{API}/quota-usage")]
    data = answer["data"]
    model.model_validate_json(json.dumps(answer))
    with pytest.raises(ValidationError, match="Extra inputs"):
        model.model_validate_json(json.dumps({**answer, "data": {**data, "periodEnd": None}}))
    with pytest.raises(ValidationError, match=r"data\.cpu\.used"):
        model.model_validate_json(json.dumps({**answer, "data": {**data, "cpu": {**data["cpu"], "used": "9"}}}))


def _answer_models() -> list[type[BaseModel]]:
    found = []
    for module_info in pkgutil.iter_modules(schema.__path__, schema.__name__ + "."):
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found.append(value)
    return found


@pytest.mark.parametrize("model", _answer_models(), ids=lambda model: model.__name__)
def test_every_answer_model_is_strict(model: type[BaseModel]) -> None:
    assert (model.model_config.get("extra"), model.model_config.get("strict")) == ("forbid", True)
