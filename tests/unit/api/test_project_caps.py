"""PUT/DELETE /project/{namespace}/cap and the caps in /projects, over the in-memory cluster, with the
Organization written through the one annotation writer into an in-memory apiserver.

acme-dev runs web (500m, 1Gi, created first) and db (250m, 512Mi) and claims data (10Gi)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.core.project_caps import PROJECT_CAPS
from orgquota.kube.client import ORGANIZATION
from tests.support.api_cluster import cluster_objects
from tests.support.audit import audit_lines
from tests.support.fake_kube import FakeKube
from tests.support.oidc import Issuer, bearer

API = "/api/billing"
DEV = f"{API}/project/acme-dev/cap"


@pytest.fixture
def kube(cluster: Cluster, settings: ApiSettings) -> FakeKube:
    kube = FakeKube()
    for org in cluster_objects(settings)["orgs"]:
        name = org["metadata"]["name"]
        kube.put(ORGANIZATION.path(name, name), org)
    cluster.kube = kube
    return kube


@pytest.fixture
def api(settings: ApiSettings, cluster: Cluster, issuer: Issuer, kube: FakeKube) -> Iterator[TestClient]:
    issuer.up = True
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        yield client


def stored_caps(kube: FakeKube) -> dict[str, Any] | None:
    org = kube.stored(ORGANIZATION.path("acme", "acme"))
    assert org is not None
    raw = org["metadata"].get("annotations", {}).get(PROJECT_CAPS)
    return None if raw is None else dict(json.loads(raw))


def watched(cluster: Cluster, kube: FakeKube) -> None:
    """The Organization's watch event reaches the API's memory."""
    org = kube.stored(ORGANIZATION.path("acme", "acme"))
    assert org is not None
    cluster.orgs.apply("MODIFIED", org)


def data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    return body["data"] if status < 400 else body


def test_a_cap_above_usage_is_written_and_shown_with_the_projects_share(
    api: TestClient, admin: dict[str, str], kube: FakeKube, cluster: Cluster
) -> None:
    answer = data(api.put(DEV, headers=admin, json={"cpu": "2", "memory": "4Gi", "storage": "20Gi", "pods": 20}))
    assert answer == {
        "namespace": "acme-dev",
        "cap": {"cpu": "2", "memory": "4Gi", "storage": "20Gi", "pods": 20},
        "dryRun": False,
        "changed": True,
        "violations": [],
        "capsTotal": {"cpu": "2", "memory": "4Gi", "storage": "20Gi", "pods": 20},
        "exceedsPlan": [],
        "message": "acme-dev is capped",
    }
    assert stored_caps(kube) == {"acme-dev": {"cpu": "2", "memory": "4Gi", "storage": "20Gi", "pods": 20}}
    watched(cluster, kube)
    again = data(api.put(DEV, headers=admin, json={"cpu": "2", "memory": "4Gi", "storage": "20Gi", "pods": 20}))
    assert again["changed"] is False
    projects = {p["namespace"]: p for p in data(api.get(f"{API}/projects", headers=admin))}
    assert projects["acme-dev"]["cap"] == {"cpu": "2", "memory": "4Gi", "storage": "20Gi", "pods": 20}
    assert projects["acme-dev"]["usage"] == {"pods": 2, "cpu": 0.75, "memory": 1.5, "storage": 10}
    # of 10300m, 29056Mi, 180Gi and 200 pods enforced
    assert projects["acme-dev"]["share"] == {"cpu": 0.0728, "memory": 0.0529, "storage": 0.0556, "pods": 0.01}
    assert projects["acme-prod"]["cap"] is None
    assert projects["acme-prod"]["share"] == {"cpu": 0, "memory": 0, "storage": 0, "pods": 0}


def test_a_cap_below_usage_names_the_pods_above_it_and_needs_below_usage(
    api: TestClient, admin: dict[str, str], kube: FakeKube
) -> None:
    refused = data(api.put(DEV, headers=admin, json={"cpu": "600m", "storage": "5Gi", "pods": 2}), 409)
    assert refused["details"]["violations"] == [
        {"resource": "requests.cpu", "used": "750m", "cap": "600m", "pods": ["db"], "claims": []},
        {"resource": "requests.storage", "used": "10Gi", "cap": "5Gi", "pods": [], "claims": ["data"]},
    ]
    assert "belowUsage" in refused["error"]
    assert kube.writes == []
    accepted = data(api.put(DEV, headers=admin, json={"cpu": "600m", "belowUsage": True}))
    assert accepted["violations"] == [refused["details"]["violations"][0]]
    assert stored_caps(kube) == {"acme-dev": {"cpu": "600m"}}


def test_a_dry_run_answers_the_same_and_writes_nothing(api: TestClient, admin: dict[str, str], kube: FakeKube) -> None:
    refused = data(api.put(DEV + "?dryRun=true", headers=admin, json={"cpu": "100m"}), 409)
    assert refused["details"]["violations"][0]["pods"] == ["web", "db"]
    would = data(api.put(DEV + "?dryRun=true", headers=admin, json={"cpu": "100m", "belowUsage": True}))
    assert (would["dryRun"], would["changed"], would["message"]) == (True, True, "acme-dev would be capped")
    assert data(api.delete(DEV + "?dryRun=true", headers=admin))["changed"] is False
    assert kube.writes == []


def test_caps_that_add_up_to_more_than_the_plan_are_allowed_and_said_so(
    api: TestClient, admin: dict[str, str], cluster: Cluster, kube: FakeKube
) -> None:
    data(api.put(DEV, headers=admin, json={"cpu": "8"}))
    watched(cluster, kube)
    answer = data(api.put(f"{API}/project/acme-prod/cap", headers=admin, json={"cpu": "3", "pods": 300}))
    assert answer["capsTotal"] == {"cpu": "11", "memory": None, "storage": None, "pods": 300}
    assert answer["exceedsPlan"] == [
        {"resource": "requests.cpu", "capsTotal": "11", "quota": "10300m"},
        {"resource": "pods", "capsTotal": "300", "quota": "200"},
    ]
    assert "more than the organization's quota for requests.cpu, pods: allowed" in answer["message"]


def test_removing_a_cap_keeps_the_others_and_a_deleted_projects_cap_can_go_too(
    api: TestClient, admin: dict[str, str], cluster: Cluster, kube: FakeKube
) -> None:
    data(api.put(DEV, headers=admin, json={"cpu": "2"}))
    watched(cluster, kube)
    data(api.put(f"{API}/project/acme-prod/cap", headers=admin, json={"pods": 9}))
    watched(cluster, kube)
    removed = data(api.delete(DEV, headers=admin))
    assert (removed["cap"], removed["changed"]) == (None, True)
    assert stored_caps(kube) == {"acme-prod": {"pods": 9}}
    watched(cluster, kube)
    cluster.namespaces.apply("DELETED", {"metadata": {"name": "acme-prod"}})
    data(api.delete(f"{API}/project/acme-prod/cap", headers=admin))
    assert stored_caps(kube) is None  # the last cap removes the annotation
    watched(cluster, kube)
    data(api.delete(f"{API}/project/acme-prod/cap", headers=admin), 404)


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/project/beta-x/cap", 403, "not a project of organization 'acme'"),
        ("/project/ghost/cap", 404, "namespace 'ghost' not found"),
        ("/project/acme/cap", 400, "the organization's own namespace, not a project"),
    ],
)
def test_only_a_project_of_the_callers_organization_can_be_capped(
    api: TestClient, admin: dict[str, str], kube: FakeKube, path: str, status: int, expected: str
) -> None:
    for response in (api.put(API + path, headers=admin, json={"cpu": "1"}), api.delete(API + path, headers=admin)):
        assert expected in data(response, status)["error"]
    assert kube.writes == []


def test_a_project_user_cannot_cap_even_its_own_project(
    api: TestClient, project_user: dict[str, str], kube: FakeKube
) -> None:
    assert (
        "organization administrators only" in data(api.put(DEV, headers=project_user, json={"cpu": "1"}), 403)["error"]
    )
    assert api.put(DEV, json={"cpu": "1"}).status_code == 401
    assert kube.writes == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"cpu": "2 cores"}, "cap.cpu: '2 cores' is not a quantity"),
        ({"cpu": "-1"}, "cap.cpu: '-1' is negative"),
        ({"memory": "1e1000"}, "cap.memory: about 10^1000 is above 9223372036854775807"),
        ({"pods": 10**25}, "cap.pods: 10000000000000000000000000 is above 9223372036854775"),
        ({"pods": "20"}, "cap.pods: '20' is not a whole number of pods"),
        ({"pods": 2.5}, "is not a whole number of pods"),
        ({"cpus": "2"}, "unknown field 'cpus'"),
        ({}, "cap names no resource"),
        ({"belowUsage": True}, "cap names no resource"),
        ({"cpu": "1", "belowUsage": "yes"}, "belowUsage must be true or false"),
        ("[1]", "must be a JSON object"),
        ("{nope", "not valid JSON"),
        ('{"cpu": NaN}', "not valid JSON"),
    ],
)
def test_bad_input_answers_400_with_the_envelope_and_writes_nothing(
    api: TestClient, admin: dict[str, str], kube: FakeKube, body: Any, expected: str
) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    refused = data(api.put(DEV, headers={**admin, "content-type": "application/json"}, content=content), 400)
    assert expected in refused["error"]
    assert refused["success"] is False
    assert "timestamp" in refused
    assert kube.writes == []


def test_a_large_body_is_refused_unread(api: TestClient, admin: dict[str, str], kube: FakeKube) -> None:
    response = api.put(DEV, headers=admin, content=json.dumps({"cpu": "1", "x": "y" * 9000}))
    assert data(response, 413)["error"] == "the request body is larger than 8192 bytes"
    assert kube.writes == []


def test_more_caps_than_the_projects_limit_are_refused(
    api: TestClient, admin: dict[str, str], cluster: Cluster, kube: FakeKube
) -> None:
    org = kube.stored(ORGANIZATION.path("acme", "acme"))
    assert org is not None
    three = {f"acme-old{i}": {"pods": 1} for i in range(3)}  # projects since deleted: they still count
    org["metadata"]["annotations"][PROJECT_CAPS] = json.dumps(three)
    cluster.orgs.apply("MODIFIED", kube.put(ORGANIZATION.path("acme", "acme"), org))
    refused = data(api.put(DEV, headers=admin, json={"cpu": "2"}), 400)
    assert "4 capped projects would be more than the projects limit (3)" in refused["error"]
    assert kube.writes == []


def test_an_unreadable_stored_annotation_changes_through_no_route(
    api: TestClient, admin: dict[str, str], cluster: Cluster, kube: FakeKube
) -> None:
    org = kube.stored(ORGANIZATION.path("acme", "acme"))
    assert org is not None
    org["metadata"]["annotations"][PROJECT_CAPS] = '{"acme-dev": {"cpu": "lots"}}'
    cluster.orgs.apply("MODIFIED", kube.put(ORGANIZATION.path("acme", "acme"), org))
    for response in (api.put(DEV, headers=admin, json={"cpu": "2"}), api.delete(DEV, headers=admin)):
        refused = data(response, 409)
        assert "cannot be read" in refused["error"]
        assert refused["details"]["problems"] == [
            "billing.kube-dc.com/project-caps[acme-dev].cpu: 'lots' is not a quantity"
        ]
    projects = {p["namespace"]: p for p in data(api.get(f"{API}/projects", headers=admin))}
    assert projects["acme-dev"]["cap"] is None
    assert kube.writes == []


def test_a_concurrent_change_of_the_organization_is_read_again_before_writing(
    api: TestClient, admin: dict[str, str], kube: FakeKube
) -> None:
    kube.fail("PATCH", ORGANIZATION.path("acme", "acme"), 409)
    data(api.put(DEV, headers=admin, json={"cpu": "2"}))
    assert [w.method for w in kube.writes] == ["PATCH"]  # the refused one is not recorded; one write landed
    assert kube.reads.count(ORGANIZATION.path("acme", "acme")) == 2
    assert stored_caps(kube) == {"acme-dev": {"cpu": "2"}}


def test_an_annotation_made_unreadable_since_the_api_last_saw_it_is_not_rewritten(
    api: TestClient, admin: dict[str, str], kube: FakeKube
) -> None:
    org = kube.stored(ORGANIZATION.path("acme", "acme"))
    assert org is not None
    org["metadata"]["annotations"][PROJECT_CAPS] = "{"
    kube.put(ORGANIZATION.path("acme", "acme"), org)  # the watch has not told the API yet
    refused = data(api.put(DEV, headers=admin, json={"cpu": "2"}), 409)
    assert "is not valid JSON" in refused["error"]
    assert kube.writes == []


def test_every_cap_change_is_audited_with_who_which_project_and_how_it_ended(
    api: TestClient, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    alice = bearer(issuer.token(org="acme", groups=["org-admin"], sub="u-1", preferred_username="alice"))
    with caplog.at_level(logging.INFO, logger="orgquota.api.audit"):
        data(api.put(DEV, headers=alice, json={"cpu": "2", "pods": 20}))
        data(api.put(DEV + "?dryRun=true", headers=alice, json={"cpu": "100m"}), 409)
        data(api.put(DEV, headers=alice, json={"cpu": "lots"}), 400)
        data(api.delete(DEV, headers=alice))
    lines = audit_lines(caplog)
    assert [(line["audit"], line["outcome"][:11], line["inputs"]) for line in lines] == [
        (
            "project cap set",
            "done",
            {"namespace": "acme-dev", "dryRun": False, "cap": {"cpu": "2", "pods": 20}, "belowUsage": False},
        ),
        (
            "project cap set",
            "refused 409",
            {"namespace": "acme-dev", "dryRun": True, "cap": {"cpu": "100m"}, "belowUsage": False},
        ),
        ("project cap set", "refused 400", {"namespace": "acme-dev", "dryRun": False}),
        ("project cap removed", "done", {"namespace": "acme-dev", "dryRun": False}),
    ]
    assert {(line["sub"], line["preferred_username"], line["organization"]) for line in lines} == {
        ("u-1", "alice", "acme")
    }
