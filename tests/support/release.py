"""The operator as the Helm chart installs it: the chart's identity (ServiceAccount, RBAC, admission
policies) applied for a test release, and replicas running as that identity, with leader election
(the Lease `orgquota-leader` in the release namespace).

The release and its namespace have names of their own, so that a real release installed later into
the same cluster never collides with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from localcluster.certs import ServingCert, generate_serving_cert
from localcluster.chart import documents, template
from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from tests.support.catalog import CATALOG_NAMESPACE
from tests.support.cluster import apply, delete, ensure_namespace, external_kubeconfig
from tests.support.operator_process import PROJECTS_LIMIT, OperatorProcess, Webhooks, webhook_configuration

RELEASE: Final = "orgquota-e2e"
NAMESPACE: Final = "orgquota-e2e"
SERVICE_ACCOUNT: Final = RELEASE
SA_USER: Final = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
BILLING_GROUP: Final = "kube-dc:billing"
TEST_VALUES: Final[Mapping[str, Any]] = {"protection": {"billingGroups": [BILLING_GROUP]}}
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
    }
)


def annotate_as_billing(cluster: Cluster, org: str, annotation: str, *flags: str) -> None:
    """`kubectl annotate` an organization the way the billing system does (its group may)."""
    billing = ("--as=billing-bot", f"--as-group={BILLING_GROUP}")
    cluster.kubectl(*billing, "-n", org, "annotate", "organization", org, annotation, *flags)


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
    """The operator as the chart runs it (leader election, health port, webhooks), as the chart's identity."""

    process: OperatorProcess
    pod_id: str
    webhook_port: int
    health_port: int
    serving: ServingCert

    def webhook_configuration(self) -> str:
        """`orgquota webhook-config` for this replica's webhook server on loopback."""
        return webhook_configuration(self.process.env, self.webhook_port, self.serving.ca_cert)


def replica(cluster: Cluster, identity: Identity, workdir: Path, pod_id: str) -> Replica:
    """A replica, not started yet; webhooks on loopback (the local apiserver reaches them there)."""
    metrics_port, webhook_port, health_port = free_ports(3)
    serving = generate_serving_cert(workdir / f"{pod_id}-tls", ["127.0.0.1"])
    env = {
        "KUBECONFIG": str(identity.kubeconfig),
        "POD_ID": pod_id,  # the Lease holder's identity, as the chart sets it from the pod's name
        "POD_NAMESPACE": NAMESPACE,  # where the Lease is, as the chart sets it from the pod's namespace
        "ORGQUOTA_LEADER_ELECTION": "true",
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
    process = OperatorProcess({**cluster.env, **env}, workdir / f"{pod_id}.log")
    return Replica(process, pod_id, webhook_port, health_port, serving)


def install_webhooks(cluster: Cluster, replica: Replica) -> Webhooks | None:
    """Point the webhook configuration at `replica` and wait until it answers; None where it can't."""
    if external_kubeconfig() is not None:
        return None  # a remote apiserver cannot call this machine's loopback
    webhooks = Webhooks(cluster, replica.webhook_configuration())
    webhooks.install()
    return webhooks
