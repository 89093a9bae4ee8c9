"""Install and operate: the Helm chart, its identity (ServiceAccount + RBAC) and the operator running as it.

Tests here that create the chart's cluster-wide objects (ClusterRoles, admission policies, the webhook
configuration, peering) get a control plane of their own module (`isolated_cluster`, ready in seconds),
so nothing of theirs meets the other e2e tests, which share the session's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from localcluster.certs import ServingCert, generate_serving_cert
from localcluster.chart import CHART_DIR, documents, template
from localcluster.controlplane import ControlPlane, free_ports
from localcluster.helm import helm_path
from localcluster.kubectl import Cluster, install_crds
from tests.e2e.conftest import external_kubeconfig
from tests.e2e.quota.conftest import CATALOG_FILE, E2E_QUOTA_DIR, OperatorProcess, Webhooks, catalog_yaml, eventually

# The identity the tests run the operator as: the chart's, rendered for this release and namespace
# (names of their own, so that a real release installed later into the same cluster never collides).
RELEASE: Final = "orgquota-e2e"
NAMESPACE: Final = "orgquota-e2e"
PEERING: Final = "orgquota-e2e"
SERVICE_ACCOUNT: Final = RELEASE
SA_USER: Final = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
BILLING_GROUP: Final = "kube-dc:billing"
CATALOG_NAMESPACE: Final = "kube-dc"
PROJECTS_LIMIT: Final = 3
TEST_VALUES: Final[Mapping[str, Any]] = {
    "peering": {"name": PEERING},
    "protection": {"billingGroups": [BILLING_GROUP]},
}
# What of the chart the operator's identity and the admission policies are made of.
IDENTITY_KINDS: Final = frozenset(
    {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ClusterKopfPeering",
    }
)
PEERING_CRDS: Final = CHART_DIR / "crds" / "kopf-peering.yaml"
EIP_CRD: Final = E2E_QUOTA_DIR / "eip-crd.yaml"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build helm (minutes, once per machine) before any test runs, outside the per-test timeout."""
    here = Path(__file__).parent
    if any(here in item.path.parents for item in session.items):
        helm_path()


@pytest.fixture(scope="module")
def isolated_cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A control plane of this module's own with the CRDs installed; with KUBECONFIG set, that cluster."""
    if external_kubeconfig() is not None:
        cluster: Cluster = request.getfixturevalue("cluster")
        yield cluster
        return
    workdir = tmp_path_factory.mktemp("controlplane-deploy")
    with ControlPlane(workdir) as cp:
        cluster = Cluster(cp.kubeconfig, cache_dir=workdir / "kubectl-cache")
        for crd in install_crds(cluster):  # served, and past the first moments of "storage is (re)initializing"
            eventually(lambda crd=crd: _listable(cluster, crd), timeout=60)  # type: ignore[misc]
        yield cluster


def apply(cluster: Cluster, docs: list[dict[str, Any]]) -> None:
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=yaml.safe_dump_all(docs))


def delete(cluster: Cluster, docs: list[dict[str, Any]]) -> None:
    cluster.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-", input=yaml.safe_dump_all(docs))


def establish(cluster: Cluster, *crd_files: Path) -> None:
    """Apply CRDs and wait until their objects can be listed.

    Established is not enough: for a moment after it the apiserver answers a list with
    429 "storage is (re)initializing", and an operator starting then would trip over it.
    """
    for path in crd_files:
        cluster.kubectl("apply", "--server-side", "-f", str(path))
        for doc in yaml.safe_load_all(path.read_text()):
            name = doc["metadata"]["name"]
            cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
            eventually(lambda name=name: _listable(cluster, name), timeout=60)  # type: ignore[misc]


def _listable(cluster: Cluster, resource: str) -> None:
    proc = cluster.kubectl("get", resource, "-A", "--request-timeout=5s", check=False)
    assert proc.returncode == 0, proc.stderr


