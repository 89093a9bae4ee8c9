"""End-to-end fixtures: a real kube-apiserver (ours, or $KUBECONFIG's) with the CRDs installed.

Every test under tests/e2e/ is marked `e2e`, so `pytest -m "not e2e"` skips them all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from localcluster.binaries import bin_dir
from localcluster.cli import PLATFORM_ENV, platform_wanted
from localcluster.controllermanager import controller_manager_path
from localcluster.controlplane import ControlPlane
from localcluster.hnc import hnc_crd_path
from localcluster.hncmanager import hnc_manager_path
from localcluster.keycloak import Keycloak
from localcluster.keycloak_dist import keycloak_home
from localcluster.kubectl import Cluster, install_crds
from localcluster.platform import Platform
from localcluster.stripe_mock import StripeMock, stripe_mock_path
from tests.support.browser import ensure_ui_built, launch_chromium
from tests.support.cluster import external_kubeconfig
from tests.support.oidc import Issuer

E2E_DIR = Path(__file__).resolve().parent


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
        if external_kubeconfig() is None and platform_wanted():
            controller_manager_path()
            hnc_manager_path()
    fixtures = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    if fixtures & {"keycloak", "keycloak_dist", "page_keycloak"}:
        keycloak_home()  # first run: 15-30 s Maven fetch + 25-50 s `kc.sh build`
    if "stripe_mock" in fixtures:
        stripe_mock_path()  # first run: a Go build, 3 s with a warm Go build cache, ~70 s cold
    if "browser" in fixtures:
        ensure_ui_built()  # `make ui` when ui/dist is missing or older than ui/src: npm ci + 20-60 s of Vite


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The session's cluster, with the project's CRDs and HNC's installed and established.

    Ours runs kube-controller-manager and HNC too (the platform slice) unless LOCALCLUSTER_PLATFORM=0.
    """
    kubeconfig = external_kubeconfig()
    if kubeconfig is not None:
        cl = Cluster(kubeconfig)
        install_crds(cl)
        yield cl
        return
    workdir = tmp_path_factory.mktemp("controlplane")
    with ControlPlane(workdir) as cp, contextlib.ExitStack() as platform:
        if platform_wanted():
            platform.enter_context(Platform(cp))
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
def keycloak_dist() -> Path:
    """Keycloak's built distribution, for tests that start Keycloak through something else (`make run`)."""
    return keycloak_home()


@pytest.fixture(scope="session")
def stripe_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StripeMock]:
    """stripe-mock on a loopback port; point a Stripe client's API base at `.api_base`."""
    with StripeMock(tmp_path_factory.mktemp("stripe-mock")) as sm:
        yield sm


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (/usr/bin/chromium, `make browser`) under Playwright; fails when it is missing.

    Module-scoped: Playwright's synchronous API keeps an event loop running in the main thread while
    it lives, and every later test that calls `asyncio.run` would fail beside it."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def enforcing_cluster(cluster: Cluster) -> Cluster:
    """`cluster`, where quotas are enforced and counted (kube-controller-manager and HNC with HRQ run).

    Ours does unless LOCALCLUSTER_PLATFORM=0; a $KUBECONFIG cluster is taken to when
    ORGQUOTA_E2E_ENFORCING=1 says so (`make kind-e2e` installs HNC's hrq variant and sets it).
    """
    if external_kubeconfig() is not None:
        if os.environ.get("ORGQUOTA_E2E_ENFORCING") != "1":
            pytest.skip("needs HNC with HRQ in the KUBECONFIG cluster: set ORGQUOTA_E2E_ENFORCING=1 if it has")
    elif not platform_wanted():
        pytest.skip(f"{PLATFORM_ENV}=0: no kube-controller-manager or HNC to enforce quotas")
    return cluster


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    """A local OIDC issuer (its key set on a loopback port) that mints the tokens a test needs."""
    issuer = Issuer()
    yield issuer
    issuer.close()
