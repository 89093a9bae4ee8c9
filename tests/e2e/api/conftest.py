"""`orgquota api` as a real process against the session's apiserver (through a relay that tests can
cut), with the operator running and tokens from a local issuer's JWKS."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from localcluster.procs import spawn
from tests.e2e.conftest import REPO_ROOT
from tests.support.oidc import Issuer, bearer
from tests.support.tcp_proxy import TcpProxy

T = TypeVar("T")
EXAMPLES = REPO_ROOT / "examples" / "organization"
PROJECTS_LIMIT = 3


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, httpx.TransportError):
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


class Process:
    """A child process with its log in a file, stopped with the test module."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self.proc = spawn(args, log_path, detached=False, env=env)

    def alive(self) -> None:
        assert self.proc.poll() is None, f"exited with {self.proc.returncode}:\n{self.log()}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    yield issuer
    issuer.close()


@pytest.fixture(scope="module")
def apiserver_relay(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TcpProxy, Path]]:
    """A relay to the apiserver and a kubeconfig that goes through it."""
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    if not server.startswith("https://127.0.0.1:"):
        pytest.skip("the relay needs the local control plane (KUBECONFIG names another cluster)")
    proxy = TcpProxy(int(server.rsplit(":", 1)[1]))
    proxy.start()
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    path = tmp_path_factory.mktemp("relay") / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    yield proxy, path
    proxy.stop()


@pytest.fixture(scope="module")
def quota_operator(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """The operator, for this module only (the quota suite's session operator must not run beside it)."""
    cluster.kubectl("apply", "-f", str(EXAMPLES / "00-namespaces.yaml"))
    cluster.kubectl("apply", "-f", str(EXAMPLES / "04-billing-plans-configmap.yaml"))
    (metrics_port,) = free_ports(1)
    env = {
        **cluster.env,
        "ORGANIZATION_PROJECTS_LIMIT": str(PROJECTS_LIMIT),
        "ORGQUOTA_METRICS_PORT": str(metrics_port),
        "ORGQUOTA_USAGE_INTERVAL": "1s",
    }
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    operator = Process([sys.executable, "-m", "orgquota", "run"], log, env)

    def converged() -> None:
        operator.alive()
        assert "organizations reconciled in" in operator.log()

    eventually(converged, timeout=60)
    yield operator
    operator.stop()


class BillingApi:
    def __init__(self, process: Process, url: str, issuer: Issuer) -> None:
        self.process = process
        self.url = url
        self.issuer = issuer
        self.http = httpx.Client(base_url=url, timeout=10)

    def admin_of(self, org: str) -> dict[str, str]:
        return bearer(self.issuer.token(org=org, groups=["org-admin"]))

    def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        return self.http.get("/api/billing" + path, headers=headers)

    def data(self, path: str, headers: dict[str, str]) -> Any:
        response = self.get(path, headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]


def start_billing_api(
    cluster: Cluster, kubeconfig: Path, issuer: Issuer, workdir: Path, env: dict[str, str] | None = None
) -> BillingApi:
    """`orgquota api` on a free port, healthy, through `kubeconfig`; `env` adds or overrides settings."""
    (port,) = free_ports(1)
    settings = {
        **cluster.env,
        "KUBECONFIG": str(kubeconfig),
        "OIDC_ISSUER_URL": issuer.url,
        "ORGANIZATION_PROJECTS_LIMIT": str(PROJECTS_LIMIT),
        **(env or {}),
    }
    log = workdir / "api.log"
    process = Process([sys.executable, "-m", "orgquota", "api", "--port", str(port)], log, settings)
    api = BillingApi(process, f"http://127.0.0.1:{port}", issuer)

    def healthy() -> None:
        process.alive()
        assert api.get("/health", bearer(issuer.token())).status_code == 200

    eventually(healthy, timeout=60)
    return api


def stop_billing_api(api: BillingApi) -> None:
    api.http.close()
    api.process.stop()
    print(f"billing API log: {api.process.log_path}")


@pytest.fixture(scope="module")
def billing_api(
    cluster: Cluster,
    quota_operator: Process,
    apiserver_relay: tuple[TcpProxy, Path],
    issuer: Issuer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BillingApi]:
    api = start_billing_api(cluster, apiserver_relay[1], issuer, tmp_path_factory.mktemp("api"))
    yield api
    stop_billing_api(api)
