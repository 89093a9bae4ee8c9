"""Log lines are JSON objects carrying the caller's organization."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.logs import JsonFormatter, WarningsPerSecond
from orgquota.api.settings import ApiSettings
from tests.support.oidc import Issuer, bearer


def test_access_lines_name_the_organization(
    client: TestClient, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="orgquota.api.access"):
        client.get("/api/billing/quota-usage", headers=admin)
    record = next(r for r in caplog.records if r.name == "orgquota.api.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["organization"] == "acme"
    assert (line["route"], line["status"], line["role"]) == ("/api/billing/quota-usage", 200, "org-admin")
    assert line["message"] == "GET /api/billing/quota-usage 200"
    assert line["time"].endswith("Z")


def test_denials_are_warnings(
    client: TestClient, project_user: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="orgquota.api.access"):
        client.get("/api/billing/quota-usage", headers=project_user)
        client.get("/api/billing/quota-usage")
    levels = [(r.levelname, r.fields["status"]) for r in caplog.records if r.name == "orgquota.api.access"]  # type: ignore[attr-defined]
    assert levels == [("WARNING", 403), ("WARNING", 401)]


def test_other_lines_carry_their_extra_fields_and_the_organization() -> None:
    from orgquota.api.auth import CURRENT_ORGANIZATION

    record = logging.LogRecord("orgquota.api.keys", logging.WARNING, "x", 1, "keys %s", ("stale",), None)
    record.issuer = "https://login.example.com"
    token = CURRENT_ORGANIZATION.set("acme")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        CURRENT_ORGANIZATION.reset(token)
    assert (line["message"], line["issuer"], line["organization"], line["level"]) == (
        "keys stale",
        "https://login.example.com",
        "acme",
        "WARNING",
    )


def test_errors_mode_logs_denials_failures_and_writes_only(
    settings: ApiSettings, cluster: Cluster, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    quiet = settings.model_copy(update={"access_log": "errors"})
    admin = bearer(issuer.token(org="acme", groups=["org-admin"]))
    with TestClient(create_app(quiet, cluster)) as client, caplog.at_level(logging.INFO, logger="orgquota.api.access"):
        client.get("/api/billing/quota-usage", headers=admin)
        client.get("/api/billing/quota-usage")
        client.post("/api/billing/simulate-downgrade", headers=admin, json={"planId": "dev-pool"})
    lines = [r.getMessage() for r in caplog.records if r.name == "orgquota.api.access"]
    assert lines == ["GET /api/billing/quota-usage 401", "POST /api/billing/simulate-downgrade 200"]


def test_a_flood_of_warnings_is_one_line_a_second_per_reason() -> None:
    now = [100.0]
    throttle = WarningsPerSecond(clock=lambda: now[0])

    def denied(route: str) -> logging.LogRecord:
        args = ("GET", route, 401)
        record = logging.LogRecord("orgquota.api.access", logging.WARNING, "x", 1, "%s %s %s", args, None)
        record.fields = {"route": route, "status": 401}
        return record

    passed = [throttle.filter(denied("/api/billing/plans")) for _ in range(500)]
    assert passed.count(True) == 1
    assert throttle.filter(denied("/api/billing/projects"))  # another reason has its own second
    refused = logging.LogRecord("orgquota.webhook", logging.WARNING, "x", 1, "refused: %s", ("bad signature",), None)
    assert throttle.filter(refused)
    assert not throttle.filter(refused)
    assert throttle.filter(logging.LogRecord("x", logging.ERROR, "x", 1, "failed", None, None))
    now[0] += 1.5
    record = denied("/api/billing/plans")
    assert throttle.filter(record)
    assert json.loads(JsonFormatter().format(record))["suppressed"] == 499
    assert throttle.filter(refused)
    assert refused.suppressed == 1  # type: ignore[attr-defined]
