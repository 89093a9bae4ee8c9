"""The API attacked over a real socket, as someone without credentials would: bodies, heads, paths."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import pytest

from orgquota.api import bounded_http
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.guard import MAX_JSON_BODY_BYTES
from orgquota.api.settings import ApiSettings
from tests.support.oidc import Issuer
from tests.unit.api.live import exchange, read_answer, rss_bytes, serving

API = "/api/billing"
Address = tuple[str, int]


@pytest.fixture
def api(settings: ApiSettings, cluster: Cluster, issuer: Issuer) -> Iterator[Address]:
    issuer.up = True
    with serving(create_app(settings, cluster)) as address:
        yield address


def post(path: str, length: int, *headers: str, body: bytes = b"") -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: api", "Content-Type: application/json", f"Content-Length: {length}"]
    return ("\r\n".join([*head, *headers]) + "\r\n\r\n").encode() + body


def envelope(answer: bytes) -> dict[str, object]:
    body: dict[str, object] = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["success"] is False
    return body


def test_a_huge_body_without_a_token_is_refused_before_it_is_sent(api: Address) -> None:
    # 80 MB announced, 1 KiB sent: the answer can only come if nobody waits for the rest
    status, answer, seconds = exchange(api, post(f"{API}/simulate-downgrade", 80_000_000, body=b"{" * 1024))
    assert status == 401
    assert seconds < 2
    assert "authentication required" in str(envelope(answer)["error"])
    status, _, _ = exchange(api, post(f"{API}/simulate-downgrade", 80_000_000, "Authorization: Bearer forged"))
    assert status == 401


def test_a_body_over_the_bound_is_refused_before_it_is_sent(api: Address, admin: dict[str, str]) -> None:
    token = f"Authorization: {admin['Authorization']}"
    status, answer, seconds = exchange(api, post(f"{API}/simulate-downgrade", MAX_JSON_BODY_BYTES + 1, token))
    assert status == 413
    assert seconds < 2
    assert "larger than" in str(envelope(answer)["error"])
    # within the bound, the route reads and answers as ever
    body = b'{"planId": "pro-pool"}'
    status, _, _ = exchange(api, post(f"{API}/simulate-downgrade", len(body), token, body=body))
    assert status == 200


def test_a_chunked_body_is_counted_and_cut_off(api: Address, admin: dict[str, str]) -> None:
    head = (
        f"POST {API}/simulate-downgrade HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
        f"Authorization: {admin['Authorization']}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"1000\r\n" + b" " * 0x1000 + b"\r\n"
    with socket.create_connection(api, timeout=5) as conn:
        conn.sendall(head)
        for _ in range(MAX_JSON_BODY_BYTES // 0x1000 + 1):
            conn.sendall(chunk)
        answer = read_answer(conn)  # the rest (never sent) is not waited for
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert "larger than" in str(envelope(answer)["error"])


def test_the_webhook_keeps_its_own_cap(api: Address) -> None:
    # none mode has no webhook route: the guard lets the body through to the router (404), no 401/413
    status, _, _ = exchange(api, post(f"{API}/webhook", 9000, body=b" " * 9000))
    assert status == 404


def test_heads_and_urls_are_bounded(api: Address) -> None:
    status, answer, _ = exchange(api, f"GET /{'a' * 10_000} HTTP/1.1\r\nHost: api\r\n\r\n".encode())
    assert status == 414
    envelope(answer)
    huge = "".join(f"X-Filler-{n}: {'b' * 1000}\r\n" for n in range(100))
    status, answer, _ = exchange(api, f"GET /healthz HTTP/1.1\r\nHost: api\r\n{huge}\r\n".encode())
    assert status == 431
    assert "headers exceed" in str(envelope(answer)["error"])
    status, _, _ = exchange(api, b"GET /healthz HTTP/1.1\r\nHost: api\r\nX-Small: yes\r\n\r\n")
    assert status == 200


def test_a_head_too_slow_is_answered_408(monkeypatch: pytest.MonkeyPatch, api: Address) -> None:
    monkeypatch.setattr(bounded_http.BoundedHttpToolsProtocol, "head_timeout", 0.3)
    status, _, seconds = exchange(api, b"GET /healthz HTTP/1.1\r\nHost: api\r\n")
    assert status == 408
    assert 0.25 < seconds < 3


def test_forty_half_sent_megabyte_heads_hold_no_memory(api: Address) -> None:
    def healthz_seconds() -> float:
        status, _, seconds = exchange(api, b"GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n")
        assert status == 200
        return seconds

    usual = min(healthz_seconds() for _ in range(5))
    before = rss_bytes()
    header = b"GET /healthz HTTP/1.1\r\nHost: api\r\nX-Big: " + b"c" * 1_000_000  # never ends
    attackers = []
    for _ in range(40):
        conn = socket.create_connection(api, timeout=5)
        conn.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            conn.send(header)
        attackers.append(conn)
    try:
        time.sleep(0.5)  # let the server take what it will of them
        beside = min(healthz_seconds() for _ in range(5))
        grown = rss_bytes() - before
    finally:
        for conn in attackers:
            conn.close()
    assert grown < 16_000_000, f"the process grew {grown / 1e6:.1f} MB"
    assert beside < usual + 0.05


@pytest.mark.parametrize("path", ["/%00", "/api/billing/%00", "/%0a", "/env.js%00", "/%ff%fe"])
def test_undecodable_paths_are_4xx(api: Address, path: str) -> None:
    status, answer, _ = exchange(api, f"GET {path} HTTP/1.1\r\nHost: api\r\n\r\n".encode())
    assert 400 <= status < 500
    assert b"Traceback" not in answer
