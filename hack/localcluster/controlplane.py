"""Start and stop a real etcd + kube-apiserver on 127.0.0.1, envtest-style.

No kubelet, scheduler or controller-manager here: pods never run, namespaces never finish terminating
and service accounts get no tokens, but everything the API server itself does (schema validation, RBAC,
admission, watches) is the real thing, and it is ready in seconds. `platform.Platform` adds
kube-controller-manager and HNC on top.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Final

import yaml

from .binaries import bin_dir as resolve_bin_dir
from .binaries import log
from .certs import Pki, generate_pki
from .procs import pid_alive, pid_cmdline, spawn, stop_child, stop_pid, wait_started

SERVICE_CIDR: Final = "10.0.0.0/24"
PORT_ATTEMPTS: Final = 3
LOG_TAIL_LINES: Final = 40
# Direct connections only: a configured HTTP(S) proxy must not see (or break) loopback health checks.
_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlPlaneError(RuntimeError):
    """etcd or kube-apiserver failed to start; the message carries the tail of its log."""


class _PortInUseError(ControlPlaneError):
    """The free port we picked was taken before the process bound it; worth another try."""


def free_ports(n: int) -> list[int]:
    """`n` distinct free loopback ports (all held open together so they can't repeat)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Last lines of a log, for error messages that explain themselves."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def write_kubeconfig(
    path: Path, server: str, pki: Pki, client: tuple[Path, Path] | None = None, user: str = "localcluster-admin"
) -> None:
    """Kubeconfig with certificates embedded, so it stays valid when copied elsewhere.

    The admin's unless `client` gives another (certificate, key) pair, named `user` in the file.
    """
    cert, key = client or (pki.admin_cert, pki.admin_key)

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "localcluster",
                "cluster": {"server": server, "certificate-authority-data": b64(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)},
            }
        ],
        "contexts": [
            {
                "name": "localcluster",
                "context": {"cluster": "localcluster", "user": user, "namespace": "default"},
            }
        ],
        "current-context": "localcluster",
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False))
    tmp.chmod(0o600)
    tmp.rename(path)


