"""The billing API in the chart: off by default, its own Deployment, Service and ServiceAccount when
enabled, settings the API accepts, exactly its RBAC, and the right to change billing annotations."""

from __future__ import annotations

from typing import Any

import pytest

from localcluster.chart import ChartError, documents, lint, template
from orgquota.api.settings import ENVIRONMENT, ApiSettings

RELEASE = "orgquota"
NAMESPACE = "orgquota-system"
API_NAME = f"{RELEASE}-api"
API_USER = f"system:serviceaccount:{NAMESPACE}:{API_NAME}"
ISSUER = "https://login.example.com/realms/kube-dc"
API_VALUES: dict[str, Any] = {"api": {"enabled": True, "oidc": {"issuerUrl": ISSUER}}}

EXPECTED_API_CLUSTER_RULES = {
    ("kube-dc.com", "organizations", ""): {"get", "list", "watch", "patch"},
    ("kube-dc.com", "eips", ""): {"list", "watch"},
    ("hnc.x-k8s.io", "hierarchicalresourcequotas", "plan-quota"): {"list", "watch"},
    ("", "limitranges", "default-resource-limits"): {"list", "watch"},
    ("", "namespaces", ""): {"list", "watch"},
    ("", "pods", ""): {"list", "watch"},
    ("", "persistentvolumeclaims", ""): {"list", "watch"},
}
EXPECTED_API_CATALOG_RULES = {
    ("", "configmaps", "billing-plans"): {"list", "watch"},
    ("", "configmaps", "billing-plans-last-good"): {"list", "watch"},
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    return documents(template(RELEASE, NAMESPACE, values))


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} {name} rendered"
    return found[0]


def flatten(rules: list[dict[str, Any]]) -> dict[tuple[str, str, str], set[str]]:
    flat: dict[tuple[str, str, str], set[str]] = {}
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for name in rule.get("resourceNames") or [""]:
                    flat.setdefault((group, resource, name), set()).update(rule["verbs"])
    return flat


def test_off_by_default_and_lints_when_enabled() -> None:
    assert not [d for d in render({}) if d["metadata"]["name"].startswith(API_NAME)]
    lint(API_VALUES)


def test_enabled_without_an_issuer_is_refused() -> None:
    with pytest.raises(ChartError, match=r"api.oidc.issuerUrl is required"):
        render({"api": {"enabled": True}})


def test_the_api_deployment_runs_orgquota_api_with_settings_it_accepts() -> None:
    docs = render(API_VALUES)
    deployment = named(docs, "Deployment", API_NAME)
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][0] == "api"
    assert pod["serviceAccountName"] == named(docs, "ServiceAccount", API_NAME)["metadata"]["name"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert set(env) <= set(ENVIRONMENT.values()), "the chart sets a variable the API ignores"
    settings = ApiSettings.from_env(env)
    assert settings.issuer_url == ISSUER
    operator_env = {
        e["name"]: e.get("value")
        for e in named(docs, "Deployment", RELEASE)["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["ORGANIZATION_PROJECTS_LIMIT"] == operator_env["ORGANIZATION_PROJECTS_LIMIT"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # its pods are not the operator's: no other Service or PodDisruptionBudget of the release selects them
    api_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for doc in docs:
        if doc["kind"] in ("Service", "PodDisruptionBudget") and doc["metadata"]["name"] != API_NAME:
            selector = doc["spec"]["selector"].get("matchLabels") or doc["spec"]["selector"]
            assert not selector.items() <= api_labels.items(), (
                f"{doc['kind']} {doc['metadata']['name']} selects API pods"
            )
    service = named(docs, "Service", API_NAME)
    assert service["spec"]["selector"].items() <= api_labels.items()


def test_the_api_rbac_is_exactly_what_it_uses() -> None:
    docs = render(API_VALUES)
    assert flatten(named(docs, "ClusterRole", API_NAME)["rules"]) == EXPECTED_API_CLUSTER_RULES
    role = named(docs, "Role", f"{API_NAME}-catalog")
    assert role["metadata"]["namespace"] == "kube-dc"
    assert flatten(role["rules"]) == EXPECTED_API_CATALOG_RULES
    for binding in (named(docs, "ClusterRoleBinding", API_NAME), named(docs, "RoleBinding", f"{API_NAME}-catalog")):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": API_NAME, "namespace": NAMESPACE}]


def test_the_api_may_change_billing_annotations_but_not_quotas() -> None:
    docs = render(API_VALUES)
    billing = named(docs, "ValidatingAdmissionPolicy", "orgquota-billing-annotations.kube-dc.com")
    quota = named(docs, "ValidatingAdmissionPolicy", "orgquota-managed-quota.kube-dc.com")
    assert f'"{API_USER}"' in billing["spec"]["matchConditions"][0]["expression"]
    assert API_USER not in quota["spec"]["matchConditions"][0]["expression"]
