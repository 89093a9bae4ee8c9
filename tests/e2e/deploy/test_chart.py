"""The chart as rendered by the pinned helm: lint, the plain manifest kept in step, and what it promises.

No cluster needed; these hold the chart to the operator's own definitions (its webhook configuration,
its settings) and to least privilege and a hardened pod.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from localcluster.chart import PLAIN_MANIFEST, ChartError, documents, lint, stale_files, template
from orgquota.controller.settings import ENVIRONMENT, Settings
from orgquota.controller.webhooks import CONFIGURATION_NAME, webhook_configuration
from orgquota.core.lease import LeaseTimings

RELEASE = "orgquota"
NAMESPACE = "orgquota-system"
SA_USER = f"system:serviceaccount:{NAMESPACE}:{RELEASE}"

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "cert-manager": {"tls": {"mode": "cert-manager"}},
    "cert-manager-issuer": {
        "tls": {"mode": "cert-manager", "certManager": {"issuerRef": {"kind": "ClusterIssuer", "name": "ca"}}}
    },
    "single-replica": {"replicaCount": 1, "leaderElection": {"enabled": False}, "protection": {"enabled": False}},
    "custom": {
        "catalog": {"namespace": "billing", "name": "plans"},
        "webhook": {"servicePort": 8443},
        "image": {"repository": "registry.example.com/orgquota", "digest": "sha256:" + "a" * 64},
        "namespace": {"create": True},
        "protection": {"billingUsers": ["system:serviceaccount:kube-dc:billing-api"], "billingGroups": ["billing"]},
    },
}


def render(values: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    return documents(template(RELEASE, NAMESPACE, values))


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''} rendered"
    return found[0]


@pytest.fixture(scope="module")
def default_docs() -> list[dict[str, Any]]:
    return render()


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_helm_lint_strict(values: dict[str, Any]) -> None:
    assert "0 chart(s) failed" in lint(values)


def test_an_unknown_tls_mode_is_refused() -> None:
    with pytest.raises(ChartError, match=r"tls\.mode must be helm or cert-manager"):
        render({"tls": {"mode": "self"}})


def test_the_plain_manifest_and_the_crd_copy_are_up_to_date() -> None:
    stale = [str(path) for path in stale_files()]
    assert not stale, f"out of date (run `make manifest`): {stale}"


def test_the_plain_manifest_is_deterministic_and_complete() -> None:
    docs = documents(PLAIN_MANIFEST.read_text())
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "CustomResourceDefinition", "Deployment", "Certificate", "Issuer"} <= kinds
    assert "Secret" not in kinds  # cert-manager writes it: no key material in a committed file
    crds = {d["metadata"]["name"] for d in docs if d["kind"] == "CustomResourceDefinition"}
    assert crds == {"organizations.kube-dc.com"}


def _client_config(docs: list[dict[str, Any]], port: int, ca_bundle: str | None) -> dict[str, Any]:
    service = one(docs, "Service")
    client: dict[str, Any] = {
        "service": {"namespace": NAMESPACE, "name": service["metadata"]["name"], "port": port},
    }
    if ca_bundle is not None:
        client["caBundle"] = ca_bundle
    return client


@pytest.mark.parametrize("name", ["defaults", "cert-manager", "custom"])
def test_the_webhooks_are_what_the_operator_defines(name: str) -> None:
    values = VALUE_SETS[name]
    docs = render(values)
    rendered = one(docs, "ValidatingWebhookConfiguration")
    settings = Settings(
        catalog_namespace=values.get("catalog", {}).get("namespace", "kube-dc"),
        catalog_name=values.get("catalog", {}).get("name", "billing-plans"),
    )
    port = values.get("webhook", {}).get("servicePort", 443)
    helm_mode = values.get("tls", {}).get("mode", "helm") == "helm"
    ca_bundle = one(docs, "Secret")["data"]["ca.crt"] if helm_mode else None
    expected = webhook_configuration(_client_config(docs, port, ca_bundle), settings)
    assert rendered["metadata"]["name"] == expected["metadata"]["name"] == CONFIGURATION_NAME
    assert rendered["webhooks"] == expected["webhooks"]
    if not helm_mode:  # cert-manager's CA injector fills the caBundle from the Certificate's secret
        certificate = one(docs, "Certificate")
        assert rendered["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
            f"{NAMESPACE}/{certificate['metadata']['name']}"
        )


def test_the_webhooks_are_what_the_cli_prints(default_docs: list[dict[str, Any]], tmp_path: Path) -> None:
    ca_bundle = one(default_docs, "Secret")["data"]["ca.crt"]
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(base64.b64decode(ca_bundle))
    service = one(default_docs, "Service")["metadata"]["name"]
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "orgquota",
            "webhook-config",
            f"--service={NAMESPACE}/{service}:443",
            f"--ca-file={ca_file}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert one(default_docs, "ValidatingWebhookConfiguration")["webhooks"] == yaml.safe_load(printed)["webhooks"]


def test_the_generated_certificate_serves_the_webhook_service(default_docs: list[dict[str, Any]]) -> None:
    data = one(default_docs, "Secret")["data"]
    ca = x509.load_pem_x509_certificate(base64.b64decode(data["ca.crt"]))
    cert = x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))
    cert.verify_directly_issued_by(ca)
    service = one(default_docs, "Service")["metadata"]["name"]
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert f"{service}.{NAMESPACE}.svc" in names  # what the apiserver dials for a service reference
    deployment = one(default_docs, "Deployment")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["webhook-tls"]["secret"]["secretName"] == one(default_docs, "Secret")["metadata"]["name"]
    # Every render makes a new CA (genCA): why the plain manifest uses cert-manager instead.
    assert one(render(), "Secret")["data"]["ca.crt"] != data["ca.crt"]


# The whole of what the operator may do; a change here is a change of its privileges (README, RBAC).
EXPECTED_CLUSTER_RULES = {
    ("kube-dc.com", "organizations", ""): {"get", "list", "watch", "patch"},
    ("kube-dc.com", "organizations/status", ""): {"patch"},
    ("kube-dc.com", "eips", ""): {"list", "watch"},
    ("hnc.x-k8s.io", "hierarchicalresourcequotas", ""): {"list", "watch", "create"},
    ("hnc.x-k8s.io", "hierarchicalresourcequotas", "plan-quota"): {"get", "patch", "delete"},
    ("hnc.x-k8s.io", "hierarchicalresourcequotas", "project-cap"): {"get", "patch", "delete"},
    ("", "limitranges", "default-resource-limits"): {"get", "list", "watch", "patch", "delete"},
    ("", "limitranges", ""): {"create"},
    ("", "configmaps", "billing-plans"): {"list", "watch"},
    ("", "namespaces", ""): {"get", "list", "watch"},
    ("", "events", ""): {"create"},
    ("apps", "deployments", ""): {"get", "list", "patch"},
    ("apps", "statefulsets", ""): {"get", "list", "patch"},
    ("apps", "deployments/scale", ""): {"patch"},  # replicas only through the scale subresource
    ("apps", "statefulsets/scale", ""): {"patch"},
    ("batch", "cronjobs", ""): {"get", "list", "patch"},
    ("apiextensions.k8s.io", "customresourcedefinitions", ""): {"list", "watch"},
}
EXPECTED_CATALOG_RULES = {
    ("", "configmaps", "billing-plans"): {"get"},
    ("", "configmaps", "billing-plans-last-good"): {"get", "patch"},
    ("", "configmaps", ""): {"create"},
}
EXPECTED_LEASE_RULES = {
    ("coordination.k8s.io", "leases", "orgquota-leader"): {"get", "watch", "update"},
    ("coordination.k8s.io", "leases", ""): {"create"},
}


def _flatten(rules: list[dict[str, Any]]) -> dict[tuple[str, str, str], set[str]]:
    flat: dict[tuple[str, str, str], set[str]] = {}
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for name in rule.get("resourceNames") or [""]:
                    flat.setdefault((group, resource, name), set()).update(rule["verbs"])
    return flat


def test_the_webhook_port_may_be_limited_to_the_apiserver() -> None:
    assert not [d for d in render({}) if d["kind"] == "NetworkPolicy"]  # off by default
    with pytest.raises(ChartError, match=r"webhook\.networkPolicy\.apiserverCIDRs"):
        render({"webhook": {"networkPolicy": {"enabled": True}}})
    docs = render({"webhook": {"networkPolicy": {"enabled": True, "apiserverCIDRs": ["10.0.0.0/24"]}}})
    policy = one(docs, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"] == one(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    webhook, others = policy["spec"]["ingress"]
    assert webhook == {"ports": [{"port": 9443, "protocol": "TCP"}], "from": [{"ipBlock": {"cidr": "10.0.0.0/24"}}]}
    assert "from" not in others  # metrics and health stay reachable
    ca = render({"webhook": {"clientCA": {"configMap": "apiserver-ca"}}})
    env = {e["name"]: e.get("value") for e in one(ca, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ORGQUOTA_WEBHOOK_CLIENT_CA"] == "/etc/orgquota/client-ca/ca.crt"


def test_rbac_is_exactly_what_the_operator_uses(default_docs: list[dict[str, Any]]) -> None:
    cluster_role = one(default_docs, "ClusterRole")
    role = one(default_docs, "Role", f"{RELEASE}-catalog")
    assert role["metadata"]["namespace"] == "kube-dc"
    lease_role = one(default_docs, "Role", f"{RELEASE}-leader")
    assert lease_role["metadata"]["namespace"] == NAMESPACE  # the Lease only where the operator runs
    assert _flatten(cluster_role["rules"]) == EXPECTED_CLUSTER_RULES
    assert _flatten(role["rules"]) == EXPECTED_CATALOG_RULES
    assert _flatten(lease_role["rules"]) == EXPECTED_LEASE_RULES
    for rule in cluster_role["rules"] + role["rules"] + lease_role["rules"]:
        assert "secrets" not in rule["resources"]
        assert "*" not in rule["apiGroups"] + rule["resources"] + rule["verbs"]
        assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])
    subjects = [s for d in default_docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding") for s in d["subjects"]]
    assert subjects == 3 * [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}]
    single = render(VALUE_SETS["single-replica"])
    assert [d["metadata"]["name"] for d in single if d["kind"] == "Role"] == [f"{RELEASE}-catalog"]


def test_the_deployment_is_hardened_and_highly_available(default_docs: list[dict[str, Any]]) -> None:
    deployment = one(default_docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 2
    assert pod["serviceAccountName"] == one(default_docs, "ServiceAccount")["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}

    env = {e["name"]: e.get("value") for e in container["env"]}
    downward = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"] if "valueFrom" in e}
    assert downward == {"POD_ID": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    assert set(env) - {"POD_NAMESPACE"} <= set(ENVIRONMENT.values()), "the chart sets a variable the operator ignores"
    settings = Settings.from_env({k: v for k, v in env.items() if v is not None} | {"POD_NAMESPACE": NAMESPACE})
    assert settings.leader_election
    assert settings.lease_namespace == NAMESPACE
    assert settings.lease_timings == LeaseTimings()  # the spec's 5 s, 3 s, 1 s
    assert settings.webhooks
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert (ports["health"], ports["webhook"], ports["metrics"]) == (
        settings.health_port,
        settings.webhook_port,
        settings.metrics_port,
    )
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    tls_dir = str(Path(settings.webhook_cert).parent)
    assert mounts[tls_dir]["readOnly"] is True
    assert str(Path(settings.webhook_key).parent) == tls_dir

    service = one(default_docs, "Service")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"] == [{"name": "webhook", "port": 443, "targetPort": "webhook", "protocol": "TCP"}]
    pdb = one(default_docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_the_admission_policies_exempt_the_operator_and_the_billing_system() -> None:
    docs = render(VALUE_SETS["custom"])
    quota = one(docs, "ValidatingAdmissionPolicy", "orgquota-managed-quota.kube-dc.com")
    billing = one(docs, "ValidatingAdmissionPolicy", "orgquota-billing-annotations.kube-dc.com")
    quota_exempt = quota["spec"]["matchConditions"][0]["expression"]
    billing_exempt = billing["spec"]["matchConditions"][0]["expression"]
    for expression in (quota_exempt, billing_exempt):
        assert f'"{SA_USER}"' in expression
        assert '"system:masters"' in expression
    assert '"system:serviceaccount:kube-dc:billing-api"' in billing_exempt
    assert '"billing"' in billing_exempt
    assert "billing-api" not in quota_exempt  # billing systems set plans, they do not edit quotas
    for policy in (quota, billing):
        binding = one(docs, "ValidatingAdmissionPolicyBinding", policy["metadata"]["name"])
        assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}
    assert one(docs, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry.example.com/orgquota@sha256:" + "a" * 64
    )
    assert not [d for d in render(VALUE_SETS["single-replica"]) if "AdmissionPolicy" in d["kind"]]