def readyz(server: str, pki: Pki, timeout: float = 2.0) -> bool:
    """True if kube-apiserver's /readyz answers ok to the admin client certificate."""
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    ctx.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
    https = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
    try:
        with https.open(f"{server}/readyz", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _etcd_healthy(url: str) -> bool:
    try:
        with _OPENER.open(f"{url}/health", timeout=2) as resp:
            return b'"true"' in resp.read()
    except (urllib.error.URLError, OSError):
        return False


class ControlPlane:
    """A real etcd + kube-apiserver on loopback; a context manager that always cleans up.

    `workdir` holds PKI, etcd data, logs (`logs/*.log`), pid files and `kubeconfig`; its previous
    control-plane state is wiped on start. Without `workdir` a temp dir is used and removed on stop.
    `detached=True` lets the processes outlive this Python process (for `localcluster up`); otherwise
    they are killed by the kernel if this process dies, even by SIGKILL.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        detached: bool = False,
        bin_dir: Path | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="localcluster-")) if workdir is None else workdir.resolve()
        self.detached = detached
        self.start_timeout = start_timeout
        self._bin_dir = bin_dir
        self.pki = Pki(self.workdir / "pki")
        self.server = ""
        self.etcd_url = ""
        self.start_seconds = 0.0
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    def log_path(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> ControlPlane:
        """Start etcd then kube-apiserver, wait for /readyz, write the kubeconfig; clean up on failure."""
        bins = self._bin_dir or resolve_bin_dir()  # may build: not counted in the start time
        began = time.monotonic()
        self._reset_workdir()
        generate_pki(self.pki.dir)
        try:
            for attempt in range(PORT_ATTEMPTS):
                try:
                    self._start_processes(bins)
                    break
                except _PortInUseError:
                    self._stop_processes()
                    if attempt == PORT_ATTEMPTS - 1:
                        raise
        except BaseException:
            self._stop_processes()
            raise
        write_kubeconfig(self.kubeconfig, self.server, self.pki)
        self.start_seconds = time.monotonic() - began
        log(f"control plane ready in {self.start_seconds:.1f}s at {self.server} ({self.kubeconfig})")
        return self

    def stop(self) -> None:
        """Terminate kube-apiserver, then etcd (TERM, then KILL after a timeout); idempotent."""
        self._stop_processes()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def running(self) -> bool:
        """Both processes started and still alive (no HTTP call: cheap enough to poll)."""
        return len(self._procs) == 2 and all(p.poll() is None for p in self._procs.values())

    def healthy(self) -> bool:
        """Both processes alive and /readyz ok."""
        return all(p.poll() is None for p in self._procs.values()) and readyz(self.server, self.pki)

    def _reset_workdir(self) -> None:
        # Only our own entries: `--dir` may point somewhere that holds other files.
        for name in ("pki", "etcd-data", "logs"):
            shutil.rmtree(self.workdir / name, ignore_errors=True)
        for name in ("kubeconfig", "etcd.pid", "kube-apiserver.pid"):
            (self.workdir / name).unlink(missing_ok=True)
        (self.workdir / "logs").mkdir(parents=True)

    def _start_processes(self, bins: Path) -> None:
        etcd_port, peer_port, api_port = free_ports(3)
        self.etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        data_dir = self.workdir / "etcd-data"
        shutil.rmtree(data_dir, ignore_errors=True)
        self._launch(
            "etcd",
            [
                str(bins / "etcd"),
                "--name=localcluster",
                f"--data-dir={data_dir}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=localcluster={peer_url}",
                "--initial-cluster-state=new",
                "--unsafe-no-fsync",  # throw-away data: durability costs start-up and test time
            ],
        )
        self._wait("etcd", lambda: _etcd_healthy(self.etcd_url))

        self.server = f"https://127.0.0.1:{api_port}"
        self._launch(
            "kube-apiserver",
            [
                str(bins / "kube-apiserver"),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                # The lease reconciler rejects a loopback advertise address; nothing in-cluster needs the
                # `kubernetes` service endpoints anyway.
                "--endpoint-reconciler-type=none",
                f"--secure-port={api_port}",
                f"--cert-dir={self.pki.dir}",
                f"--tls-cert-file={self.pki.serving_cert}",
                f"--tls-private-key-file={self.pki.serving_key}",
                f"--client-ca-file={self.pki.ca_cert}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={self.pki.sa_pub}",
                f"--service-account-signing-key-file={self.pki.sa_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--allow-privileged=true",
                # No controller-manager creates `default` service accounts, so this plugin would reject pods.
                "--disable-admission-plugins=ServiceAccount",
            ],
        )
        self._wait("kube-apiserver", lambda: readyz(self.server, self.pki))

    def _launch(self, name: str, args: list[str]) -> None:
        self._procs[name] = proc = spawn(args, self.log_path(name), detached=self.detached)
        if self.detached:
            (self.workdir / f"{name}.pid").write_text(f"{proc.pid}\n")

    def _wait(self, name: str, ready: Callable[[], bool]) -> None:
        """Wait until `ready`; fail fast with the log tail if the process exits or time runs out."""
        problem = wait_started(self._procs[name], ready, self.start_timeout)
        if problem is not None:
            tail = log_tail(self.log_path(name))
            err = _PortInUseError if "address already in use" in tail else ControlPlaneError
            raise err(f"{name} {problem}; last log lines:\n{tail}")

    def _stop_processes(self) -> None:
        for name in ("kube-apiserver", "etcd"):  # API server first: it would only log etcd errors
            proc = self._procs.pop(name, None)
            if proc is not None:
                stop_child(proc)
                (self.workdir / f"{name}.pid").unlink(missing_ok=True)


# --- detached control planes (`localcluster up` / `down`) -------------------------------------------------


def _pid_file_pids(workdir: Path) -> dict[str, int]:
    """Pids from `workdir/*.pid` that are alive and really ours (their command line names `workdir`)."""
    pids: dict[str, int] = {}
    for name in ("kube-apiserver", "etcd"):
        pid_file = workdir / f"{name}.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            continue
        if pid_alive(pid) and str(workdir) in pid_cmdline(pid):
            pids[name] = pid
    return pids


def detached_running(workdir: Path) -> bool:
    """True if `localcluster up` left a healthy control plane in `workdir`."""
    workdir = workdir.resolve()
    kubeconfig = workdir / "kubeconfig"
    if len(_pid_file_pids(workdir)) != 2 or not kubeconfig.is_file():
        return False
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    return readyz(str(server), Pki(workdir / "pki"))


def stop_detached(workdir: Path) -> list[str]:
    """Stop what `localcluster up` started in `workdir`; return the names of processes stopped."""
    workdir = workdir.resolve()
    pids = _pid_file_pids(workdir)
    for pid in pids.values():
        stop_pid(pid)
    for name in ("kube-apiserver", "etcd"):
        (workdir / f"{name}.pid").unlink(missing_ok=True)
    return list(pids)
