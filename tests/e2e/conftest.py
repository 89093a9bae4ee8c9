"""End-to-end fixtures: a real kube-apiserver (ours, or $KUBECONFIG's) with the CRDs installed.

Every test under tests/e2e/ is marked `e2e`, so `pytest -m "not e2e"` skips them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcluster.binaries import bin_dir
from localcluster.controlplane import ControlPlane
from localcluster.hnc import hnc_crd_path
from localcluster.keycloak import Keycloak
from localcluster.keycloak_dist import keycloak_home
from localcluster.kubectl import Cluster, install_crds
from localcluster.stripe_mock import StripeMock, stripe_mock_path

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent


def external_kubeconfig() -> Path | None:
    """$KUBECONFIG if set: then tests use that cluster as is and start nothing."""
    value = os.environ.get("KUBECONFIG")
    if not value:
        return None
    if os.pathsep in value:
        raise pytest.UsageError("e2e tests need KUBECONFIG to name a single file")
    return Path(value)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fetch or build binaries and the HNC CRD before any test starts, outside pytest-timeout's clock.

    A first-run build takes minutes, far above the per-test timeout; hooks are not timed.
    """
    if any(item.get_closest_marker("e2e") for item in session.items):
        bin_dir()  # even with $KUBECONFIG: tests drive the cluster with our kubectl
        hnc_crd_path()
    fixtures = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    if "keycloak" in fixtures:
        keycloak_home()  # first run: 15-30 s Maven fetch + 25-50 s `kc.sh build`
    if "stripe_mock" in fixtures:
        stripe_mock_path()  # first run: a Go build, 3 s with a warm Go build cache, ~70 s cold


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The session's cluster, with the project's CRDs and HNC's HRQ CRD installed and established."""
    kubeconfig = external_kubeconfig()
    if kubeconfig is not None:
        cl = Cluster(kubeconfig)
        install_crds(cl)
        yield cl
        return
    workdir = tmp_path_factory.mktemp("controlplane")
    with ControlPlane(workdir) as cp:
        cl = Cluster(cp.kubeconfig, cache_dir=workdir / "kubectl-cache")
        install_crds(cl)
        yield cl


@pytest.fixture(scope="session")
def managed_cluster(cluster: Cluster) -> Cluster:
    """`cluster`, but only when this session started it (tests that assume our exact versions)."""
    if external_kubeconfig() is not None:
        pytest.skip("runs only against the control plane this session starts (KUBECONFIG is set)")
    return cluster


@pytest.fixture(scope="session")
def keycloak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keycloak]:
    """A Keycloak serving a freshly imported kube-dc realm (demo users and the kube-dc client)."""
    with Keycloak(tmp_path_factory.mktemp("keycloak")) as kc:
        yield kc


@pytest.fixture(scope="session")
def stripe_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StripeMock]:
    """stripe-mock on a loopback port; point a Stripe client's API base at `.api_base`."""
    with StripeMock(tmp_path_factory.mktemp("stripe-mock")) as sm:
        yield sm
