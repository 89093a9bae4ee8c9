"""The operator as a separate process (as it runs in a cluster), plus helpers to observe its work."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from localcluster.certs import generate_serving_cert
from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from localcluster.procs import spawn
from orgquota.controller.webhooks import CONFIGURATION_NAME
from tests.e2e.conftest import REPO_ROOT, external_kubeconfig

T = TypeVar("T")
EXAMPLES = REPO_ROOT / "examples" / "organization"
E2E_QUOTA_DIR = Path(__file__).resolve().parent
CATALOG_FILE = EXAMPLES / "04-billing-plans-configmap.yaml"
PROJECTS_LIMIT = 3  # makes pro-pool + turbo-x1 the worked example of SPEC.md
GRACE_SECONDS = 12  # short enough to watch a grace period end, long enough for the suspension tests
USAGE_INTERVAL_SECONDS = 3


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Retry `check` until it returns without an AssertionError; then return its value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def consistently(check: Callable[[], object], duration: float, interval: float = 0.5) -> None:
    """`check` holds for the whole `duration` (Gomega's Consistently: for things that must not happen)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        check()
        time.sleep(interval)


class OperatorProcess:
    """`python -m orgquota run`, its log in a file."""

    def __init__(self, cluster: Cluster, log_path: Path, env: dict[str, str]) -> None:
        self.cluster = cluster
        self.log_path = log_path
        self.env = {**cluster.env, **env}
        self.proc: subprocess.Popen[bytes] | None = None
        self.webhooks: Webhooks | None = None
        self._offset = 0

    def start(self) -> None:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # Tied to this process: an interrupted test run leaves no operator behind.
        self.proc = spawn([sys.executable, "-m", "orgquota", "run"], self.log_path, detached=False, env=self.env)
        eventually(self._started, timeout=60)

    def _started(self) -> None:
        assert self.proc is not None
        assert self.proc.poll() is None, f"operator exited with {self.proc.returncode}:\n{self.log()}"
        assert "organizations reconciled in" in self.log(), "operator has not converged yet"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def metric(self, name: str) -> float:
        """The sum of a metric's samples on the operator's /metrics."""
        port = self.env["ORGQUOTA_METRICS_PORT"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))

    def wait_idle(self) -> None:
        """Until no organization waits for or is in a reconcile."""
        eventually(lambda: _assert_zero(self.metric("orgquota_queue_depth")))

    def settle(self) -> None:
        """Idle, and no write for longer than a deferred usage write can wait."""
        self.wait_idle()
        writes = self.metric("orgquota_api_writes_total")
        consistently(lambda: assert_eq(self.metric("orgquota_api_writes_total"), writes), USAGE_INTERVAL_SECONDS + 1)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        """What the current process has logged."""
        with self.log_path.open("rb") as log:
            log.seek(self._offset)
            return log.read().decode(errors="replace")


def _assert_zero(value: float) -> None:
    assert value == 0


def catalog_yaml(edit: Callable[[dict[str, Any]], object] | str) -> str:
    """The example catalog ConfigMap with `edit(plans_dict)` applied (or plans.yaml replaced by a string)."""
    configmap = yaml.safe_load(CATALOG_FILE.read_text())
    if isinstance(edit, str):
        configmap["data"]["plans.yaml"] = edit
    else:
        plans = yaml.safe_load(configmap["data"]["plans.yaml"])
        edit(plans)
        configmap["data"]["plans.yaml"] = yaml.safe_dump(plans)
    return str(yaml.safe_dump(configmap))


def assert_eq(actual: object, expected: object) -> None:
    """An assertion usable in lambdas (for `eventually`)."""
    assert actual == expected


def present(value: T | None) -> T:
    assert value is not None
    return value


def apply_ok(cluster: Cluster, manifest: str) -> None:
    proc = cluster.kubectl("apply", "-f", "-", input=manifest, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="session")
def catalog_applied(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(EXAMPLES / "00-namespaces.yaml"))
    cluster.kubectl("apply", "-f", str(CATALOG_FILE))


@dataclass(frozen=True)
class Webhooks:
    """The operator's webhooks as the local apiserver reaches them (on loopback)."""

    cluster: Cluster
    configuration: str

    def install(self) -> None:
        self.cluster.kubectl("apply", "-f", "-", input=self.configuration)
        # Serving once the catalog webhook (failurePolicy Fail) answers a server-side dry run.
        eventually(lambda: _succeeds(self.cluster, "apply", "--dry-run=server", "-f", str(CATALOG_FILE)), timeout=60)

    def remove(self) -> None:
        self.cluster.kubectl("delete", "validatingwebhookconfiguration", CONFIGURATION_NAME, "--ignore-not-found")

    @contextlib.contextmanager
    def off(self) -> Iterator[None]:
        """Bad input that gets in anyway: the webhook is down, or the object predates it."""
        self.remove()
        try:
            yield
        finally:
            self.install()


@contextlib.contextmanager
def webhooks_off(operator: OperatorProcess) -> Iterator[None]:
    """No webhooks for the duration (a no-op where they never run)."""
    if operator.webhooks is None:
        yield
    else:
        with operator.webhooks.off():
            yield


