"""Log lines are JSON objects carrying the caller's organization."""

from __future__ import annotations

import io
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.logs import JsonFormatter, WarningsPerSecond, configure
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


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """`configure` changes the process's logging; put it back for the next tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    uvicorn = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in UVICORN}
    flags = (logging.logThreads, logging.logProcesses, logging.logMultiprocessing)
    yield
    root.handlers[:], root.level = handlers, level
    for name, (kept, propagate) in uvicorn.items():
        logging.getLogger(name).handlers[:], logging.getLogger(name).propagate = kept, propagate
    logging.getLogger("uvicorn.access").disabled = False
    logging.logThreads, logging.logProcesses, logging.logMultiprocessing = flags


UVICORN = ("uvicorn", "uvicorn.error")


def test_lines_are_written_by_the_writer_thread_as_they_were_when_logged(restored_logging: None) -> None:
    from orgquota.api.auth import CURRENT_ORGANIZATION

    stream = io.StringIO()
    writer = configure("INFO", stream)
    shown = ["first"]
    token = CURRENT_ORGANIZATION.set("acme")
    try:
        logging.getLogger("orgquota.api.keys").info("keys %s", shown)
        shown[0] = "changed after"  # the line says what was true when it was logged
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("orgquota.api.app").exception("failed")
        for _ in range(50):
            logging.getLogger("orgquota.api.keys").warning("refused: %s", "bad signature")
    finally:
        CURRENT_ORGANIZATION.reset(token)
    writer.stop()
    logging.getLogger("orgquota.api").info("after the writer stopped")
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert [(line["message"], line.get("organization")) for line in lines] == [
        ("keys ['first']", "acme"),  # the organization of the emitting context, not the writer thread's
        ("failed", "acme"),
        ("refused: bad signature", "acme"),  # once: a flood is held back before it is queued
        ("after the writer stopped", None),
    ]
    assert "RuntimeError: boom" in lines[1]["exception"]


def test_lines_queued_when_sigterm_ends_the_api_are_written(tmp_path: Path) -> None:
    script = (
        "import logging, os, signal\n"
        "from orgquota.api import logs\n"
        "writer = logs.configure('INFO')\n"
        "writer.stop_at_signals()\n"
        "for n in range(2000):\n"
        "    logging.getLogger('orgquota.api.access').info('line %d', n)\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == -signal.SIGTERM, done.stderr[-2000:]
    lines = [json.loads(text)["message"] for text in done.stderr.splitlines()]
    assert lines == [f"line {n}" for n in range(2000)]