def assert_bad_catalog_rejected(cluster: Cluster) -> None:
    """A catalog with burstRatio 0 is refused by the catalog webhook, which names the field (server-side dry run)."""
    bad = catalog_yaml(lambda plans: plans["plans"]["dev-pool"].update(burstRatio=0))
    proc = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=bad, check=False)
    assert proc.returncode != 0
    assert 'admission webhook "catalog.orgquota.kube-dc.com" denied the request' in proc.stderr, proc.stderr
    assert "plans.dev-pool.burstRatio" in proc.stderr, proc.stderr


def annotate_as_billing(cluster: Cluster, org: str, annotation: str, *flags: str) -> None:
    """`kubectl annotate` an organization the way the billing system does (its group may)."""
    billing = ("--as=billing-bot", f"--as-group={BILLING_GROUP}")
    cluster.kubectl(*billing, "-n", org, "annotate", "organization", org, annotation, *flags)


def ensure_namespace(cluster: Cluster, name: str) -> None:
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest))


def forbidden(cluster: Cluster, *args: str, kubeconfig: Path | None = None) -> str:
    """Run kubectl (as `kubeconfig`'s identity if given); assert the apiserver refused it; its message."""
    cmd = [*args] if kubeconfig is None else [f"--kubeconfig={kubeconfig}", *args]
    proc = cluster.kubectl(*cmd, check=False)
    assert proc.returncode != 0, f"kubectl {' '.join(args)} was allowed:\n{proc.stdout}"
    assert "Forbidden" in proc.stderr or "forbidden" in proc.stderr, proc.stderr
    return proc.stderr


def can_i(cluster: Cluster, verb: str, resource: str, *scope: str, as_user: str = SA_USER) -> bool:
    """`kubectl auth can-i` for `as_user` (impersonated by the admin); scope: `-n NS` or `-A`."""
    proc = cluster.kubectl("auth", "can-i", verb, resource, f"--as={as_user}", *scope, check=False)
    answer = proc.stdout.strip()
    assert answer in ("yes", "no"), proc.stderr
    return answer == "yes"


@dataclass
class Identity:
    """The chart's ServiceAccount with its RBAC applied, and a kubeconfig holding a token for it."""

    cluster: Cluster
    docs: list[dict[str, Any]]
    kubeconfig: Path
    token: str = field(repr=False)

    @classmethod
    def create(cls, cluster: Cluster, workdir: Path, values: Mapping[str, Any] = TEST_VALUES) -> Identity:
        for namespace in (NAMESPACE, CATALOG_NAMESPACE):
            ensure_namespace(cluster, namespace)
        establish(cluster, PEERING_CRDS)
        rendered = documents(template(RELEASE, NAMESPACE, values))
        docs = [doc for doc in rendered if doc["kind"] in IDENTITY_KINDS]
        apply(cluster, docs)
        # The TokenRequest API, as the kubelet gets a projected token for the pod.
        token = cluster.kubectl("create", "token", SERVICE_ACCOUNT, "-n", NAMESPACE, "--duration=2h").stdout.strip()
        kubeconfig = workdir / "operator-kubeconfig"
        write_token_kubeconfig(cluster.kubeconfig, kubeconfig, token)
        return cls(cluster, docs, kubeconfig, token)

    def remove(self) -> None:
        delete(self.cluster, self.docs)


def write_token_kubeconfig(admin: Path, path: Path, token: str) -> None:
    """A kubeconfig for the same cluster as `admin`'s, authenticating with a bearer token only."""
    source = yaml.safe_load(admin.read_text())
    context = next(c for c in source["contexts"] if c["name"] == source["current-context"])["context"]
    cluster = next(c for c in source["clusters"] if c["name"] == context["cluster"])["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": cluster}],
        "users": [{"name": SERVICE_ACCOUNT, "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "cluster", "user": SERVICE_ACCOUNT}}],
        "current-context": "operator",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)


@dataclass
class Replica:
    """The operator as the chart runs it (peering, health port, webhooks), as the chart's identity."""

    process: OperatorProcess
    pod_id: str
    webhook_port: int
    health_port: int
    serving: ServingCert

    def webhook_configuration(self) -> str:
        """`orgquota webhook-config` for this replica's webhook server on loopback."""
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "orgquota",
                "webhook-config",
                "--url",
                f"https://127.0.0.1:{self.webhook_port}",
                "--ca-file",
                str(self.serving.ca_cert),
            ],
            env=self.process.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout


