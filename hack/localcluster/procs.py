"""Child-process plumbing: spawn with logs in files, die with the parent, stop with TERM then KILL."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1
STOP_TIMEOUT = 10.0
POLL = 0.05


def _die_with_parent(parent: int) -> Callable[[], None]:
    """preexec_fn for Linux: SIGKILL the child when the spawning thread's process dies (even by SIGKILL)."""

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(127)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(127)

    return preexec


def spawn(
    args: list[str], log_file: Path, *, detached: bool, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `args` with stdout+stderr appended to `log_file`.

    Always a new session, so a terminal's Ctrl-C reaches only us and our orderly stop() runs.
    Not detached: the child is tied to this process's life (the spawning thread's, on Linux).
    Detached: it outlives us, for `localcluster up`.
    """
    preexec = None if detached or not sys.platform.startswith("linux") else _die_with_parent(os.getpid())
    with log_file.open("ab") as log:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,
            env=env,
        )


def pid_alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (an orphan's zombie may linger if pid 1 doesn't reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) is all we know
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def pid_cmdline(pid: int) -> str:
    """The command line of `pid`, or '' if unknown; guards against signalling a recycled pid."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        out = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False)
        return out.stdout.strip()


def wait_until(cond: Callable[[], bool], timeout: float, interval: float = POLL) -> bool:
    """Poll `cond` until true or `timeout` seconds pass; return whether it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_started(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float, interval: float = POLL
) -> str | None:
    """Poll `ready` until true (None); else why not: the process exited, or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            return f"exited with code {proc.returncode}"
        if time.monotonic() > deadline:
            return f"not ready after {timeout:.0f}s"
        time.sleep(interval)
    return None


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL; for processes that are not (or no longer) our children."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: not pid_alive(pid), timeout):
            return
    raise RuntimeError(f"process {pid} survived SIGKILL")


def stop_child(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL, and reap the child."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
