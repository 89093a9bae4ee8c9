"""The billing API as a process with BILLING_PROVIDER=stripe, against the real apiserver, the quota
suite's operator (one operator per session: two standalone ones would both act) and a real
stripe-mock; tokens from a local issuer; Stripe's deliveries built and signed by the tests.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from localcluster.procs import spawn
from tests.e2e.quota.conftest import PROJECTS_LIMIT, OperatorProcess, Orgs, eventually
from tests.stripe_support import FIXTURE_PRICE, SECRET_KEY, WEBHOOK_SECRET, signature, stripe_mock
from tests.unit.api.conftest import Issuer

PRICES = {
    "STRIPE_PRICE_PRO_POOL": "price_pro_pool",
    "STRIPE_PRICE_DEV_POOL": FIXTURE_PRICE,  # stripe-mock's subscriptions are on dev-pool
    "STRIPE_PRICE_TURBO_X1": "price_turbo_x1",
}


class BillingApi:
    """`orgquota api` on a free loopback port, its log in a file."""

    def __init__(self, cluster: Cluster, workdir: Path, env: dict[str, str], issuer: Issuer) -> None:
        (self.port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "api.log"
        self.issuer = issuer
        self.env = {**cluster.env, **env}
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=15)

    def start(self) -> None:
        args = [sys.executable, "-m", "orgquota", "api", "--port", str(self.port)]
        self.proc = spawn(args, self.log_path, detached=False, env=self.env)
        eventually(self._healthy, timeout=60, interval=0.3)

    def _healthy(self) -> None:
        assert self.proc is not None
        assert self.proc.poll() is None, f"orgquota api exited:\n{self.log()}"
        try:
            answer = self.http.get("/api/billing/health", headers=self.admin("nobody"))
        except httpx.TransportError as exc:
            raise AssertionError(str(exc)) from exc
        assert answer.status_code == 200, answer.text

    def admin(self, org: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.issuer.token(org=org, groups=["org-admin"])}

    def deliver(self, body: bytes, header: str | None = "") -> httpx.Response:
        """POST a Stripe event as Stripe does (signed now with the endpoint's secret, unless `header`)."""
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["Stripe-Signature"] = header or signature(body)
        return self.http.post("/api/billing/webhook", content=body, headers=headers)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        self.http.close()
        if self.proc and self.proc.poll() is None:
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
def billing_api(
    cluster: Cluster, operator: OperatorProcess, issuer: Issuer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BillingApi]:
    workdir = tmp_path_factory.mktemp("billing-api")
    with stripe_mock(workdir) as stripe_base:
        env = {
            "OIDC_ISSUER_URL": issuer.url,
            "BILLING_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": stripe_base,
            "ORGANIZATION_PROJECTS_LIMIT": str(PROJECTS_LIMIT),
            "ORGQUOTA_LOG_LEVEL": "DEBUG",
            **PRICES,
        }
        api = BillingApi(cluster, workdir, env, issuer)
        api.start()
        yield api
        api.stop()
        print(f"billing API log: {api.log_path}")


def billing_of(orgs: Orgs, name: str) -> dict[str, Any]:
    org = orgs.get("organization", name, name)
    assert org is not None
    found: dict[str, Any] = org["metadata"].get("annotations") or {}
    return found
