"""Follow the log files of several processes and copy their lines to one stream, each `[name] `-prefixed.

The harness spawns every process with its output in a file (`procs.spawn`), which is what tests and
error messages read; following those files, rather than piping the processes, keeps that as it is.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

INTERVAL: Final = 0.1


@dataclass
class _Followed:
    name: str
    path: Path
    offset: int = 0
    partial: bytes = b""


class LogFollower:
    """A background thread printing each new line of the followed files as `[name] line`.

    A file that does not exist yet is waited for; one that shrinks (removed and started again, as a
    retried start does) is read again from its beginning. `say` prints a line of our own, in order.
    """

    def __init__(self, out: TextIO = sys.stdout, interval: float = INTERVAL) -> None:
        self._out = out
        self._interval = interval
        self._followed: list[_Followed] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="log-follower", daemon=True)

    def __enter__(self) -> LogFollower:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def follow(self, name: str, path: Path) -> None:
        with self._lock:
            self._followed.append(_Followed(name, path))

    def say(self, name: str, text: str) -> None:
        """Print `text` as lines of `name` (no prefix if empty), between whole lines of the logs."""
        with self._lock:
            self._write(name, text.splitlines() or [""])

    def stop(self) -> None:
        """Copy what is left (a last line without newline too), then end the thread."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            for followed in self._followed:
                self._read(followed)
                if followed.partial:
                    self._write(followed.name, [followed.partial.decode(errors="replace")])
                    followed.partial = b""

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            with self._lock:
                for followed in self._followed:
                    self._read(followed)

    def _read(self, followed: _Followed) -> None:
        try:
            size = followed.path.stat().st_size
            if size < followed.offset:
                followed.offset, followed.partial = 0, b""
            if size == followed.offset:
                return
            with followed.path.open("rb") as f:
                f.seek(followed.offset)
                chunk = f.read(size - followed.offset)
        except OSError:
            return
        followed.offset += len(chunk)
        *lines, followed.partial = (followed.partial + chunk).split(b"\n")
        self._write(followed.name, [line.decode(errors="replace").rstrip("\r") for line in lines])

    def _write(self, name: str, lines: list[str]) -> None:
        if lines:
            prefix = f"[{name}] " if name else ""
            self._out.write("".join(f"{prefix}{line}\n" for line in lines))
            self._out.flush()
