"""The billing API under abuse (`python -m bench.abuse`): memory and a normal request's latency while
attackers hold connections open.

`orgquota api`'s server configuration (or, with --http, plain httptools or h11 for comparison) in a
process of its own over an empty cluster; figures for: idle, 40 half-sent requests with 1 MB of
headers each, and 10 unauthenticated requests announcing 40 MB bodies (each sending what the
server takes). Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

SERVE = """
import sys, uvicorn, uvloop
from orgquota.api import logs
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.server import server_config
from orgquota.api.settings import ApiSettings
settings = ApiSettings.from_env({"OIDC_ISSUER_URL": "http://127.0.0.1:9/realms/none"})
logs.configure(settings.log_level).stop_at_signals()  # the 401s written as `orgquota api` writes them
config = server_config(create_app(settings, Cluster(settings)), "127.0.0.1", int(sys.argv[1]))
if sys.argv[2] != "bounded":
    config.http = sys.argv[2]
uvloop.run(uvicorn.Server(config).serve())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def healthz_ms(port: int, times: int = 20) -> tuple[float, float]:
    """Median and worst milliseconds of GET /healthz on fresh connections."""
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n")
            while conn.recv(65536):
                pass
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1000, max(seconds) * 1000


@contextlib.contextmanager
def attackers(port: int, count: int, request: bytes) -> Iterator[None]:
    """`count` connections each sending as much of `request` as the server takes, then holding on."""
    conns = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 0.5
        while sent < len(request) and time.monotonic() < deadline:
            try:
                sent += conn.send(request[sent : sent + 262144])
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break  # answered and closed
        conns.append(conn)
    try:
        time.sleep(0.5)
        yield
    finally:
        for conn in conns:
            conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", choices=["bounded", "httptools", "h11"], default="bounded")
    args = parser.parse_args(argv)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(port), args.http], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                healthz_ms(port, 1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        heads = b"GET /healthz HTTP/1.1\r\nHost: api\r\nX-Big: " + b"c" * 1_000_000
        bodies = b"POST /api/billing/simulate-downgrade HTTP/1.1\r\nHost: api\r\nContent-Length: 40000000\r\n\r\n"
        bodies += b" " * 40_000_000
        print(f"http={args.http}")
        print(
            f"  idle:                     RSS {rss_mib(server.pid):6.1f} MiB, healthz p50/max %.2f/%.2f ms"
            % healthz_ms(port)
        )
        for name, count, request in (("40 half-sent 1 MB heads", 40, heads), ("10 unauthenticated 40 MB", 10, bodies)):
            before = rss_mib(server.pid)
            with attackers(port, count, request):
                p50, worst = healthz_ms(port)
                during = rss_mib(server.pid)
            grown = f"{during:6.1f} MiB ({during - before:+.1f})"
            print(f"  {name + ':':25} RSS {grown}, healthz p50/max {p50:.2f}/{worst:.2f} ms")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
