"""`localcluster run` (`make run`): the whole local stack in the foreground, supervised by this process.

The control plane with the platform slice (or the cluster of $KUBECONFIG), the CRDs and examples,
Keycloak with the kube-dc realm, the operator, Prometheus scraping it, Alertmanager sending its alerts
to the billing API, an SMTP server keeping the API's alert mail in a Maildir, and the billing API
serving the page, all on 127.0.0.1.
Every process is a child spawned from the main thread with PDEATHSIG (`procs.spawn`), so none outlives
this one, even killed; their logs are followed here with a `[name]` prefix. Ctrl-C or SIGTERM stops
them in reverse order; a child that dies stops the rest and makes the exit code 1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final

from .alertmanager import Alertmanager, AlertmanagerError
from .binaries import BinariesError
from .controlplane import ControlPlane, ControlPlaneError, free_ports, log_tail
from .hnc import HncError
from .keycloak import Keycloak, KeycloakError
from .kubectl import Cluster, KubectlError, install_crds
from .logfollow import LogFollower
from .mailserver import MailServer, MailServerError
from .platform import Platform
from .procs import spawn, stop_child, wait_started, wait_until
from .prometheus import SCRAPE_INTERVAL, Prometheus, PrometheusError, debian_binary
from .stack_banner import banner
from .versions import REPO_ROOT

DEFAULT_API_PORT: Final = 8000
DEFAULT_UI_DIR: Final = REPO_ROOT / "ui" / "dist"
OPERATOR_STARTED: Final = "organizations reconciled in"
"""from the operator's start-up line `startup: N organizations reconciled in X s`"""
READY_TIMEOUT: Final = 120.0
APPLY_TIMEOUT: Final = 60.0
SUPERVISE_INTERVAL: Final = 0.5
_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_ERRORS: Final = (
    ControlPlaneError,
    KeycloakError,
    BinariesError,
    KubectlError,
    HncError,
    PrometheusError,
    AlertmanagerError,
    MailServerError,
    TimeoutError,
)


class StackError(RuntimeError):
    """A part of the stack did not start, or died; the message says which and carries its log's tail."""


@dataclass(frozen=True)
class StackOptions:
    workdir: Path
    """state and logs; wiped of the previous run's files on start"""
    api_port: int | None = None
    """None: 8000 when free, else any free port; 0: any free port"""
    apply: tuple[Path, ...] = ()
    """manifests applied (after the CRDs) before the operator starts"""
    kubeconfig: Path | None = None
    """a cluster to use as is; None starts the local control plane"""
    with_platform: bool = True
    cluster_logs: bool = False
    """also follow etcd's, kube-apiserver's, kube-controller-manager's and HNC's logs"""
    ui_dir: Path | None = None
    scrape_interval: str = SCRAPE_INTERVAL
    """how often Prometheus scrapes the operator and the API"""


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_api_port(wanted: int | None) -> int:
    """The API's port, chosen before Keycloak starts (the page's origin must be one of its web origins)."""
    if wanted is None:
        return DEFAULT_API_PORT if _port_free(DEFAULT_API_PORT) else free_ports(1)[0]
    if wanted == 0:
        return free_ports(1)[0]
    if not 0 < wanted < 65536:
        raise StackError(f"--api-port {wanted}: not a TCP port (1-65535, or 0 for any free one)")
    if not _port_free(wanted):
        raise StackError(f"--api-port {wanted}: 127.0.0.1:{wanted} is in use")
    return wanted


