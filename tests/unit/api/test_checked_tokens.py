"""Checked tokens are remembered until they expire, one entry per token, and a bounded number of them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest

from orgquota.api import auth
from orgquota.api.auth import LEEWAY_SECONDS, Caller, TokenVerifier
from orgquota.api.envelope import ApiError
from orgquota.api.keys import KeySet
from tests.support.oidc import AUDIENCE, Issuer


def _verifier(issuer: Issuer) -> TokenVerifier:
    return TokenVerifier(KeySet(issuer.url), issuer.url, AUDIENCE)


def _caller(verifier: TokenVerifier, token: str) -> Caller:
    return asyncio.run(verifier.caller(f"Bearer {token}"))


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    return decoded


def test_a_remembered_token_is_refused_once_it_expires(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = _verifier(issuer)
    expires = int(time.time()) - LEEWAY_SECONDS + 2  # accepted (with the leeway) for another second or two
    token = issuer.token(org="acme", groups=["org-admin"], iat=expires - 60, exp=expires)
    decoded = _counting_decodes(monkeypatch)
    assert _caller(verifier, token).org == "acme"
    assert _caller(verifier, token).org == "acme"
    assert len(decoded) == 1  # the second time remembered
    while time.time() < expires + LEEWAY_SECONDS:
        time.sleep(0.1)
    with pytest.raises(ApiError) as refused:
        _caller(verifier, token)
    assert (refused.value.status, refused.value.message) == (401, "the token has expired")
    assert len(decoded) == 2  # checked again, not answered from memory


def test_another_token_is_checked_on_its_own(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = _verifier(issuer)
    acme = issuer.token(org="acme", groups=["org-admin"])
    beta = issuer.token(org="beta", groups=["org-admin"])
    decoded = _counting_decodes(monkeypatch)
    assert _caller(verifier, acme).org == "acme"
    assert _caller(verifier, beta).org == "beta"
    assert _caller(verifier, acme).org == "acme"
    assert decoded == [acme, beta]
    header, payload, signature = acme.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    with pytest.raises(ApiError) as refused:
        _caller(verifier, tampered)  # the same claims as a remembered token, not its signature
    assert refused.value.status == 401


def test_the_number_remembered_is_bounded(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "CHECKED_TOKENS", 3)
    verifier = _verifier(issuer)
    tokens = [issuer.token(org=f"org-{n}", groups=["org-admin"]) for n in range(5)]
    decoded = _counting_decodes(monkeypatch)
    for token in tokens:
        _caller(verifier, token)
    assert len(verifier._checked) == 3
    _caller(verifier, tokens[-1])  # among the last three: remembered
    _caller(verifier, tokens[0])  # the oldest: forgotten, checked again
    assert decoded == [*tokens, tokens[0]]


def test_a_remembered_token_is_refused_once_its_key_is_withdrawn(issuer: Issuer) -> None:
    """The issuer withdraws a signing key (revoked, or rotated out): at the next fetch of its key set, a
    token that key signed is refused, though it was checked and remembered before and has not expired."""
    key = issuer.add_ec_key("key-ec")
    verifier = _verifier(issuer)
    token = issuer.token(org="acme", groups=["org-admin"], kid="key-ec", key=key, alg="ES256")
    other = issuer.token(org="acme", groups=["org-admin"])
    assert _caller(verifier, token).org == "acme"
    assert _caller(verifier, other).org == "acme"
    del issuer.keys["key-ec"]
    asyncio.run(verifier.keys.refresh())
    with pytest.raises(ApiError) as refused:
        _caller(verifier, token)
    assert refused.value.status == 401
    assert "'key-ec' is not one of the issuer's signing keys" in refused.value.message
    assert _caller(verifier, other).org == "acme"  # a token of a key still published stays remembered
