"""The WHMCS signature: HMAC of `<timestamp>.<raw body>`, the freshness window, and one use per signature."""

from __future__ import annotations

import pytest

from orgquota.api.providers.whmcs.signature import (
    FUTURE_SKEW_SECONDS,
    TOLERANCE_SECONDS,
    ReplayGuard,
    SignatureRejected,
    signature,
    verify,
)
from tests.support.whmcs_client import sign

SECRET = "s3cret"
NOW = 1_764_417_600
BODY = b'{"action":"renew","organization":"acme","planId":"pro-pool","serviceId":42,"clientId":7}'


def checked(header: str | None, timestamp: str | None = str(NOW), body: bytes = BODY, now: float = NOW) -> int:
    sent, _ = verify(SECRET.encode(), timestamp, header, body, now)
    return sent


def test_the_modules_signature_is_accepted_and_dates_the_call() -> None:
    header = sign(SECRET, str(NOW), BODY)
    assert header == "sha256=" + signature(SECRET.encode(), str(NOW), BODY)
    assert checked(header) == NOW
    assert checked(header.upper().replace("SHA256=", "sha256=")) == NOW  # hex digits in either case


@pytest.mark.parametrize(
    ("header", "timestamp", "body", "reason"),
    [
        (None, str(NOW), BODY, "missing X-KubeDC-Signature header"),
        (sign(SECRET, str(NOW), BODY), None, BODY, "missing X-KubeDC-Timestamp header"),
        (sign(SECRET, str(NOW), BODY), "2026-11-29T12:00:00Z", BODY, "must be Unix seconds"),
        (sign(SECRET, str(NOW), BODY).replace("sha256=", "sha1="), str(NOW), BODY, "must be sha256=<64 hex digits>"),
        ("sha256=zz", str(NOW), BODY, "must be sha256=<64 hex digits>"),
        ("sha256=" + "ab" * 31, str(NOW), BODY, "must be sha256=<64 hex digits>"),
        (sign("other", str(NOW), BODY), str(NOW), BODY, "signature does not match"),
        (sign(SECRET, str(NOW), BODY), str(NOW), BODY + b" ", "signature does not match"),
        (sign(SECRET, str(NOW), BODY), str(NOW + 1), BODY, "signature does not match"),
    ],
)
def test_anything_but_the_exact_signed_bytes_is_refused(
    header: str | None, timestamp: str | None, body: bytes, reason: str
) -> None:
    with pytest.raises(SignatureRejected, match=reason.replace("(", r"\(").replace(")", r"\)")):
        checked(header, timestamp, body)


def test_the_window_is_five_minutes_back_and_a_small_skew_ahead() -> None:
    header = sign(SECRET, str(NOW), BODY)
    assert checked(header, now=NOW + TOLERANCE_SECONDS) == NOW
    with pytest.raises(SignatureRejected, match="too old: signed 301 s ago"):
        checked(header, now=NOW + TOLERANCE_SECONDS + 1)
    assert checked(header, now=NOW - FUTURE_SKEW_SECONDS) == NOW
    with pytest.raises(SignatureRejected, match="from the future: dated 31 s ahead"):
        checked(header, now=NOW - FUTURE_SKEW_SECONDS - 1)


def test_a_signature_is_claimed_once_until_it_leaves_the_window() -> None:
    guard = ReplayGuard()
    assert guard.claim(b"a", NOW, NOW)
    assert not guard.claim(b"a", NOW, NOW + 10)
    assert guard.claim(b"b", NOW, NOW + 10)
    guard.release(b"b")  # its request was not applied: the same bytes may come again
    assert guard.claim(b"b", NOW, NOW + 11)
    assert guard.claim(b"c", NOW + TOLERANCE_SECONDS, NOW + TOLERANCE_SECONDS + 1)
    assert len(guard) == 1  # a and b were forgotten once they could no longer pass the window
