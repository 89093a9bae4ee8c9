"""A real Keycloak on 127.0.0.1 with the kube-dc realm (hack/keycloak/) imported fresh on every start.

Each run gets its own Keycloak home in its work dir: bin/kc.sh, conf/ and data/ (the H2 database and the
realm to import) are its own, lib/ and themes/ point into the shared, read-only cache. The cache is built
once for production mode (`kc.sh build`), and runs use `kc.sh start --optimized`: nothing ever writes into
the cache after that, so parallel runs are safe, and no run pays for Quarkus' re-augmentation (which
`start-dev` does whenever it sees a fresh distribution, and which rewrites lib/).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Final

from .binaries import log
from .controlplane import free_ports, log_tail
from .keycloak_dist import keycloak_home
from .procs import pid_alive, pid_cmdline, spawn, stop_child, stop_pid, wait_started
from .versions import KEYCLOAK_REALMS

REALM: Final = "kube-dc"
CLIENT_ID: Final = "kube-dc"
AUDIENCE: Final = "billing-api"
REALM_FILE: Final = KEYCLOAK_REALMS / f"{REALM}-realm.json"
# The JVM picks its heap from the machine's memory otherwise; this keeps RSS near 400 MB.
HEAP: Final = "-Xms64m -Xmx384m"
PORT_ATTEMPTS: Final = 3
_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class KeycloakError(RuntimeError):
    """Keycloak did not start; the message carries the tail of its log."""


class _PortInUseError(KeycloakError):
    """The free port we picked was taken before Keycloak bound it; worth another try."""


def discovery_url(issuer: str) -> str:
    return f"{issuer}/.well-known/openid-configuration"


def serves_realm(issuer: str) -> bool:
    """True once the realm's discovery document is served (the realm is imported and HTTP is up)."""
    try:
        with _OPENER.open(discovery_url(issuer), timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def demo_users(realm_file: Path = REALM_FILE) -> dict[str, str]:
    """Username -> password of the realm file's users (demo accounts, for `keycloak up` and tests)."""
    realm = json.loads(realm_file.read_text())
    return {
        u["username"]: next(c["value"] for c in u["credentials"] if c["type"] == "password") for u in realm["users"]
    }


def realm_with_origins(realm_file: Path, origins: Sequence[str]) -> str:
    """The realm JSON with `origins` (e.g. the billing API's http://127.0.0.1:<port>) allowed for the client.

    Keycloak ignores the port of loopback redirect URIs, but not of web origins (CORS): a browser app
    calling the token endpoint from http://127.0.0.1:5173 needs exactly that origin listed.
    """
    realm = json.loads(realm_file.read_text())
    client = next(c for c in realm["clients"] if c["clientId"] == CLIENT_ID)
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
            raise KeycloakError(f"web origin {origin!r} must be scheme://host[:port] without a path")
        client["webOrigins"].append(origin)
        client["redirectUris"].append(f"{origin}/*")
    return json.dumps(realm, indent=2)


def _make_home(dist: Path, home: Path, realm_json: str) -> None:
    """A per-run Keycloak home: own bin/kc.sh, conf/ and data/, the rest linked to the cached `dist`."""
    shutil.rmtree(home, ignore_errors=True)
    (home / "bin").mkdir(parents=True)
    shutil.copy2(dist / "bin" / "kc.sh", home / "bin" / "kc.sh")  # kc.sh finds its home from its own real path
    shutil.copytree(dist / "conf", home / "conf")
    for name in ("lib", "themes", "providers"):
        (home / name).symlink_to(dist / name)
    (home / "data" / "import").mkdir(parents=True)
    (home / "data" / "import" / f"{REALM}-realm.json").write_text(realm_json)


def _java_with_pdeathsig(home: Path) -> Path:
    """A `java` for kc.sh that dies with kc.sh: PDEATHSIG is not inherited, and kc.sh runs java as its child.

    So killing kc.sh (by us, or by the kernel when we die) never leaves a JVM behind.
    """
    java = shutil.which("java")
    setpriv = shutil.which("setpriv")
    if java is None:
        raise KeycloakError("Keycloak needs a Java 17+ runtime (`java`) on PATH")
    wrapper = home / "bin" / "java-pdeathsig"
    exec_line = f'exec "{setpriv}" --pdeathsig KILL -- "{java}" "$@"' if setpriv else f'exec "{java}" "$@"'
    wrapper.write_text(f"#!/bin/sh\n{exec_line}\n")
    wrapper.chmod(0o755)
    return wrapper


class Keycloak:
    """Keycloak serving the kube-dc realm on loopback; a context manager that always cleans up.

    `issuer` is `http://127.0.0.1:<port>/realms/kube-dc`. `workdir` holds the per-run home
    (`keycloak-home/`), the log (`keycloak.log`) and, if `detached`, `keycloak.pid`; without it a
    temp dir is used and removed on stop. Not detached, Keycloak is killed when this process dies.
    `web_origins` are added to the client's allowed origins and redirect URIs.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        detached: bool = False,
        web_origins: Sequence[str] = (),
        start_timeout: float = 300.0,  # measured 46-167 s on a 2-core machine busy with other builds
    ) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="keycloak-")) if workdir is None else workdir.resolve()
        self.detached = detached
        self.web_origins = list(web_origins)
        self.start_timeout = start_timeout
        self.port = 0
        self.issuer = ""
        self.start_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def home(self) -> Path:
        return self.workdir / "keycloak-home"

    @property
    def log_path(self) -> Path:
        return self.workdir / "keycloak.log"

    @property
    def pid_file(self) -> Path:
        return self.workdir / "keycloak.pid"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def running(self) -> bool:
        """Started and still alive."""
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Keycloak:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> Keycloak:
        """Make a fresh home (new database, realm imported anew), start Keycloak, wait for the realm."""
        dist = keycloak_home()  # may fetch: not counted in the start time
        realm_json = realm_with_origins(REALM_FILE, self.web_origins)
        self.workdir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        try:
            for attempt in range(PORT_ATTEMPTS):
                _make_home(dist, self.home, realm_json)
                self.log_path.unlink(missing_ok=True)
                try:
                    self._start_process()
                    break
                except _PortInUseError:
                    if attempt == PORT_ATTEMPTS - 1:
                        raise
        except BaseException:  # also Ctrl-C while waiting: never leave a JVM behind
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        log(f"Keycloak ready in {self.start_seconds:.1f}s, issuer {self.issuer}")
        return self

    def stop(self) -> None:
        """Stop Keycloak (TERM, then KILL after a timeout); idempotent."""
        self._stop_process()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _start_process(self) -> None:
        (self.port,) = free_ports(1)
        self.issuer = f"http://127.0.0.1:{self.port}/realms/{REALM}"
        args = [
            str(self.home / "bin" / "kc.sh"),
            "start",
            "--optimized",
            "--import-realm",
            # A run-time option (`kc.sh build` ignores it): without it a production start clusters with
            # JGroups, listening on every interface (7800, 57800) and taking seconds to form a cluster of one.
            "--cache=local",
            "--http-enabled=true",
            "--hostname-strict=false",  # the issuer follows the URL asked: http://127.0.0.1:<port>
            "--http-host=127.0.0.1",
            f"--http-port={self.port}",
        ]
        env = {**os.environ, "JAVA_OPTS_KC_HEAP": HEAP, "JAVA": str(_java_with_pdeathsig(self.home))}
        self._proc = spawn(args, self.log_path, detached=self.detached, env=env)
        if self.detached:
            self.pid_file.write_text(f"{self._proc.pid}\n")
            (self.workdir / "issuer").write_text(f"{self.issuer}\n")
        problem = wait_started(self._proc, lambda: serves_realm(self.issuer), self.start_timeout, interval=0.25)
        if problem is not None:
            self._stop_process()
            tail = log_tail(self.log_path)
            err = _PortInUseError if "Address already in use" in tail else KeycloakError
            raise err(f"Keycloak {problem}; last log lines:\n{tail}")

    def _stop_process(self) -> None:
        if self._proc is not None:
            stop_child(self._proc, timeout=30.0)
            self._proc = None
        self.pid_file.unlink(missing_ok=True)


# --- detached Keycloak (`localcluster keycloak up` / `down`) ---------------------------------------------


def _detached_pid(workdir: Path) -> int | None:
    """kc.sh's pid from `workdir/keycloak.pid` if it is alive and really ours (its command line names `workdir`)."""
    try:
        pid = int((workdir / "keycloak.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and str(workdir) in pid_cmdline(pid) else None


def detached_issuer(workdir: Path) -> str | None:
    """The issuer of a healthy Keycloak that `keycloak up` left in `workdir`, else None."""
    workdir = workdir.resolve()
    try:
        issuer = (workdir / "issuer").read_text().strip()
    except OSError:
        return None
    return issuer if _detached_pid(workdir) is not None and serves_realm(issuer) else None


def stop_detached(workdir: Path) -> bool:
    """Stop what `keycloak up` started in `workdir`; whether something was running."""
    workdir = workdir.resolve()
    pid = _detached_pid(workdir)
    if pid is not None:
        stop_pid(pid, timeout=30.0)
    for name in ("keycloak.pid", "issuer"):
        (workdir / name).unlink(missing_ok=True)
    return pid is not None
