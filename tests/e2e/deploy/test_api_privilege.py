"""The billing API runs as the chart's API ServiceAccount (a TokenRequest token, RBAC as rendered): its
watches all list (it becomes ready), it may write billing annotations, and it can do nothing else."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcluster.chart import documents, template
from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from localcluster.procs import spawn
from orgquota.kube.billing_annotations import write_billing_annotations
from orgquota.kube.client import ORGANIZATION, Kube, KubeError
from tests.support.catalog import CATALOG_NAMESPACE, apply_catalog
from tests.support.cluster import apply, delete, ensure_namespace, establish, new_org
from tests.support.files import EIP_CRD
from tests.support.oidc import Issuer
from tests.support.release import IDENTITY_KINDS, NAMESPACE, RELEASE, TEST_VALUES, can_i, write_token_kubeconfig
from tests.support.waiting import assert_eq, eventually

API_SA = f"{RELEASE}-api"
API_USER = f"system:serviceaccount:{NAMESPACE}:{API_SA}"
VALUES = {**TEST_VALUES, "api": {"enabled": True, "oidc": {"issuerUrl": "https://issuer.example"}}}


@pytest.fixture(scope="module")
def api_identity(isolated_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cluster = isolated_cluster
    for namespace in (NAMESPACE, CATALOG_NAMESPACE):
        ensure_namespace(cluster, namespace)
    establish(cluster, EIP_CRD)
    apply_catalog(cluster)
    docs = [d for d in documents(template(RELEASE, NAMESPACE, VALUES)) if d["kind"] in IDENTITY_KINDS]
    apply(cluster, docs)
    token = cluster.kubectl("create", "token", API_SA, "-n", NAMESPACE, "--duration=1h").stdout.strip()
    kubeconfig = tmp_path_factory.mktemp("api-identity") / "kubeconfig"
    write_token_kubeconfig(cluster.kubeconfig, kubeconfig, token)
    yield kubeconfig
    delete(cluster, docs)


def test_the_api_becomes_ready_as_its_service_account(
    isolated_cluster: Cluster, api_identity: Path, tmp_path: Path
) -> None:
    issuer = Issuer()
    (port,) = free_ports(1)
    env = {**isolated_cluster.env, "KUBECONFIG": str(api_identity), "OIDC_ISSUER_URL": issuer.url}
    log = tmp_path / "api.log"
    proc = spawn([sys.executable, "-m", "orgquota", "api", "--port", str(port)], log, detached=False, env=env)
    try:

        def ready() -> None:
            assert proc.poll() is None, log.read_text()
            response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            assert response.status_code == 200, response.text

        eventually(lambda: _tolerant(ready), timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        issuer.close()
    assert "Forbidden" not in log.read_text()  # read once stopped: every line it queued is written


def _tolerant(check: object) -> None:
    try:
        check()  # type: ignore[operator]
    except httpx.TransportError as exc:
        raise AssertionError(str(exc)) from exc


def test_it_writes_billing_annotations_and_nothing_else(isolated_cluster: Cluster, api_identity: Path) -> None:
    org = new_org(isolated_cluster, {})

    async def as_api() -> None:
        kube = await Kube.connect(kubeconfig=str(api_identity))
        try:
            await write_billing_annotations(kube, org, org, {"billing.kube-dc.com/plan-id": "pro-pool"})
            with pytest.raises(KubeError) as refused:
                await kube.merge_patch(f"/api/v1/namespaces/{org}", {"metadata": {"labels": {"x": "y"}}})
            assert refused.value.status == 403
        finally:
            await kube.close()

    asyncio.run(as_api())
    annotations = isolated_cluster.get_json("organization", org, "-n", org)["metadata"]["annotations"]
    assert annotations["billing.kube-dc.com/plan-id"] == "pro-pool"


@pytest.mark.parametrize(
    ("verb", "resource", "scope"),
    [
        ("get", "secrets", ["-A"]),
        ("list", "secrets", ["-n", CATALOG_NAMESPACE]),
        ("delete", "organizations.kube-dc.com", ["-A"]),
        ("patch", "organizations.kube-dc.com", ["-A", "--subresource=status"]),
        ("patch", "hierarchicalresourcequotas.hnc.x-k8s.io/plan-quota", ["-A"]),
        ("patch", "hierarchicalresourcequotas.hnc.x-k8s.io/project-cap", ["-A"]),
        ("create", "limitranges", ["-A"]),
        ("create", "pods", ["-A"]),
        ("list", "configmaps", ["-n", CATALOG_NAMESPACE]),
        ("get", "configmaps/billing-plans", ["-n", CATALOG_NAMESPACE]),
        ("patch", "configmaps/billing-plans-last-good", ["-n", CATALOG_NAMESPACE]),
        ("list", "deployments.apps", ["-A"]),
    ],
)
def test_it_cannot_do_anything_else(
    isolated_cluster: Cluster, api_identity: Path, verb: str, resource: str, scope: list[str]
) -> None:
    assert not can_i(isolated_cluster, verb, resource, *scope, as_user=API_USER)


@pytest.mark.parametrize(
    ("verb", "resource", "scope"),
    [
        ("watch", "organizations.kube-dc.com", ["-A"]),
        ("patch", "organizations.kube-dc.com", ["-A"]),
        ("watch", "pods", ["-A"]),
        ("watch", "persistentvolumeclaims", ["-A"]),
        ("watch", "namespaces", []),
        ("watch", "eips.kube-dc.com", ["-A"]),
        ("watch", "hierarchicalresourcequotas.hnc.x-k8s.io/plan-quota", ["-A"]),
        ("watch", "limitranges/default-resource-limits", ["-A"]),
        ("watch", "configmaps/billing-plans", ["-n", CATALOG_NAMESPACE]),
    ],
)
def test_it_can_do_its_job(
    isolated_cluster: Cluster, api_identity: Path, verb: str, resource: str, scope: list[str]
) -> None:
    assert can_i(isolated_cluster, verb, resource, *scope, as_user=API_USER)


def _patch_as_api(kubeconfig: Path, path: str, patch: dict[str, Any]) -> int:
    """The API's own request: the status it was answered (200 written)."""

    async def send() -> int:
        kube = await Kube.connect(kubeconfig=str(kubeconfig))
        try:
            await kube.merge_patch(path, patch)
        except KubeError as exc:
            return exc.status
        finally:
            await kube.close()
        return 200

    return asyncio.run(send())