def replica(cluster: Cluster, identity: Identity, workdir: Path, pod_id: str) -> Replica:
    """A replica, not started yet; webhooks on loopback (the local apiserver reaches them there)."""
    metrics_port, webhook_port, health_port = free_ports(3)
    serving = generate_serving_cert(workdir / f"{pod_id}-tls", ["127.0.0.1"])
    env = {
        "KUBECONFIG": str(identity.kubeconfig),
        "POD_ID": pod_id,  # Kopf's peer identity, as the chart sets it from the pod's name
        "ORGQUOTA_PEERING": PEERING,
        "ORGQUOTA_HEALTH_PORT": str(health_port),
        "ORGQUOTA_METRICS_PORT": str(metrics_port),
        "ORGQUOTA_CATALOG_NAMESPACE": CATALOG_NAMESPACE,
        "ORGANIZATION_PROJECTS_LIMIT": str(PROJECTS_LIMIT),
        "ORGQUOTA_LOG_LEVEL": "INFO",
    }
    if external_kubeconfig() is None:
        env |= {
            "ORGQUOTA_WEBHOOK_CERT": str(serving.cert),
            "ORGQUOTA_WEBHOOK_KEY": str(serving.key),
            "ORGQUOTA_WEBHOOK_PORT": str(webhook_port),
        }
    process = OperatorProcess(cluster, workdir / f"{pod_id}.log", env)
    return Replica(process, pod_id, webhook_port, health_port, serving)


def install_webhooks(cluster: Cluster, replica: Replica) -> Webhooks | None:
    """Point the webhook configuration at `replica` and wait until it answers; None where it can't."""
    if external_kubeconfig() is not None:
        return None  # a remote apiserver cannot call this machine's loopback
    webhooks = Webhooks(cluster, replica.webhook_configuration())
    webhooks.install()
    return webhooks


def apply_catalog(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(CATALOG_FILE))


def set_catalog_cpu(cluster: Cluster, plan: str, cpu: str) -> None:
    """Edit the live catalog: `plan`'s requests.cpu becomes `cpu`."""
    configmap = cluster.get_json("configmap", "billing-plans", "-n", CATALOG_NAMESPACE)
    plans = yaml.safe_load(configmap["data"]["plans.yaml"])
    plans["plans"][plan]["requests"]["cpu"] = cpu
    patch = {"data": {"plans.yaml": yaml.safe_dump(plans, sort_keys=False)}}
    cluster.kubectl(
        "patch", "configmap", "billing-plans", "-n", CATALOG_NAMESPACE, "--type=merge", "-p", json.dumps(patch)
    )


def new_org(cluster: Cluster, annotations: dict[str, str]) -> str:
    """An Organization in a fresh namespace of its own name (created by the admin, as the platform does)."""
    name = f"org-{uuid.uuid4().hex[:8]}"
    manifests = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        {
            "apiVersion": "kube-dc.com/v1",
            "kind": "Organization",
            "metadata": {"name": name, "namespace": name, "annotations": annotations},
            "spec": {"email": f"admin@{name}.example"},
        },
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))
    return name


def hrq_hard(cluster: Cluster, namespace: str) -> dict[str, str]:
    proc = cluster.kubectl("get", "hrq", "plan-quota", "-n", namespace, "-o", "json", check=False)
    assert proc.returncode == 0, f"no plan-quota in {namespace}: {proc.stderr}"
    hard: dict[str, str] = json.loads(proc.stdout)["spec"]["hard"]
    return hard


def assert_cpu(cluster: Cluster, namespace: str, cpu: str) -> None:
    assert hrq_hard(cluster, namespace).get("requests.cpu") == cpu
