"""`orgquota api` as a process, and an HTTP client of it holding tokens from a local issuer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from localcluster.procs import spawn
from tests.support import waiting
from tests.support.oidc import Issuer, bearer
from tests.support.operator_process import PROJECTS_LIMIT

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 30.0) -> T:
    """`waiting.eventually`, where a refused connection (the API still starting) is a failed check too."""

    def attempt() -> T:
        try:
            return check()
        except httpx.TransportError as exc:
            raise AssertionError(f"no answer: {exc}") from exc

    return waiting.eventually(attempt, timeout=timeout)


class BillingApi:
    """`python -m orgquota api` on a free loopback port, its log in a file; `stop()` ends it."""

    def __init__(self, env: dict[str, str], log_path: Path, issuer: Issuer, port: int | None = None) -> None:
        if port is None:
            (port,) = free_ports(1)
        self.issuer = issuer
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"
        self.proc = spawn(
            [sys.executable, "-m", "orgquota", "api", "--port", str(port)], log_path, detached=False, env=env
        )
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> None:
            assert self.proc.poll() is None, f"orgquota api exited with {self.proc.returncode}:\n{self.log()}"
            response = self.http.get("/readyz")
            assert response.status_code == 200, response.text

        eventually(ready, timeout=timeout)

    def admin_of(self, org: str) -> dict[str, str]:
        return bearer(self.issuer.token(org=org, groups=["org-admin"]))

    def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        return self.http.get("/api/billing" + path, headers=headers)

    def data(self, path: str, headers: dict[str, str]) -> Any:
        response = self.get(path, headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def logged(self, text: str, timeout: float = 10.0) -> None:
        """Waits until `text` is in the log (its writer thread writes lines in batches, up to 50 ms late)."""

        def found() -> bool:
            assert text in self.log(), f"{text!r} not in the API's log"
            return True

        waiting.eventually(found, timeout=timeout)

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_billing_api(
    cluster: Cluster,
    kubeconfig: Path,
    issuer: Issuer,
    workdir: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> BillingApi:
    """`orgquota api` through `kubeconfig`, ready; `env` adds or overrides settings (a provider's, or
    OIDC_ISSUER_URL for a real Keycloak); `port` when it must be known beforehand (a web origin)."""
    settings = {
        **cluster.env,
        "KUBECONFIG": str(kubeconfig),
        "OIDC_ISSUER_URL": issuer.url,
        "ORGANIZATION_PROJECTS_LIMIT": str(PROJECTS_LIMIT),
        **(env or {}),
    }
    api = BillingApi(settings, workdir / "api.log", issuer, port)
    api.wait_ready()
    return api
