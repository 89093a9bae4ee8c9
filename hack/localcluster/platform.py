"""The platform slice next to a local control plane: kube-controller-manager and HNC's manager.

With it, the cluster enforces quotas the way a Kube-DC installation does: HNC turns each
HierarchicalResourceQuota into a ResourceQuota per namespace of the subtree and refuses, in its
resourcequotas/status webhook, any admission that would take the subtree over the HRQ; the
controller-manager computes ResourceQuota usage, collects owned objects and removes deleted namespaces.
HNC also propagates an organization's LimitRange into its project namespaces.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import yaml

from . import controllermanager, hncmanager, hncmanifests
from .binaries import log
from .certs import generate_serving_cert, issue_client_cert
from .controlplane import ControlPlane, ControlPlaneError, free_ports, log_tail, write_kubeconfig
from .kubectl import Cluster, KubectlError, wait_established
from .procs import POLL, pid_alive, pid_cmdline, spawn, stop_child, stop_pid
from .versions import HNC_NAMESPACE

# Stop order: HNC first (its webhooks would otherwise fail closed while it still gets calls).
PROCESSES: Final = (hncmanager.NAME, controllermanager.NAME)


class PlatformError(ControlPlaneError):
    """kube-controller-manager or HNC failed to start; the message carries the tail of its log."""


class Platform:
    """kube-controller-manager + HNC on loopback, for a started `ControlPlane`; a context manager.

    Files go to the control plane's workdir: `logs/<process>.log`, `hnc/` (webhook certs), and pid
    files when the control plane is detached (`localcluster up`).
    """

    def __init__(self, plane: ControlPlane, *, start_timeout: float = 120.0) -> None:
        self.plane = plane
        self.workdir = plane.workdir
        self.detached = plane.detached
        self.start_timeout = start_timeout
        self.cluster = Cluster(plane.kubeconfig, cache_dir=self.workdir / "kubectl-cache")
        self.hnc_webhook_url = ""
        self.start_seconds = 0.0
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> Platform:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> Platform:
        """Start both, install HNC (CRDs, RBAC, webhooks, LimitRange propagation); wait until all serve."""
        kcm_bin = controllermanager.controller_manager_path()  # may build: not counted in the start time
        hnc_bin = hncmanager.hnc_manager_path()
        began = time.monotonic()
        try:
            self._start(kcm_bin, hnc_bin)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        log(f"kube-controller-manager and HNC ready in {self.start_seconds:.1f}s")
        return self

    def _start(self, kcm_bin: Path, hnc_bin: Path) -> None:
        kcm_port, webhook_port, metrics_port, probe_port = free_ports(4)
        kubeconfig = self.plane.kubeconfig
        kcm_args = controllermanager.args(
            kcm_bin, kubeconfig=kubeconfig, pki=self.plane.pki, port=kcm_port, cert_dir=self.workdir / "kcm-certs"
        )
        self._launch(controllermanager.NAME, kcm_args)
        self._apply([hncmanifests.namespace(), *hncmanifests.crds(), *hncmanifests.rbac()])
        wait_established(self.cluster, hncmanifests.crds(), self.start_timeout)
        tmp = self.workdir / "hnc" / "tmp"
        cert = generate_serving_cert(tmp / hncmanager.CERT_SUBDIR, ["127.0.0.1"])
        hnc_kubeconfig = self._hnc_kubeconfig()
        ports = {"webhook_port": webhook_port, "metrics_port": metrics_port, "probe_port": probe_port}
        hnc_args = hncmanager.args(hnc_bin, kubeconfig=hnc_kubeconfig, **ports)
        env = {**self.cluster.env, "KUBECONFIG": str(hnc_kubeconfig), "TMPDIR": str(tmp)}
        self._launch(hncmanager.NAME, hnc_args, env=env)
        self._wait(hncmanager.NAME, lambda: hncmanager.ready(probe_port))
        self.hnc_webhook_url = f"https://127.0.0.1:{webhook_port}"
        self._apply(hncmanifests.webhook_configurations(self.hnc_webhook_url, cert.ca_cert))
        # HNC's own webhook judges the HNCConfiguration: retry until it answers.
        self._wait(hncmanager.NAME, lambda: self._try_apply([hncmanifests.hnc_configuration()]))
        self._wait(hncmanager.NAME, self._limitranges_propagated)
        self._wait(controllermanager.NAME, lambda: controllermanager.healthy(kcm_port))

    def _hnc_kubeconfig(self) -> Path:
        """HNC acts as its Deployment's service account would (so with the RBAC from its module): its
        webhooks let only that account's group change the tree labels its controllers write."""
        user = f"system:serviceaccount:{HNC_NAMESPACE}:{hncmanager.SERVICE_ACCOUNT}"
        client = issue_client_cert(self.plane.pki, "hnc", user, [f"system:serviceaccounts:{HNC_NAMESPACE}"])
        path = self.workdir / "hnc" / "kubeconfig"
        write_kubeconfig(path, self.plane.server, self.plane.pki, client, user="hnc")
        return path

    def stop(self) -> None:
        """Stop HNC, then the controller-manager (TERM, then KILL after a timeout); idempotent."""
        for name in PROCESSES:
            proc = self._procs.pop(name, None)
            if proc is not None:
                stop_child(proc)
                (self.workdir / f"{name}.pid").unlink(missing_ok=True)

    def healthy(self) -> bool:
        """Both processes still running (HNC's webhooks fail closed: namespace writes need it alive)."""
        return len(self._procs) == len(PROCESSES) and all(p.poll() is None for p in self._procs.values())

    def _limitranges_propagated(self) -> bool:
        proc = self.cluster.kubectl("get", "hncconfiguration", "config", "-o", "json", check=False)
        if proc.returncode != 0:
            return False
        resources = json.loads(proc.stdout).get("status", {}).get("resources", [])
        return any(r.get("resource") == "limitranges" and r.get("mode") == "Propagate" for r in resources)

    def _apply(self, docs: list[dict[str, Any]]) -> None:
        self.cluster.kubectl(
            "apply", "--server-side", "--force-conflicts", "--field-manager=localcluster", "-f", "-",
            input=yaml.safe_dump_all(docs),
        )  # fmt: skip

    def _try_apply(self, docs: list[dict[str, Any]]) -> bool:
        try:
            self._apply(docs)
        except KubectlError:
            return False
        return True

    def _launch(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self._procs[name] = proc = spawn(args, self.plane.log_path(name), detached=self.detached, env=env)
        if self.detached:
            (self.workdir / f"{name}.pid").write_text(f"{proc.pid}\n")

    def _wait(self, name: str, ready: Callable[[], bool]) -> None:
        """Poll `ready`; fail fast with the log tail if `name` exits or time runs out."""
        proc = self._procs[name]
        deadline = time.monotonic() + self.start_timeout
        while not ready():
            if proc.poll() is not None:
                raise PlatformError(
                    f"{name} exited with code {proc.returncode}; last log lines:\n{log_tail(self.plane.log_path(name))}"
                )
            if time.monotonic() > deadline:
                raise PlatformError(
                    f"{name} not ready after {self.start_timeout:.0f}s; last log lines:\n"
                    f"{log_tail(self.plane.log_path(name))}"
                )
            time.sleep(POLL)


# --- detached (`localcluster up` / `down`) ------------------------------------------------------------------


def detached_pids(workdir: Path) -> dict[str, int]:
    """Pids from `workdir/<process>.pid` that are alive and ours (their command line names `workdir`)."""
    pids: dict[str, int] = {}
    for name in PROCESSES:
        try:
            pid = int((workdir / f"{name}.pid").read_text().strip())
        except (OSError, ValueError):
            continue
        if pid_alive(pid) and str(workdir) in pid_cmdline(pid):
            pids[name] = pid
    return pids


def detached_running(workdir: Path) -> bool:
    return len(detached_pids(workdir.resolve())) == len(PROCESSES)


def stop_detached(workdir: Path) -> list[str]:
    """Stop the platform processes `localcluster up` started in `workdir`; return their names."""
    workdir = workdir.resolve()
    pids = detached_pids(workdir)
    for name in PROCESSES:
        if name in pids:
            stop_pid(pids[name])
        (workdir / f"{name}.pid").unlink(missing_ok=True)
    return list(pids)
