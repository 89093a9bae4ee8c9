"""A successful request's access line, queued as its fields alone, is the line its record would make."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.logs import AccessLine, JsonFormatter, LogWriter, access_log, configure
from orgquota.api.settings import ApiSettings
from tests.support.oidc import Issuer, bearer


def _record_line(line: AccessLine) -> str:
    """The line of the LogRecord `access_line` makes when it cannot queue the fields alone."""
    args = (line.method, line.path, line.status)
    record = logging.LogRecord(access_log.name, logging.INFO, "", 0, "%s %s %s", args, None)
    record.created, record.msecs = line.created, int((line.created - int(line.created)) * 1000) + 0.0
    fields = {"route": line.route, "status": line.status, "ms": line.ms}
    record.fields = fields | {"organization": line.organization, "role": line.role}
    record.organization_context = ""
    return JsonFormatter().format(record)


@given(
    created=st.floats(min_value=0, max_value=4e9),
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    path=st.text(),
    status=st.integers(min_value=100, max_value=599),
    route=st.text(),
    ms=st.floats(min_value=0, max_value=1e7).map(lambda value: round(value, 2)),
    organization=st.text(),
    role=st.none() | st.text(),
)
def test_the_same_line_as_the_record(
    created: float, method: str, path: str, status: int, route: str, ms: float, organization: str, role: str | None
) -> None:
    line = AccessLine(created, method, path, status, route, ms, organization, role)
    assert JsonFormatter().format_access(line) == _record_line(line)


@contextlib.contextmanager
def written(settings: ApiSettings, cluster: Cluster) -> Iterator[tuple[TestClient, io.StringIO]]:
    """The application with the logs `orgquota api` configures, written into a string (in the test's
    body: pytest adds its capturing handlers to the root logger once the test is called)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    writer = configure("INFO", stream)
    try:
        with TestClient(create_app(settings, cluster)) as client:
            yield client, stream
    finally:
        writer.stop()
        root.handlers[:], root.level = handlers, level
        logging.getLogger("uvicorn.access").disabled = False


def test_a_request_line_is_the_same_either_way(settings: ApiSettings, cluster: Cluster, issuer: Issuer) -> None:
    with written(settings, cluster) as (client, stream):
        lines = _two_lines(client, stream, issuer)
    assert len(lines) == 2
    for line in lines:
        del line["time"], line["ms"]
    assert lines[0] == lines[1]
    assert lines[0]["organization"] == "acme"
    assert lines[0]["role"] == "org-admin"


def _two_lines(client: TestClient, stream: io.StringIO, issuer: Issuer) -> list[dict[str, object]]:
    """One request's line queued as fields, one made a record; the lines written."""
    writer = LogWriter.active
    assert writer is not None
    assert writer.takes_access_lines()
    admin = bearer(issuer.token(org="acme", groups=["org-admin"]))
    client.get("/api/billing/quota-usage", headers=admin)
    access_log.addFilter(keep := logging.Filter())  # now the line has to be a record
    try:
        assert not writer.takes_access_lines()
        client.get("/api/billing/quota-usage", headers=admin)
    finally:
        access_log.removeFilter(keep)
    writer.stop()
    return [json.loads(text) for text in stream.getvalue().splitlines() if '"orgquota.api.access"' in text]


def test_only_when_the_writer_is_the_lines_only_way_out(settings: ApiSettings, cluster: Cluster) -> None:
    with written(settings, cluster):
        _only_way_out()


def _only_way_out() -> None:
    writer = LogWriter.active
    assert writer is not None
    assert writer.takes_access_lines()
    other = logging.NullHandler()
    for logger in (logging.getLogger(), logging.getLogger("orgquota"), access_log):
        logger.addHandler(other)
        assert not writer.takes_access_lines()
        logger.removeHandler(other)
    assert writer.takes_access_lines()
    access_log.propagate = False
    assert not writer.takes_access_lines()
    access_log.propagate = True
    writer.stop()
    assert LogWriter.active is None
