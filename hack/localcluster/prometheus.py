"""A real Prometheus on 127.0.0.1: the usage history of `make run` and of the tests (docs/history.md).

Debian's `prometheus` package (`make prometheus`; 2.42, with `promtool`), run as our own child with a
generated configuration: it scrapes the `/metrics` of the targets given (the operator, the billing API),
loads the rule files of deploy/prometheus/rules/ and keeps its data in a directory of its own, which a
test may have filled beforehand with backfilled blocks (tests/support/prom_history.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import yaml

from .binaries import log
from .controlplane import free_ports, log_tail
from .procs import spawn, stop_child, wait_started
from .versions import PROMETHEUS_RULES

SCRAPE_INTERVAL: Final = "5s"
RETENTION: Final = "400d"
"""beyond the longest history the API answers (400 days), so backfilled blocks are kept"""
PORT_ATTEMPTS: Final = 3
_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PrometheusError(RuntimeError):
    """Prometheus is not installed or did not start; the message says which, with its log's tail."""


def debian_binary(name: str) -> Path:
    """`prometheus` or `promtool` from Debian's package; fails naming the command that installs it."""
    found = shutil.which(name)
    if found is None:
        raise PrometheusError(f"{name} is not installed: run `make prometheus` (as root: apt-get install prometheus)")
    return Path(found)


def scrape_config(
    targets: Mapping[str, Sequence[str]],
    scrape_interval: str,
    rule_files: Sequence[Path],
    alertmanagers: Sequence[str] = (),
) -> dict[str, Any]:
    """prometheus.yml: one job per entry of `targets` (job name -> `host:port`s), rules evaluated as often,
    alerts sent to `alertmanagers` (`host:port`s)."""
    config: dict[str, Any] = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": list(addresses)}]} for job, addresses in targets.items()
        ],
    }
    if alertmanagers:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]}
    return config


class Prometheus:
    """Prometheus on a free loopback port; a context manager. `url` is what a client (PROMETHEUS_URL) uses.

    `workdir` holds `prometheus.yml`, the log and, unless `data_dir` names another, the data (`data/`).
    The process dies with this Python process (PDEATHSIG). Retention is long (400 days): backfilled
    history older than the default 15 days would otherwise be deleted at start.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        targets: Mapping[str, Sequence[str]] | None = None,
        scrape_interval: str = SCRAPE_INTERVAL,
        rules_dir: Path | None = PROMETHEUS_RULES,
        data_dir: Path | None = None,
        retention: str = RETENTION,
        start_timeout: float = 60.0,
        alertmanagers: Sequence[str] = (),
    ) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="prometheus-")) if workdir is None else workdir.resolve()
        self.targets = dict(targets or {})
        self.scrape_interval = scrape_interval
        self.rules_dir = rules_dir
        self.data_dir = (data_dir or self.workdir / "data").resolve()
        self.retention = retention
        self.start_timeout = start_timeout
        self.alertmanagers = tuple(alertmanagers)
        self.port = 0
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "prometheus.log"

    @property
    def config_path(self) -> Path:
        return self.workdir / "prometheus.yml"

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Prometheus:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> Prometheus:
        """Write the configuration, start Prometheus and wait until it is ready (`/-/ready`)."""
        binary = debian_binary("prometheus")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        rules = sorted(self.rules_dir.glob("*.yml")) if self.rules_dir is not None else []
        config = scrape_config(self.targets, self.scrape_interval, rules, self.alertmanagers)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        try:
            for attempt in range(PORT_ATTEMPTS):
                if self._started(binary) or attempt == PORT_ATTEMPTS - 1:
                    break
        except BaseException:
            self.stop()
            raise
        log(f"Prometheus ready at {self.url}")
        return self

    def _started(self, binary: Path) -> bool:
        """Start once; False when the port was taken meanwhile (worth another try)."""
        self.log_path.unlink(missing_ok=True)
        (self.port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            str(binary),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={self.retention}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        self._proc = spawn(args, self.log_path, detached=False)
        problem = wait_started(self._proc, lambda: ready(self.url), self.start_timeout)
        if problem is None:
            return True
        tail = log_tail(self.log_path)
        self._stop_process()
        if "address already in use" in tail:
            return False
        raise PrometheusError(f"Prometheus {problem}; last log lines:\n{tail}")

    def query(self, path: str, **params: str) -> Any:
        """The `data` of an HTTP API answer (`/api/v1/query`, `/api/v1/query_range`, ...)."""
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with _OPENER.open(url, timeout=10) as resp:
                answer = json.load(resp)
        except urllib.error.HTTPError as exc:
            raise PrometheusError(f"{url}: {exc.code} {exc.read().decode(errors='replace')}") from exc
        return answer["data"]

    def stop(self) -> None:
        """Stop the process (TERM, then KILL); idempotent."""
        self._stop_process()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _stop_process(self) -> None:
        if self._proc is not None:
            stop_child(self._proc)
            self._proc = None


def ready(url: str) -> bool:
    """Whether a Prometheus-style server (Prometheus, Alertmanager) at `url` says it is ready (`/-/ready`)."""
    try:
        with _OPENER.open(f"{url}/-/ready", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False