def test_the_policy_holds_its_writes_to_billing_annotations(isolated_cluster: Cluster, api_identity: Path) -> None:
    """RBAC lets the API patch Organizations; the chart's policy (applied with the identity above) lets it
    change nothing but billing annotations."""
    org = new_org(isolated_cluster, {"example.com/owner": "team-a"})
    path = ORGANIZATION.path(org, org)
    before = isolated_cluster.get_json("organization", org, "-n", org)
    label = {"metadata": {"labels": {"kube-dc.com/tier": "gold"}}}
    eventually(lambda: assert_eq(_patch_as_api(api_identity, path, label), 403), timeout=30)  # the policy is loaded
    for attack in (
        {"metadata": {"annotations": {"example.com/owner": "attacker"}}},
        {"metadata": {"annotations": {"example.com/owner": None}}},
        {"metadata": {"finalizers": ["example.com/keep"]}},
        {"spec": {"email": "attacker@example.com"}},
        {"metadata": {"annotations": {"billing.kube-dc.com/plan-id": "pro-pool", "example.com/new": "x"}}},
    ):
        assert _patch_as_api(api_identity, path, attack) == 403, attack
    after = isolated_cluster.get_json("organization", org, "-n", org)
    assert (after["metadata"]["resourceVersion"], after["spec"]) == (
        before["metadata"]["resourceVersion"],
        before["spec"],
    )
    billing = {"metadata": {"annotations": {"billing.kube-dc.com/plan-id": "pro-pool"}}}
    assert _patch_as_api(api_identity, path, billing) == 200  # what it is for still works