def _succeeds(cluster: Cluster, *args: str) -> None:
    proc = cluster.kubectl(*args, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="session")
def operator(
    cluster: Cluster, catalog_applied: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("operator")
    metrics_port, port = free_ports(2)
    env = {
        "ORGANIZATION_PROJECTS_LIMIT": str(PROJECTS_LIMIT),
        "ORGQUOTA_LOG_LEVEL": "DEBUG",
        "ORGQUOTA_METRICS_PORT": str(metrics_port),
        "ORGQUOTA_GRACE_PERIOD": f"{GRACE_SECONDS}s",
        "ORGQUOTA_GRACE_WARNING": f"{GRACE_SECONDS - 2}s",
        "ORGQUOTA_CANCELED_RESYNC": "2s",
        "ORGQUOTA_USAGE_INTERVAL": f"{USAGE_INTERVAL_SECONDS}s",
    }
    local = external_kubeconfig() is None  # a remote apiserver cannot call a webhook on this machine's loopback
    if local:
        cert = generate_serving_cert(workdir / "webhook-tls", ["127.0.0.1"])
        env |= {
            "ORGQUOTA_WEBHOOK_CERT": str(cert.cert),
            "ORGQUOTA_WEBHOOK_KEY": str(cert.key),
            "ORGQUOTA_WEBHOOK_PORT": str(port),
        }
    process = OperatorProcess(cluster, workdir / "operator.log", env)
    process.start()
    if local:
        configuration = subprocess.run(
            [
                sys.executable,
                "-m",
                "orgquota",
                "webhook-config",
                "--url",
                f"https://127.0.0.1:{port}",
                "--ca-file",
                str(cert.ca_cert),
            ],
            env=process.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        process.webhooks = Webhooks(cluster, configuration)
        process.webhooks.install()
    yield process
    if process.webhooks:
        process.webhooks.remove()
    process.stop()
    print(f"operator log: {process.log_path}")


@pytest.fixture
def webhooks(operator: OperatorProcess) -> Webhooks:
    if operator.webhooks is None:
        pytest.skip("webhook tests need the local control plane (the apiserver calls 127.0.0.1)")
    return operator.webhooks


class Orgs:
    """Creates organizations (each in a namespace of its own) and reads what the operator made of them."""

    def __init__(self, cluster: Cluster, operator: OperatorProcess) -> None:
        self.cluster = cluster
        self.operator = operator

    def create_bypassing_webhooks(self, annotations: dict[str, str]) -> str:
        with webhooks_off(self.operator):
            return self.create(annotations)

    def create(self, annotations: dict[str, str] | None = None, name: str = "") -> str:
        name = name or f"org-{uuid.uuid4().hex[:8]}"
        manifests = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            {
                "apiVersion": "kube-dc.com/v1",
                "kind": "Organization",
                "metadata": {"name": name, "namespace": name, "annotations": annotations or {}},
                "spec": {"email": f"admin@{name}.example"},
            },
        ]
        self.cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))
        return name

    def annotate(self, name: str, *pairs: str) -> None:
        self.cluster.kubectl("annotate", f"organization/{name}", "-n", name, *pairs, "--overwrite")

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        proc = self.cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
        if proc.returncode != 0:
            assert "NotFound" in proc.stderr, proc.stderr
            return None
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def hrq(self, namespace: str) -> dict[str, Any] | None:
        return self.get("hierarchicalresourcequotas.hnc.x-k8s.io", namespace, "plan-quota")

    def hard(self, namespace: str) -> dict[str, str]:
        hrq = self.hrq(namespace)
        assert hrq is not None, f"no HRQ in {namespace}"
        hard: dict[str, str] = hrq["spec"]["hard"]
        return hard

    def limit_range(self, namespace: str) -> dict[str, Any] | None:
        return self.get("limitrange", namespace, "default-resource-limits")

    def status(self, name: str) -> dict[str, Any]:
        org = self.get("organization", name, name)
        assert org is not None
        status: dict[str, Any] = org.get("status") or {}
        return status

    def condition(self, name: str) -> dict[str, Any]:
        conditions = self.status(name).get("conditions") or []
        found = [c for c in conditions if c["type"] == "QuotaReady"]
        assert found, f"{name} has no QuotaReady condition yet"
        return dict(found[0])

    def reason(self, name: str, reason: str) -> dict[str, Any]:
        """The QuotaReady condition, asserting its reason."""
        condition = self.condition(name)
        assert condition["reason"] == reason, condition
        return condition

    def has_event(self, name: str, reason: str, text: str = "", type_: str = "") -> None:
        """Assert an Event about the organization (events are posted asynchronously: use `eventually`)."""
        events = self.events(name)
        assert any(
            e["reason"] == reason and text in e.get("message", "") and type_ in (e.get("type"), "") for e in events
        ), [(e["reason"], e.get("message")) for e in events]

    def events(self, name: str) -> list[dict[str, Any]]:
        listed = self.cluster.get_json("events", "-n", name, "--field-selector", f"involvedObject.name={name}")
        return list(listed["items"])


@pytest.fixture
def orgs(cluster: Cluster, operator: OperatorProcess) -> Orgs:
    return Orgs(cluster, operator)
