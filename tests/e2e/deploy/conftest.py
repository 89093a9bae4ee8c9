"""Install and operate: the Helm chart, its identity (ServiceAccount + RBAC) and the operator running as it.

Tests here that create the chart's cluster-wide objects (ClusterRoles, admission policies, the webhook
configuration) get a control plane of their own module (`isolated_cluster`, ready in seconds),
so nothing of theirs meets the other e2e tests, which share the session's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcluster.controlplane import ControlPlane
from localcluster.helm import helm_path
from localcluster.kubectl import Cluster, install_crds
from tests.support.cluster import external_kubeconfig, listable
from tests.support.waiting import eventually


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
            eventually(lambda crd=crd: listable(cluster, crd), timeout=60)  # type: ignore[misc]
        yield cluster
