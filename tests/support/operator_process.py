"""The operator as a separate process, as it runs in a cluster: `python -m orgquota run`, its log in
a file, tied to this process's life. The e2e tests and the bench (bench/operator.py) both run it so.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from localcluster.certs import generate_serving_cert
from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from localcluster.procs import spawn
from orgquota.controller.webhooks import CONFIGURATION_NAME
from tests.support.cluster import external_kubeconfig
from tests.support.files import CATALOG_FILE
from tests.support.waiting import assert_eq, consistently, eventually

STARTED_LOG: Final = "organizations reconciled in"
"""from the operator's start-up line: `startup: N organizations reconciled in X s`"""
PROJECTS_LIMIT: Final = 3  # makes pro-pool + turbo-x1 the worked example of docs/operator.md
GRACE_SECONDS: Final = 12  # short enough to watch a grace period end, long enough for the suspension tests
USAGE_INTERVAL_SECONDS: Final = 3


class OperatorProcess:
    """`python -m orgquota run` (or `command`) with `env`, its output appended to `log_path`."""

    def __init__(self, env: Mapping[str, str], log_path: Path, command: Sequence[str] = ()) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.command = list(command) or [sys.executable, "-m", "orgquota", "run"]
        self.proc: subprocess.Popen[bytes] | None = None
        self.webhooks: Webhooks | None = None
        self.started_at = 0.0
        """monotonic time of the last launch"""
        self._offset = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def launch(self) -> None:
        """Start the process and return at once."""
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.started_at = time.monotonic()
        # Tied to this process: an interrupted run leaves no operator behind.
        self.proc = spawn(self.command, self.log_path, detached=False, env=self.env)

    def start(self) -> None:
        """Start the process and wait for its start-up line (every organization reconciled)."""
        self.launch()
        eventually(self._started, timeout=60)

    def _started(self) -> None:
        assert self.proc is not None
        assert self.proc.poll() is None, f"operator exited with {self.proc.returncode}:\n{self.log()}"
        assert STARTED_LOG in self.log(), "operator has not converged yet"

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
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

    def count(self, text: str) -> int:
        return self.log().count(text)

    def metrics_text(self) -> str:
        """The operator's /metrics (Prometheus text)."""
        port = self.env["ORGQUOTA_METRICS_PORT"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text: str = response.read().decode()
        return text

    def metric(self, name: str) -> float:
        """The sum of a metric's samples on the operator's /metrics."""
        return sum(self.samples(name).values())

    def wait_idle(self) -> None:
        """Until no organization waits for or is in a reconcile."""
        eventually(lambda: assert_eq(self.metric("orgquota_queue_depth"), 0))

    def samples(self, name: str) -> dict[str, float]:
        """A metric's samples on the operator's /metrics, by their labels (so a failed comparison names them)."""
        found = (line.rsplit(" ", 1) for line in self.metrics_text().splitlines() if line.startswith(name))
        return {labels: float(value) for labels, value in found}

    def settle(self) -> None:
        """Idle, and no write for longer than a deferred usage write can wait."""
        self.wait_idle()
        writes = self.samples("orgquota_api_writes_total")
        consistently(lambda: assert_eq(self.samples("orgquota_api_writes_total"), writes), USAGE_INTERVAL_SECONDS + 1)


def webhook_configuration(env: Mapping[str, str], port: int, ca_cert: Path) -> str:
    """`orgquota webhook-config` for a webhook server on loopback `port` (YAML)."""
    command = [sys.executable, "-m", "orgquota", "webhook-config", "--url", f"https://127.0.0.1:{port}"]
    return subprocess.run(
        [*command, "--ca-file", str(ca_cert)], env=dict(env), check=True, capture_output=True, text=True
    ).stdout


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


def start_quota_operator(cluster: Cluster, workdir: Path) -> OperatorProcess:
    """The operator of the quota tests: short grace period and usage interval, debug logs, and its
    webhooks installed where the apiserver can reach them (the local control plane)."""
    metrics_port, port = free_ports(2)
    env = {
        **cluster.env,
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
    process = OperatorProcess(env, workdir / "operator.log")
    process.start()
    if local:
        process.webhooks = Webhooks(cluster, webhook_configuration(process.env, port, cert.ca_cert))
        process.webhooks.install()
    return process
