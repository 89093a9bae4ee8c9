"""The WHMCS webhook route over an in-memory apiserver: answers, the one-use rule, conflicts, failures.

The real apiserver path is tested end to end (tests/e2e/quota/test_whmcs.py); here the apiserver
is in memory (tests/support/fake_kube.py), so that conflicts and failures can be made to happen on cue.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator

import aiohttp
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.providers.whmcs.signature import TOLERANCE_SECONDS
from orgquota.api.settings import ApiSettings
from orgquota.core.annotations import APPLIED_CALLS, PREFIX
from orgquota.kube.client import KubeError
from tests.support.api_cluster import in_memory_cluster
from tests.support.fake_kube import FakeKube
from tests.support.oidc import Issuer
from tests.support.whmcs_client import Answer, Signed, WhmcsModule, call_body

SECRET = "unit-secret-of-at-least-32-characters"


@pytest.fixture
def settings(issuer: Issuer) -> ApiSettings:
    return ApiSettings.from_env(
        {"OIDC_ISSUER_URL": issuer.url, "BILLING_PROVIDER": "whmcs", "WHMCS_WEBHOOK_SECRET": SECRET}
    )


@pytest.fixture
def kube() -> FakeKube:
    kube = FakeKube()
    kube.put_organization(
        "acme",
        {
            PREFIX + "plan-id": "pro-pool",
            PREFIX + "subscription": "active",
            PREFIX + "provider-subscription-id": "whmcs-svc-42",
            PREFIX + "provider-customer-id": "whmcs-client-7",
            PREFIX + "whmcs-client": "whmcs-client-7",
        },
    )
    return kube


@contextlib.contextmanager
def api_replica(settings: ApiSettings, cluster: Cluster, kube: FakeKube) -> Iterator[WhmcsModule]:
    """The WHMCS module calling one API process over `kube`."""
    cluster.kube = kube
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:

        def post(path: str, request: Signed) -> Answer:
            got = client.post(path, content=request.body, headers=request.headers)
            return Answer(got.status_code, got.json())

        yield WhmcsModule("", SECRET, post)


@pytest.fixture
def module(settings: ApiSettings, cluster: Cluster, kube: FakeKube) -> Iterator[WhmcsModule]:
    with api_replica(settings, cluster, kube) as replica:
        yield replica


def test_a_write_that_meets_a_concurrent_change_is_decided_again(module: WhmcsModule, kube: FakeKube) -> None:
    kube.before_next_write(
        lambda: kube.annotate("acme", {PREFIX + "subscription": "canceling"})
    )  # someone else's write
    answer = module.call("suspend", "acme", int(time.time()))
    assert answer.status == 200, answer.json
    # Decided again on what was there: a cancellation was requested meanwhile, so the end is a cancellation.
    assert kube.annotations("acme")[PREFIX + "subscription"] == "canceled"
    assert len(kube.writes_to("PATCH")) == 1


@pytest.mark.parametrize(
    "failure",
    [KubeError("GET", "/apis/kube-dc.com/v1", 500, "etcdserver: request timed out"), aiohttp.ClientConnectionError()],
)
def test_a_kubernetes_failure_answers_503_and_the_call_may_be_sent_again(
    module: WhmcsModule, kube: FakeKube, failure: Exception
) -> None:
    kube.down = failure
    request = module.signed(call_body("suspend", "acme"))
    failed = module.send(request)
    assert failed.status == 503
    assert "nothing was written" in failed.json["error"]
    assert kube.writes == []
    kube.down = None
    assert module.send(request).status == 200  # not applied before: the same signed bytes are still good
    assert module.send(request).status == 401


def test_without_a_secret_the_provider_does_not_start(issuer: Issuer) -> None:
    with pytest.raises(SystemExit, match="orgquota api: invalid setting: WHMCS_WEBHOOK_SECRET: required"):
        ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url, "BILLING_PROVIDER": "whmcs"})


def test_a_short_secret_is_refused_at_start(issuer: Issuer) -> None:
    """A secret one could guess offline from a captured signature would let anyone move any quota."""
    for weak in ("whmcs", "x" * 31):
        with pytest.raises(SystemExit, match=r"WHMCS_WEBHOOK_SECRET=<secret>: .*at least 32 characters") as refused:
            ApiSettings.from_env(
                {"OIDC_ISSUER_URL": issuer.url, "BILLING_PROVIDER": "whmcs", "WHMCS_WEBHOOK_SECRET": weak}
            )
        assert weak not in str(refused.value).replace("WHMCS", "")  # the secret is never echoed


def test_an_oversized_body_is_refused_before_any_signature_is_computed(module: WhmcsModule, kube: FakeKube) -> None:
    body = call_body("renew", "acme", options={f"option {i}": "x" * 100 for i in range(700)})
    answer = module.send(module.signed(body))
    assert answer.status == 413
    assert answer.json["error"] == "the request body is larger than 65536 bytes"


def test_the_webhook_is_documented_with_its_headers_and_body(settings: ApiSettings, cluster: Cluster) -> None:
    with TestClient(create_app(settings, cluster)) as client:
        operation = client.get("/api/billing/openapi.json").json()["paths"]["/api/billing/webhook"]["post"]
    assert [p["name"] for p in operation["parameters"]] == ["X-KubeDC-Timestamp", "X-KubeDC-Signature"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["action", "organization", "planId", "serviceId", "clientId"]
    assert schema["properties"]["action"]["enum"] == [
        "activate",
        "unsuspend",
        "suspend",
        "terminate",
        "change",
        "renew",
    ]


def counted(kind: str, outcome: str) -> float:
    labels = {"provider": "whmcs", "type": kind, "outcome": outcome}
    return REGISTRY.get_sample_value("orgquota_webhook_events_total", labels) or 0.0


def test_each_answer_is_counted_with_its_type_and_outcome(module: WhmcsModule, kube: FakeKube) -> None:
    """The shared pipeline's answers and counts, as the WHMCS module meets them."""
    forged = WhmcsModule("", "not-the-secret", module.transport)
    cases: list[tuple[str, str, Callable[[], Answer], int]] = [
        ("unknown", "unauthorized", lambda: forged.call("renew", "acme"), 401),
        ("unknown", "invalid", lambda: module.call("upgrade", "acme"), 400),
        ("change", "invalid", lambda: module.call("change", "acme", plan_id="gold"), 400),
        ("suspend", "not_found", lambda: module.call("suspend", "nobody"), 404),
        ("suspend", "not_bound", lambda: module.call("suspend", "acme", service_id=99), 409),
        ("renew", "unchanged", lambda: module.call("renew", "acme"), 200),
        ("change", "applied", lambda: module.call("change", "acme", plan_id="dev-pool"), 200),
    ]
    for kind, outcome, send, status in cases:
        before = counted(kind, outcome)
        answer = send()
        assert answer.status == status, (kind, outcome, answer.json)
        assert counted(kind, outcome) == before + 1, (kind, outcome)
    nobody = module.call("suspend", "nobody").json
    assert (nobody["success"], nobody["error"], nobody["code"]) == (False, "Organization not found", "ORG_NOT_FOUND")
    assert nobody["details"] == {"organization": "nobody"}
    assert kube.annotations("acme")[PREFIX + "plan-id"] == "dev-pool"


