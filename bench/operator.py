"""The operator process under measurement: the tests' `OperatorProcess` with the bench's waits,
its metrics, a py-spy profile and a tracemalloc report."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import aiohttp

from bench.measure import OPERATOR_METRICS, cpu_seconds
from tests.support.operator_process import STARTED_LOG, OperatorProcess

TRACED_OPERATOR: Final = Path(__file__).resolve().parent / "traced_operator.py"


class Operator(OperatorProcess):
    """The operator process as the e2e tests run it (`OperatorProcess`), measured: its start is not
    waited for (the bench times it), and it may run under tracemalloc or be profiled by py-spy."""

    def __init__(self, env: Mapping[str, str], log_path: Path, py_spy: str | None, traced: Path | None = None) -> None:
        command = [sys.executable, str(TRACED_OPERATOR), str(traced)] if traced is not None else []
        super().__init__(env, log_path, command)
        self.py_spy = py_spy
        self.traced = traced

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)

    async def wait_log(self, text: str, within: float, after: int = 0) -> float:
        """Wait until `text` occurs more than `after` times in this process's log; the time it was seen."""
        deadline = time.monotonic() + within
        while True:
            assert self.proc is not None
            if self.count(text) > after:
                return time.monotonic()
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"operator did not log {text!r} within {within:.0f}s")
            await asyncio.sleep(0.05)

    async def wait_startup(self, within: float) -> tuple[float, float]:
        """Wait for the operator's `startup: N organizations reconciled in X s` line; (when it was
        seen, the X it reports: seconds from its own first LIST)."""
        seen_at = await self.wait_log(STARTED_LOG, within)
        startup = re.search(rf"startup: \d+ {STARTED_LOG} ([\d.]+)s", self.log())
        assert startup is not None
        return seen_at, float(startup.group(1))

    async def wait_cpu_idle(self, quiet: float = 1.0, within: float = 600.0, poll: float = 0.05) -> float:
        """Wait until the operator has used no CPU for `quiet` seconds; the time its last work ended.

        The operator has no "work queue drained" signal (no log line, metric or endpoint), so the
        bench takes an idle process for a drained queue: every reconcile costs CPU (JSON, kopf).
        """
        deadline = time.monotonic() + within
        last = cpu_seconds(self.pid)
        last_busy = time.monotonic()
        while True:
            await asyncio.sleep(poll)
            now, used = time.monotonic(), cpu_seconds(self.pid)
            if used != last:
                last, last_busy = used, now
            elif now - last_busy >= quiet:
                return last_busy
            if now > deadline:
                raise TimeoutError(f"operator still busy after {within:.0f}s")

    async def memory_report(self) -> dict[str, Any] | None:
        """With `--tracemalloc`: what the live memory was allocated by (bench/traced_operator.py)."""
        if self.traced is None:
            return None
        self.traced.unlink(missing_ok=True)
        assert self.proc is not None
        self.proc.send_signal(signal.SIGUSR1)
        for _ in range(1200):
            if self.traced.exists():
                report: dict[str, Any] = json.loads(self.traced.read_text())
                self.traced.unlink()
                return report
            await asyncio.sleep(0.1)
        return {"error": "no tracemalloc report within 120 s"}

    async def metrics(self) -> dict[str, float] | None:
        """The operator's own Prometheus metrics (reconciles, queue depth), if it serves them."""
        port = self.env.get("ORGQUOTA_METRICS_PORT")
        if not port:
            return None
        try:
            async with (
                aiohttp.ClientSession(trust_env=False) as session,
                session.get(f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=10)) as resp,
            ):
                text = await resp.text()
        except (aiohttp.ClientError, TimeoutError):
            return None
        found: dict[str, float] = {}
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            for metric in OPERATOR_METRICS:
                if name == metric or name.startswith(metric + "{"):
                    found[metric] = found.get(metric, 0.0) + float(value)
        return found or None

    def profile(self, output: Path) -> subprocess.Popen[bytes] | None:
        """Attach py-spy (sampling, collapsed stacks) until `stop_profile`; None without `--py-spy`."""
        if not self.py_spy:
            return None
        return subprocess.Popen(
            [
                *(self.py_spy, "record", "--pid", str(self.pid), "--format", "raw", "--function"),
                *("--rate", "100", "--nonblocking", "--output", str(output)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def stop_profile(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
