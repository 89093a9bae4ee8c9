"""The WHMCS module's request signature: HMAC-SHA256 of `<timestamp>.<raw body>`, fresh, used once.

The module sends `X-KubeDC-Timestamp: <Unix seconds>` and `X-KubeDC-Signature: sha256=<hex>`.
The signature is checked on the raw bytes before anything is parsed, in constant time. A request
older than `TOLERANCE_SECONDS`, or dated more than `FUTURE_SKEW_SECONDS` ahead (clocks of two
hosts differ a little, never by minutes), is refused, so a captured request is worthless after
five minutes; within them, `ReplayGuard` accepts each signature once per API process.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

SIGNATURE_HEADER: Final = "X-KubeDC-Signature"
TIMESTAMP_HEADER: Final = "X-KubeDC-Timestamp"
SCHEME: Final = "sha256="
TOLERANCE_SECONDS: Final = 300
FUTURE_SKEW_SECONDS: Final = 30
_MAX_TIMESTAMP_DIGITS: Final = 12


class SignatureRejected(Exception):
    """The request is not provably from the WHMCS module, or no longer fresh (answered 401)."""


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 the module sends, of `<timestamp>.<body>` under the shared secret."""
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str | None, header: str | None, body: bytes, now: float) -> tuple[int, bytes]:
    """The request's timestamp (provider time, Unix seconds) and signature digest, if it is genuine and
    fresh at `now`; otherwise SignatureRejected saying why."""
    if not header:
        raise SignatureRejected(f"missing {SIGNATURE_HEADER} header")
    if not timestamp:
        raise SignatureRejected(f"missing {TIMESTAMP_HEADER} header")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS):
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be Unix seconds (digits only)")
    if not header.startswith(SCHEME):
        raise SignatureRejected(f"{SIGNATURE_HEADER} must be {SCHEME}<64 hex digits>")
    try:
        given = bytes.fromhex(header.removeprefix(SCHEME))
    except ValueError:
        given = b""
    if len(given) != hashlib.sha256().digest_size:
        raise SignatureRejected(f"{SIGNATURE_HEADER} must be {SCHEME}<64 hex digits>")
    expected = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise SignatureRejected("signature does not match (secret, timestamp or body differ)")
    sent = int(timestamp)
    age = now - sent
    if age > TOLERANCE_SECONDS:
        raise SignatureRejected(f"request too old: signed {int(age)} s ago (at most {TOLERANCE_SECONDS} s)")
    if -age > FUTURE_SKEW_SECONDS:
        raise SignatureRejected(
            f"request from the future: dated {int(-age)} s ahead (clock skew of at most {FUTURE_SKEW_SECONDS} s)"
        )
    return sent, expected


class ReplayGuard:
    """Signatures accepted within the freshness window, so a copy of a request is refused.

    A signature is claimed while its request is handled and kept only if the request was applied;
    a request that failed (a 4xx of the body, a Kubernetes error) may be sent again as it was.
    Memory holds at most the requests of the last few minutes.
    """

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}
        """signature digest -> until when (Unix seconds) it could still pass the window"""

    def claim(self, digest: bytes, sent: int, now: float) -> bool:
        """True for a signature not seen (or claimed) before; it is then held until `release`d."""
        for old in [d for d, until in self._seen.items() if until < now]:
            del self._seen[old]
        if digest in self._seen:
            return False
        self._seen[digest] = sent + TOLERANCE_SECONDS
        return True

    def release(self, digest: bytes) -> None:
        """Forget a claimed signature (its request was not applied)."""
        self._seen.pop(digest, None)

    def __len__(self) -> int:
        return len(self._seen)