@pytest.mark.parametrize(
    ("action", "fields", "reason"),
    [
        ("suspend", {"service_id": 99}, "organization 'acme' holds WHMCS service whmcs-svc-42, not whmcs-svc-99"),
        ("activate", {"service_id": 99}, "organization 'acme' holds WHMCS service whmcs-svc-42, not whmcs-svc-99"),
        (
            "activate",
            {"client_id": 8},
            "organization 'acme' is bound to WHMCS client whmcs-client-7, not whmcs-client-8",
        ),
        (
            "terminate",
            {"client_id": 8, "service_id": 99},
            "organization 'acme' is bound to WHMCS client whmcs-client-7",
        ),
    ],
)
def test_a_call_from_another_client_or_service_is_refused_and_writes_nothing(
    module: WhmcsModule, kube: FakeKube, action: str, fields: dict[str, int], reason: str
) -> None:
    """Another WHMCS customer's service names acme (its organization field is the customer's to fill)."""
    answer = module.call(action, "acme", **fields)
    assert answer.status == 409, answer.json
    assert answer.json["error"].startswith(reason)
    assert kube.writes == []


def test_the_first_activation_binds_the_client(module: WhmcsModule, kube: FakeKube) -> None:
    kube.put_organization("fresh")
    assert module.call("activate", "fresh", client_id=5, service_id=50).status == 200
    assert kube.annotations("fresh")[PREFIX + "whmcs-client"] == "whmcs-client-5"
    assert module.call("terminate", "fresh", client_id=5, service_id=50).status == 200
    assert kube.annotations("fresh")[PREFIX + "whmcs-client"] == "whmcs-client-5"  # kept: the client stays bound
    written = len(kube.writes)
    assert module.call("activate", "fresh", client_id=6, service_id=60).status == 409  # another client
    assert len(kube.writes) == written
    assert module.call("activate", "fresh", client_id=5, service_id=51).status == 200  # its own new service


def test_an_admin_set_client_binds_before_any_activation(module: WhmcsModule, kube: FakeKube) -> None:
    kube.put_organization("preset", {PREFIX + "whmcs-client": "whmcs-client-5"})
    assert module.call("activate", "preset", client_id=6, service_id=60).status == 409
    assert kube.writes == []
    assert module.call("activate", "preset", client_id=5, service_id=50).status == 200


@pytest.fixture
def other_replica(settings: ApiSettings, kube: FakeKube) -> Iterator[WhmcsModule]:
    """A second API replica over the same apiserver: a process of its own, with nothing in memory."""
    with api_replica(settings, in_memory_cluster(settings), kube) as replica:
        yield replica


def test_a_copy_of_an_applied_call_is_refused_by_another_replica(
    module: WhmcsModule, other_replica: WhmcsModule, kube: FakeKube
) -> None:
    suspend = module.signed(call_body("suspend", "acme"))
    assert module.send(suspend).status == 200
    assert kube.annotations("acme")[PREFIX + "subscription"] == "suspended"
    kube.annotate("acme", {PREFIX + "subscription": "active"})  # a person
    before = counted("suspend", "replayed")
    copied = other_replica.send(suspend)
    assert (copied.status, copied.json["error"]) == (
        401,
        "WHMCS signature rejected: this signed call was already applied",
    )
    assert counted("suspend", "replayed") == before + 1
    assert kube.annotations("acme")[PREFIX + "subscription"] == "active"  # the copy changed nothing


def test_a_call_that_changed_nothing_is_recorded_too_and_the_record_keeps_no_signature(
    module: WhmcsModule, other_replica: WhmcsModule, kube: FakeKube
) -> None:
    renew = module.signed(call_body("renew", "acme"))
    answer = module.send(renew)
    assert (answer.status, answer.json["data"]["changes"]) == (200, {})  # the record is not a change of the answer
    record = json.loads(kube.annotations("acme")[APPLIED_CALLS])
    assert list(record.values()) == [int(renew.headers["X-KubeDC-Timestamp"]) + TOLERANCE_SECONDS]
    assert not any(key in renew.headers["X-KubeDC-Signature"] for key in record)
    assert other_replica.send(renew).status == 401
