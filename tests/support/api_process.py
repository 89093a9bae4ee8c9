"""`orgquota api` as a separate process (as it runs in a cluster), for end-to-end tests.

Started with the environment a test gives it (provider, secrets, issuer), its log in a file; it
is up once `/api/billing/health` answers 200, that is once its informers have read the cluster
and a catalog.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from localcluster.controlplane import free_ports
from localcluster.procs import spawn


class ApiProcess:
    def __init__(self, env: dict[str, str], log_path: Path, token: str) -> None:
        (self.port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_path
        self.token = token
        """a bearer token the API accepts, for the routes that need one"""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        args = [sys.executable, "-m", "orgquota", "api", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = spawn(args, self.log_path, detached=False, env=self.env)
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"orgquota api exited with {self.proc.returncode}:\n{self.log()}"
            try:
                if self.get("/api/billing/health")[0] == 200:
                    return
            except OSError:
                pass  # not listening yet
            assert time.monotonic() < deadline, f"orgquota api did not become healthy:\n{self.log()}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def get(self, path: str) -> tuple[int, Any]:
        """(status, JSON body) of a GET with the token."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` whose labels include `labels`."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        total = 0.0
        wanted = [f'{key}="{value}"' for key, value in labels.items()]
        for line in text.splitlines():
            sample = line.startswith(name + "{") or line.startswith(name + " ")
            if sample and all(label in line for label in wanted):
                total += float(line.split()[-1])
        return total

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
