"""The WHMCS webhook route over an in-memory apiserver: answers, the one-use rule, conflicts, failures.

The real apiserver path is tested end to end (tests/e2e/quota/test_whmcs.py); here the apiserver
is a dict, so that conflicts and failures can be made to happen on cue.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator

import aiohttp
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.kube.client import ORGANIZATION, KubeError, Manifest
from tests.support.oidc import Issuer
from tests.support.whmcs_client import Answer, Signed, WhmcsModule, call_body

SECRET = "unit-secret"
P = "billing.kube-dc.com/"


class MemoryKube:
    """Organizations by path; `conflicts` writes meet a concurrent change first, `failure` fails every read."""

    def __init__(self) -> None:
        self.objects: dict[str, Manifest] = {}
        self.conflicts = 0
        self.failure: Exception | None = None
        self.patches: list[Manifest] = []

    def add(self, name: str, annotations: dict[str, str]) -> None:
        meta = {"name": name, "namespace": name, "resourceVersion": "1", "annotations": dict(annotations)}
        self.objects[ORGANIZATION.path(name, name)] = {"metadata": meta}

    def annotations(self, name: str) -> dict[str, str]:
        return dict(self.objects[ORGANIZATION.path(name, name)]["metadata"]["annotations"])

    async def get(self, path: str) -> Manifest | None:
        if self.failure is not None:
            raise self.failure
        found = self.objects.get(path)
        return copy.deepcopy(found) if found else None

    async def merge_patch(self, path: str, body: Manifest) -> Manifest:
        meta = self.objects[path]["metadata"]
        if self.conflicts:
            self.conflicts -= 1
            meta["resourceVersion"] = str(int(meta["resourceVersion"]) + 1)
            meta["annotations"][P + "subscription"] = "canceling"  # someone else's write
        if body["metadata"].get("resourceVersion") not in (None, meta["resourceVersion"]):
            raise KubeError("PATCH", path, 409, "the object has been modified", "Conflict")
        self.patches.append(body)
        for key, value in body["metadata"]["annotations"].items():
            if value is None:
                meta["annotations"].pop(key, None)
            else:
                meta["annotations"][key] = value
        meta["resourceVersion"] = str(int(meta["resourceVersion"]) + 1)
        return copy.deepcopy(self.objects[path])


@pytest.fixture
def settings(issuer: Issuer) -> ApiSettings:
    return ApiSettings.from_env(
        {"OIDC_ISSUER_URL": issuer.url, "BILLING_PROVIDER": "whmcs", "WHMCS_WEBHOOK_SECRET": SECRET}
    )


@pytest.fixture
def kube() -> MemoryKube:
    kube = MemoryKube()
    kube.add(
        "acme",
        {P + "plan-id": "pro-pool", P + "subscription": "active", P + "provider-subscription-id": "whmcs-svc-42"},
    )
    return kube


@pytest.fixture
def module(settings: ApiSettings, cluster: Cluster, kube: MemoryKube) -> Iterator[WhmcsModule]:
    cluster.kube = kube  # type: ignore[assignment]
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:

        def post(path: str, request: Signed) -> Answer:
            got = client.post(path, content=request.body, headers=request.headers)
            return Answer(got.status_code, got.json())

        yield WhmcsModule("", SECRET, post)


def test_a_write_that_meets_a_concurrent_change_is_decided_again(module: WhmcsModule, kube: MemoryKube) -> None:
    kube.conflicts = 1
    answer = module.call("suspend", "acme", int(time.time()))
    assert answer.status == 200, answer.json
    # Decided again on what was there: a cancellation was requested meanwhile, so the end is a cancellation.
    assert kube.annotations("acme")[P + "subscription"] == "canceled"
    assert len(kube.patches) == 1


@pytest.mark.parametrize(
    "failure",
    [KubeError("GET", "/apis/kube-dc.com/v1", 500, "etcdserver: request timed out"), aiohttp.ClientConnectionError()],
)
def test_a_kubernetes_failure_answers_503_and_the_call_may_be_sent_again(
    module: WhmcsModule, kube: MemoryKube, failure: Exception
) -> None:
    kube.failure = failure
    request = module.signed(call_body("suspend", "acme"))
    failed = module.send(request)
    assert failed.status == 503
    assert "nothing was written" in failed.json["error"]
    assert kube.patches == []
    kube.failure = None
    assert module.send(request).status == 200  # not applied before: the same signed bytes are still good
    assert module.send(request).status == 401


def test_without_a_secret_the_provider_does_not_start(issuer: Issuer) -> None:
    with pytest.raises(SystemExit, match="orgquota api: invalid setting: WHMCS_WEBHOOK_SECRET: required"):
        ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url, "BILLING_PROVIDER": "whmcs"})


def test_an_oversized_body_is_refused_before_any_signature_is_computed(module: WhmcsModule, kube: MemoryKube) -> None:
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


def test_each_answer_is_counted_with_its_type_and_outcome(module: WhmcsModule, kube: MemoryKube) -> None:
    """The shared pipeline's answers and counts, as the WHMCS module meets them."""
    forged = WhmcsModule("", "not-the-secret", module.transport)
    cases: list[tuple[str, str, Callable[[], Answer], int]] = [
        ("unknown", "unauthorized", lambda: forged.call("renew", "acme"), 401),
        ("unknown", "invalid", lambda: module.call("upgrade", "acme"), 400),
        ("change", "invalid", lambda: module.call("change", "acme", plan_id="gold"), 400),
        ("suspend", "not_found", lambda: module.call("suspend", "nobody"), 404),
        ("suspend", "other_service", lambda: module.call("suspend", "acme", service_id=99), 200),
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
    assert kube.annotations("acme")[P + "plan-id"] == "dev-pool"


def test_a_call_answered_200_without_a_write_is_not_applied_twice(module: WhmcsModule, kube: MemoryKube) -> None:
    other = module.signed(call_body("suspend", "acme", service_id=99))
    answer = module.send(other)
    assert answer.status == 200
    assert answer.json["data"] == {
        "organization": "acme",
        "action": "suspend",
        "changes": {},
        "ignored": "whmcs-svc-99 is not the organization's subscription (whmcs-svc-42)",
    }
    before = counted("unknown", "replayed")
    assert module.send(other).json["error"] == "WHMCS signature rejected: this signed call was already applied"
    assert counted("unknown", "replayed") == before + 1
    assert kube.patches == []