def _http_ok(url: str) -> bool:
    try:
        with _OPENER.open(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _loopback_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment plus `extra`, with loopback never sent through a configured HTTP proxy."""
    env = {**os.environ, **extra}
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name, ""), "127.0.0.1", "localhost"]))
    return env


class _Child:
    """A process of ours (the operator, the API): spawned tied to us, its output in `log_path`."""

    def __init__(self, name: str, args: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log_path
        log_path.unlink(missing_ok=True)
        self.proc: subprocess.Popen[bytes] = spawn(args, log_path, detached=False, env=env)

    def wait_ready(self, ready: Callable[[], bool], what: str) -> None:
        problem = wait_started(self.proc, ready, READY_TIMEOUT, interval=0.2)
        if problem is not None:
            raise StackError(f"{self.name} {problem} ({what}); last log lines:\n{log_tail(self.log_path)}")

    def stop(self) -> None:
        stop_child(self.proc, timeout=15.0)


class Stack:
    """Starts the parts in order, prints where they are, then watches them until a signal or a death."""

    def __init__(self, options: StackOptions, out: LogFollower) -> None:
        self.options = options
        self.out = out
        self.workdir = options.workdir.resolve()
        self._plane: ControlPlane | None = None
        self._platform: Platform | None = None
        self._keycloak: Keycloak | None = None
        self._prometheus: Prometheus | None = None
        self._alertmanager: Alertmanager | None = None
        self._mail: MailServer | None = None
        self._alerts_secret = secrets.token_urlsafe(24)
        self._children: list[_Child] = []

    def run(self) -> int:
        """Start, print, supervise; stop everything on the way out. The exit code."""
        code = self._run()
        self.out.say("run", "everything stopped")
        return code

    def _run(self) -> int:
        began = time.monotonic()
        with contextlib.ExitStack() as stack:
            try:
                api_port = choose_api_port(self.options.api_port)
                kubeconfig = self._cluster(stack)
                operator_metrics = self._operator(stack, kubeconfig)
                self._mail = stack.enter_context(MailServer(self.workdir / "mail"))
                alertmanager = self._alertmanager_up(stack, f"http://127.0.0.1:{api_port}")
                prometheus = self._prometheus_up(
                    stack, [f"127.0.0.1:{operator_metrics}"], f"127.0.0.1:{api_port}", alertmanager
                )
                issuer = self._keycloak_up(stack, f"http://127.0.0.1:{api_port}")
                self._api(stack, kubeconfig, issuer, api_port, prometheus)
                places = {"Prometheus": prometheus, "Alertmanager": alertmanager, "mail": str(self._mail.maildir)}
                self.out.say("", banner(api_port, issuer, kubeconfig, operator_metrics, places, self.workdir, began))
                self._supervise()
            except KeyboardInterrupt:
                self.out.say("run", "signal received: stopping everything")
                return 0
            except (StackError, *_ERRORS) as exc:
                self.out.say("run", f"{exc}\nstopping everything")
                return 1
            finally:
                for sig in (signal.SIGINT, signal.SIGTERM):  # let the orderly stop finish
                    signal.signal(sig, signal.SIG_IGN)
        return 0

    def _cluster(self, stack: contextlib.ExitStack) -> Path:
        """The kubeconfig of the cluster to use: $KUBECONFIG's, or a control plane started here."""
        if self.options.kubeconfig is not None:
            self.out.say("run", f"using the cluster of KUBECONFIG={self.options.kubeconfig}")
            kubeconfig = self.options.kubeconfig
            cluster = Cluster(kubeconfig)
        else:
            self._plane = ControlPlane(self.workdir / "cluster")
            if self.options.cluster_logs:
                for name in ("etcd", "kube-apiserver", "kube-controller-manager", "hnc-manager"):
                    self.out.follow(name, self._plane.log_path(name))
            self.out.say("run", "starting etcd and kube-apiserver (first run: Go builds, minutes)")
            stack.enter_context(self._plane)
            if self.options.with_platform:
                self.out.say("run", "starting kube-controller-manager and HNC")
                self._platform = stack.enter_context(Platform(self._plane))
            kubeconfig = self._plane.kubeconfig
            cluster = Cluster(kubeconfig, cache_dir=self.workdir / "cluster" / "kubectl-cache")
        names = install_crds(cluster)
        self.out.say("run", f"CRDs established: {', '.join(names)}")
        for path in self.options.apply:
            self._apply(cluster, path)
        return kubeconfig

    def _apply(self, cluster: Cluster, path: Path) -> None:
        """kubectl apply, again while the apiserver is still settling (a new CRD's storage, HNC's webhook)."""
        attempt: list[subprocess.CompletedProcess[str]] = []

        def applied() -> bool:
            attempt[:] = [cluster.kubectl("apply", "-f", str(path), check=False)]
            return attempt[0].returncode == 0

        if not wait_until(applied, APPLY_TIMEOUT, interval=1.0):
            raise StackError(f"kubectl apply -f {path} failed: {attempt[0].stderr.strip()}")
        self.out.say("run", f"applied {path}: {len(attempt[0].stdout.splitlines())} objects")

    def _operator(self, stack: contextlib.ExitStack, kubeconfig: Path) -> int:
        """Launch the operator (not waited for here: it reconciles while Keycloak starts); its metrics port."""
        (metrics_port,) = free_ports(1)
        env = _loopback_env(
            {
                "KUBECONFIG": str(kubeconfig),
                "ORGQUOTA_METRICS_PORT": str(metrics_port),
                "ORGQUOTA_METRICS_HOST": "127.0.0.1",
            }
        )
        self.out.follow("operator", self.workdir / "operator.log")
        child = _Child("operator", [sys.executable, "-m", "orgquota", "run"], self.workdir / "operator.log", env)
        self._children.append(child)
        stack.callback(child.stop)
        return metrics_port

    def _alertmanager_up(self, stack: contextlib.ExitStack, api_url: str) -> str | None:
        """Alertmanager sending to the API (which starts later: Alertmanager retries); its URL, or None when
        it is not installed (Events and conditions still work; no alert is mailed)."""
        if shutil.which("prometheus-alertmanager") is None:
            self.out.say("run", "prometheus-alertmanager is not installed (`make prometheus`): no alert e-mails")
            return None
        self._alertmanager = Alertmanager(api_url, self._alerts_secret, self.workdir / "alertmanager")
        self.out.follow("alertmanager", self._alertmanager.log_path)
        stack.enter_context(self._alertmanager)
        return self._alertmanager.url

    def _prometheus_up(
        self, stack: contextlib.ExitStack, operator: list[str], api: str, alertmanager: str | None
    ) -> str | None:
        """Prometheus scraping the operator and the API (which starts later: its first scrapes fail), sending
        alerts to `alertmanager`; its URL, or None when it is not installed (no usage history)."""
        try:
            debian_binary("prometheus")
        except PrometheusError as exc:
            self.out.say("run", f"{exc}: no usage history")
            return None
        self._prometheus = Prometheus(
            self.workdir / "prometheus",
            targets={"orgquota-operator": operator, "orgquota-api": [api]},
            scrape_interval=self.options.scrape_interval,
            alertmanagers=[alertmanager.removeprefix("http://")] if alertmanager else (),
        )
        shutil.rmtree(self._prometheus.data_dir, ignore_errors=True)  # the cluster is new: so is its history
        self.out.follow("prometheus", self._prometheus.log_path)
        stack.enter_context(self._prometheus)
        return self._prometheus.url

    def _keycloak_up(self, stack: contextlib.ExitStack, api_origin: str) -> str:
        self.out.say("run", "starting Keycloak (first run: Maven fetch and `kc.sh build`, about a minute)")
        self._keycloak = Keycloak(self.workdir / "keycloak", web_origins=[api_origin])
        self.out.follow("keycloak", self._keycloak.log_path)
        stack.enter_context(self._keycloak)
        return self._keycloak.issuer

    def _api(
        self, stack: contextlib.ExitStack, kubeconfig: Path, issuer: str, port: int, prometheus: str | None
    ) -> None:
        operator = self._children[0]
        operator.wait_ready(lambda: OPERATOR_STARTED in operator.log_path.read_text(errors="replace"), "start-up")
        ui_dir = self.options.ui_dir or DEFAULT_UI_DIR
        if not (ui_dir / "index.html").is_file():
            self.out.say("run", f"the page is not built ({ui_dir}/index.html is missing; `make ui`): API only")
        origin = f"http://127.0.0.1:{port}"
        env = _loopback_env({"KUBECONFIG": str(kubeconfig), "OIDC_ISSUER_URL": issuer})
        env.setdefault("CONSOLE_URL", origin)
        if prometheus is not None:
            env["PROMETHEUS_URL"] = prometheus
        if self._mail is not None:
            env.update(
                SMTP_URL=self._mail.url, SMTP_FROM="billing@orgquota.local", ALERTS_WEBHOOK_SECRET=self._alerts_secret
            )
        if self.options.ui_dir is not None:
            env["ORGQUOTA_UI_DIR"] = str(self.options.ui_dir)
        self.out.follow("api", self.workdir / "api.log")
        args = [sys.executable, "-m", "orgquota", "api", "--host", "127.0.0.1", "--port", str(port)]
        child = _Child("api", args, self.workdir / "api.log", env)
        self._children.append(child)
        stack.callback(child.stop)
        child.wait_ready(lambda: _http_ok(f"{origin}/readyz"), "/readyz")

    def _supervise(self) -> None:
        """Return never; raise StackError naming the first part found dead."""
        while True:
            time.sleep(SUPERVISE_INTERVAL)
            for child in self._children:
                if child.proc.poll() is not None:
                    raise StackError(
                        f"{child.name} exited with code {child.proc.returncode}; last log lines:\n"
                        f"{log_tail(child.log_path)}"
                    )
            if self._prometheus is not None and not self._prometheus.running():
                raise StackError(f"Prometheus exited; last log lines:\n{log_tail(self._prometheus.log_path)}")
            if self._alertmanager is not None and not self._alertmanager.running():
                raise StackError(f"Alertmanager exited; last log lines:\n{log_tail(self._alertmanager.log_path)}")
            if self._mail is not None and not self._mail.running():
                raise StackError(f"the SMTP server exited; last log lines:\n{log_tail(self._mail.log_path)}")
            if self._keycloak is not None and not self._keycloak.running():
                raise StackError(f"Keycloak exited; last log lines:\n{log_tail(self._keycloak.log_path)}")
            if self._plane is not None and not self._plane.running():
                raise StackError(f"etcd or kube-apiserver exited; logs in {self._plane_logs()}")
            if self._platform is not None and not self._platform.healthy():
                raise StackError(f"kube-controller-manager or HNC exited; logs in {self._plane_logs()}")

    def _plane_logs(self) -> Path:
        return self.workdir / "cluster" / "logs"  # ControlPlane.log_path's directory


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_stack(options: StackOptions) -> int:
    """`localcluster run`: SIGTERM stops it as Ctrl-C does."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    options.workdir.mkdir(parents=True, exist_ok=True)
    with LogFollower() as out:
        return Stack(options, out).run()
