"""The billing API on a real socket: uvicorn, configured as `orgquota api` configures it, in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from orgquota.api.server import server_config


@contextmanager
def serving(app: FastAPI) -> Iterator[tuple[str, int]]:
    """(host, port) of `app` served until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(server_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(10)


def exchange(address: tuple[str, int], request: bytes, timeout: float = 5.0) -> tuple[int, bytes, float]:
    """Sends `request` (possibly incomplete), returns (status, whole answer, seconds to its first byte)."""
    with socket.create_connection(address, timeout=timeout) as conn:
        start = time.perf_counter()
        with contextlib.suppress(OSError):  # the server answered and closed before taking it all
            conn.sendall(request)
        answer = read_answer(conn)
        return int(answer.split(b" ", 2)[1]), answer, time.perf_counter() - start


def read_answer(conn: socket.socket) -> bytes:
    """The answer, read until its declared length or the connection's end."""
    data = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and len(body) >= int(value):
                return data
    return data


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096
