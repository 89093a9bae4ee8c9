"""A real Alertmanager on 127.0.0.1, between the local Prometheus and the billing API (docs/alerts.md).

Debian's `prometheus-alertmanager` (`make prometheus`), run as our own child from the repository's
one configuration (deploy/alertmanager/alertmanager.yml) with the local API's receiver address, the
webhook secret's file and, for tests, shorter waits put in. No cluster gossip: one instance.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import yaml

from .binaries import log
from .controlplane import free_ports, log_tail
from .procs import spawn, stop_child, wait_started
from .prometheus import ready
from .versions import ALERTMANAGER_CONFIG

BINARY: Final = "prometheus-alertmanager"
RECEIVER: Final = "orgquota-billing-api"


class AlertmanagerError(RuntimeError):
    """Alertmanager is not installed or did not start; the message says which, with its log's tail."""


@dataclass(frozen=True)
class Timing:
    """The route's waits: the repository's for `make run`, seconds for tests."""

    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "12h"


FAST: Final = Timing("1s", "1s", "1m")


def local_config(api_url: str, secret_file: Path, timing: Timing | None = None) -> dict[str, Any]:
    """The repository's configuration, its receiver pointed at `api_url` (the API's base address)."""
    config: dict[str, Any] = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    (receiver,) = [r for r in config["receivers"] if r["name"] == RECEIVER]
    for hook in receiver["webhook_configs"]:
        hook["url"] = f"{api_url.rstrip('/')}/api/billing/alerts"
        hook["http_config"]["authorization"]["credentials_file"] = str(secret_file)
    if timing is not None:
        config["route"].update(
            group_wait=timing.group_wait, group_interval=timing.group_interval, repeat_interval=timing.repeat_interval
        )
    return config


class Alertmanager:
    """Alertmanager on a free loopback port; a context manager. `address` is what Prometheus sends to."""

    def __init__(
        self,
        api_url: str,
        secret: str,
        workdir: Path | None = None,
        *,
        timing: Timing | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="alertmanager-")) if workdir is None else workdir.resolve()
        self.api_url = api_url
        self.secret = secret
        self.timing = timing
        self.start_timeout = start_timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "alertmanager.log"

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Alertmanager:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> Alertmanager:
        binary = shutil.which(BINARY)
        if binary is None:
            raise AlertmanagerError(f"{BINARY} is not installed: run `make prometheus` (as root)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        secret_file = self.workdir / "webhook-secret"
        secret_file.write_text(self.secret)
        secret_file.chmod(0o600)
        config = self.workdir / "alertmanager.yml"
        config.write_text(yaml.safe_dump(local_config(self.api_url, secret_file, self.timing), sort_keys=False))
        (self.port,) = free_ports(1)
        args = [
            binary,
            f"--config.file={config}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address={self.address}",
            "--cluster.listen-address=",
        ]
        self.log_path.unlink(missing_ok=True)
        self._proc = spawn(args, self.log_path, detached=False)
        problem = wait_started(self._proc, lambda: ready(self.url), self.start_timeout)
        if problem is not None:
            tail = log_tail(self.log_path)
            self.stop()
            raise AlertmanagerError(f"Alertmanager {problem}; last log lines:\n{tail}")
        log(f"Alertmanager ready at {self.url}, sending to {self.api_url}")
        return self

    def stop(self) -> None:
        if self._proc is not None:
            stop_child(self._proc)
            self._proc = None
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)
