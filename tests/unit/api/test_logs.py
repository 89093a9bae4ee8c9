"""Log lines are JSON objects carrying the caller's organization."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from orgquota.api.logs import JsonFormatter


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
