"""The operator as a separate process (as it runs in a cluster), plus helpers to observe its work."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from localcluster.kubectl import Cluster
from tests.e2e.conftest import REPO_ROOT

T = TypeVar("T")
EXAMPLES = REPO_ROOT / "examples" / "organization"
CATALOG_FILE = EXAMPLES / "04-billing-plans-configmap.yaml"
PROJECTS_LIMIT = 3  # makes pro-pool + turbo-x1 the worked example of SPEC.md


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
        self._offset = 0

    def start(self) -> None:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orgquota", "run"], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
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

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        """What the current process has logged."""
        with self.log_path.open("rb") as log:
            log.seek(self._offset)
            return log.read().decode(errors="replace")


@pytest.fixture(scope="session")
def catalog_applied(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(EXAMPLES / "00-namespaces.yaml"))
    cluster.kubectl("apply", "-f", str(CATALOG_FILE))


@pytest.fixture(scope="session")
def operator(
    cluster: Cluster, catalog_applied: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(
        cluster,
        tmp_path_factory.mktemp("operator") / "operator.log",
        {"ORGANIZATION_PROJECTS_LIMIT": str(PROJECTS_LIMIT), "ORGQUOTA_LOG_LEVEL": "DEBUG"},
    )
    process.start()
    yield process
    process.stop()
    print(f"operator log: {process.log_path}")


class Orgs:
    """Creates organizations (each in a namespace of its own) and reads what the operator made of them."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

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

    def events(self, name: str) -> list[dict[str, Any]]:
        listed = self.cluster.get_json(
            "events", "-n", name, "--field-selector", f"involvedObject.name={name}"
        )
        return list(listed["items"])


@pytest.fixture
def orgs(cluster: Cluster, operator: OperatorProcess) -> Orgs:
    return Orgs(cluster)
