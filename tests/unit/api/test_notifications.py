"""Alerts mailed once, notification addresses and the budget, over the in-memory cluster and a real
SMTP server on loopback (aiosmtpd keeping a Maildir); the chain with Prometheus and Alertmanager
is in tests/e2e/quota/test_alerts.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from localcluster.mailserver import MailServer
from orgquota.api.app import create_app
from orgquota.api.budget_guard import added_addon, refuse_over_budget
from orgquota.api.cluster import Cluster
from orgquota.api.envelope import ApiError
from orgquota.api.organization import OrgFacts
from orgquota.api.settings import ApiSettings
from orgquota.core.annotations import BUDGET, NOTIFIED, NOTIFY
from orgquota.kube.client import ORGANIZATION
from tests.support.api_cluster import SMTP_SECRET, notification_settings
from tests.support.audit import audit_lines
from tests.support.envelope import assert_error
from tests.support.fake_kube import FakeKube
from tests.support.oidc import Issuer, bearer

API = "/api/billing"
HOOK = {"Authorization": f"Bearer {SMTP_SECRET}"}


@pytest.fixture
def notifying(issuer: Issuer, cluster: Cluster, kube: FakeKube, mail: MailServer) -> Iterator[TestClient]:
    settings = ApiSettings.from_env(
        {"OIDC_ISSUER_URL": issuer.url, "ORGANIZATION_PROJECTS_LIMIT": "3", **notification_settings(mail)}
    )
    issuer.up = True
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        yield client


def alert(status: str = "firing", fingerprint: str = "c0ffee", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "OrgQuotaWarning", "organization": "acme", "resource": "cpu", **labels},
        "annotations": {"summary": "acme: cpu quota at its warning level"},
        "startsAt": "2026-11-24T12:00:00.123Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


def delivery(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "orgquota", "groupLabels": {}, "alerts": list(alerts)}


def stored_annotations(kube: FakeKube, org: str = "acme") -> dict[str, str]:
    body = kube.stored(ORGANIZATION.path(org, org))
    assert body is not None
    return dict(body["metadata"].get("annotations") or {})


def test_an_alert_is_mailed_once_to_the_notification_addresses(
    notifying: TestClient, kube: FakeKube, mail: MailServer, admin: dict[str, str]
) -> None:
    before = len(mail.messages())
    emails = ["ops@acme.example", "cto@acme.example"]
    put = notifying.put(f"{API}/notification-settings", headers=admin, json={"emails": emails})
    assert put.json()["data"] == {"emails": emails}
    assert json.loads(stored_annotations(kube)[NOTIFY]) == emails
    answer = notifying.post(f"{API}/alerts", headers=HOOK, json=delivery(alert()))
    assert answer.json()["data"] == {"received": 1, "mailed": 1, "withoutOrganization": 0}
    (message,) = mail.messages()[before:]
    assert message["Subject"] == "[orgquota] acme: cpu quota at its warning level"
    assert message["To"] == "ops@acme.example, cto@acme.example"
    text = message.get_content()
    assert "FIRING OrgQuotaWarning" in text
    assert "new pods that request CPU will be refused" in text
    assert "Advice: not available now" in text  # no PROMETHEUS_URL: mailed without advice
    assert json.loads(stored_annotations(kube)[NOTIFIED]) == ["c0ffee/2026-11-24T12:00:00.123Z/firing"]
    again = notifying.post(f"{API}/alerts", headers=HOOK, json=delivery(alert()))  # Alertmanager redelivers
    assert again.json()["data"]["mailed"] == 0
    moved = notifying.post(f"{API}/alerts", headers=HOOK, json=delivery(alert("resolved")))
    assert moved.json()["data"]["mailed"] == 0  # acme's status still has cpu under pressure: no "resolved" mail
    resolved = notifying.post(f"{API}/alerts", headers=HOOK, json=delivery(alert("resolved", "beef", resource="pods")))
    assert resolved.json()["data"]["mailed"] == 1
    assert len(mail.messages()) == before + 2
    assert "RESOLVED" in mail.messages()[-1].get_content()


def test_without_addresses_the_owner_is_mailed_and_unknown_organizations_nobody(
    notifying: TestClient, mail: MailServer
) -> None:
    before = len(mail.messages())
    answer = notifying.post(
        f"{API}/alerts", headers=HOOK, json=delivery(alert(organization="beta"), alert(organization="nobody"))
    )
    assert answer.json()["data"]["mailed"] == 1
    assert [m["To"] for m in mail.messages()[before:]] == ["owner@beta.example"]
    unlabelled = alert()
    del unlabelled["labels"]["organization"]
    assert notifying.post(f"{API}/alerts", headers=HOOK, json=delivery(unlabelled)).json()["data"] == {
        "received": 1,
        "mailed": 0,
        "withoutOrganization": 1,
    }


def test_a_mail_server_that_is_down_loses_nothing(notifying: TestClient, kube: FakeKube, mail: MailServer) -> None:
    before = len(mail.messages())
    mail.stop()
    try:
        failed = notifying.post(f"{API}/alerts", headers=HOOK, json=delivery(alert(fingerprint="dead")))
        assert_error(failed, 503, "could not be sent")
        assert "dead" not in stored_annotations(kube).get(NOTIFIED, "")  # the claim was given back
    finally:
        mail.start()
    retried = notifying.post(f"{API}/alerts", headers=HOOK, json=delivery(alert(fingerprint="dead")))
    assert retried.json()["data"]["mailed"] == 1
    assert len(mail.messages()) == before + 1


def test_the_webhook_needs_the_secret_and_a_message(notifying: TestClient) -> None:
    assert_error(notifying.post(f"{API}/alerts", json=delivery(alert())), 401, "ALERTS_WEBHOOK_SECRET")
    wrong = {"Authorization": "Bearer guess"}
    assert_error(notifying.post(f"{API}/alerts", headers=wrong, json=delivery(alert())), 401, "Bearer")
    assert_error(notifying.post(f"{API}/alerts", headers=HOOK, content=b"{"), 400, "not an Alertmanager")
    assert_error(notifying.post(f"{API}/alerts", headers=HOOK, json={"alerts": [{"x": 1}]}), 400, "alerts.0")
    huge = b'{"alerts": [' + b" " * (1 << 20) + b"]}"
    assert_error(notifying.post(f"{API}/alerts", headers=HOOK, content=huge), 413, "at most")


def test_without_smtp_there_is_no_receiver_and_no_notifications(client: TestClient, guest: dict[str, str]) -> None:
    assert_error(client.post(f"{API}/alerts", headers=HOOK, json=delivery(alert())), 404, "no such route")
    assert client.get(f"{API}/config", headers=guest).json()["config"]["features"]["notifications"] is False


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"emails": [f"a{n}@acme.example" for n in range(11)]}, "at most 10"),
        ({"emails": ["not-an-address"]}, "not an e-mail address"),
        ({"emails": ["Ops <ops@acme.example>"]}, "not an e-mail address"),
        ({"emails": "ops@acme.example"}, "must be a list"),
        ({"emails": [], "cc": []}, "unknown fields: cc"),
    ],
)
def test_bad_addresses_are_refused(
    notifying: TestClient, kube: FakeKube, admin: dict[str, str], body: dict[str, Any], problem: str
) -> None:
    assert_error(notifying.put(f"{API}/notification-settings", headers=admin, json=body), 400, problem)
    assert NOTIFY not in stored_annotations(kube)


def test_the_budget_is_set_read_and_removed(notifying: TestClient, kube: FakeKube, admin: dict[str, str]) -> None:
    assert notifying.get(f"{API}/budget", headers=admin).json()["data"] == {
        "monthly": None,
        "currency": "EUR",
        "current": 228,
        "percent": None,
    }
    put = notifying.put(f"{API}/budget", headers=admin, content=b'{"monthly": 250.00, "currency": "EUR"}')
    assert put.json()["data"] == {"monthly": 250, "currency": "EUR", "current": 228, "percent": 91.2}
    assert stored_annotations(kube)[BUDGET] == '{"monthly":"250","currency":"EUR"}'
    removed = notifying.delete(f"{API}/budget", headers=admin)
    assert removed.json()["data"]["monthly"] is None
    assert BUDGET not in stored_annotations(kube)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"monthly": 0}', "positive decimal"),
        (b'{"monthly": -250}', "positive decimal"),
        (b'{"monthly": "lots"}', "positive decimal"),
        (b'{"monthly": 250.001}', "two decimal places"),
        (b'{"monthly": 250, "currency": "USD"}', "pays in EUR, not USD"),
        (b'{"monthly": 250, "period": "week"}', "unknown fields: period"),
        (b"[250]", "JSON object"),
        (b"{", "not valid JSON"),
    ],
)
def test_a_bad_budget_is_refused(
    notifying: TestClient, kube: FakeKube, admin: dict[str, str], body: bytes, problem: str
) -> None:
    assert_error(notifying.put(f"{API}/budget", headers=admin, content=body), 400, problem)
    assert BUDGET not in stored_annotations(kube)


def test_a_purchase_above_the_budget_is_refused_unless_over_budget_is_said(cluster: Cluster) -> None:
    record = cluster.orgs.get("acme", "acme")
    assert record is not None
    cluster.orgs.apply(
        "MODIFIED",
        {
            "metadata": {
                "namespace": "acme",
                "name": "acme",
                "annotations": {**record.annotations, BUDGET: '{"monthly":"250","currency":"EUR"}'},
            }
        },
    )
    facts = OrgFacts(cluster, "acme", ApiSettings.model_validate({"issuer": "http://x"}).quota)
    one_more = added_addon(facts, "turbo-x1")
    with pytest.raises(ApiError) as refused:  # 228 + one more turbo-x1 (29) = 257 > 250
        refuse_over_budget(facts, facts.plan_id, one_more, over_budget=False)
    assert (refused.value.status, refused.value.code) == (409, "BUDGET_EXCEEDED")
    assert refused.value.details == {"monthlyCost": 257, "budget": 250, "currency": "EUR"}
    refuse_over_budget(facts, facts.plan_id, one_more, over_budget=True)
    refuse_over_budget(facts, facts.plan_id, None, over_budget=False)  # 228 as it is: within


def test_budget_changes_are_audited_with_who_and_the_amount(
    notifying: TestClient, issuer: Issuer, kube: FakeKube, caplog: pytest.LogCaptureFixture
) -> None:
    alice = bearer(issuer.token(org="acme", groups=["org-admin"], sub="u-1", preferred_username="alice"))
    with caplog.at_level(logging.INFO, logger="orgquota.api.audit"):
        notifying.put(f"{API}/budget", headers=alice, content=b'{"monthly": 250.5}')
        notifying.put(f"{API}/budget", headers=alice, content=b'{"monthly": -1}')
        notifying.delete(f"{API}/budget", headers=alice)
    lines = audit_lines(caplog)
    assert [(line["audit"], line["outcome"], line["inputs"]) for line in lines] == [
        ("budget set", "done", {"monthly": "250.5", "currency": "EUR"}),
        ("budget set", "refused 400: monthly: monthly must be a positive decimal number, e.g. 300 or 249.50", {}),
        ("budget removed", "done", {}),
    ]
    assert {(line["sub"], line["preferred_username"], line["organization"]) for line in lines} == {
        ("u-1", "alice", "acme")
    }
