"""Every way a token can be wrong gets 401 (or 503 when no key can be had), in the envelope."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from tests.support.envelope import assert_error
from tests.support.oidc import Issuer, bearer

ROUTE = "/api/billing/config"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_token_passes(client: TestClient, admin: dict[str, str]) -> None:
    assert client.get(ROUTE, headers=admin).json()["success"] is True


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, ["authentication required"]),
        ({"Authorization": "Basic dXNlcjpwdw=="}, ["Bearer <token>"]),
        ({"Authorization": "Bearer"}, ["Bearer <token>"]),
        ({"Authorization": "Bearer not-a-jwt"}, ["not a JWT"]),
    ],
)
def test_missing_or_malformed_token(client: TestClient, headers: dict[str, str], words: list[str]) -> None:
    response = client.get(ROUTE, headers=headers)
    assert_error(response, 401, *words)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token(client: TestClient, issuer: Issuer) -> None:
    now = int(time.time())
    token = issuer.token(org="acme", groups=["org-admin"], iat=now - 600, exp=now - 31)
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, "expired")


def test_expiry_has_30_seconds_of_leeway(client: TestClient, issuer: Issuer) -> None:
    now = int(time.time())
    token = issuer.token(org="acme", groups=["org-admin"], iat=now - 600, exp=now - 20)
    assert client.get(ROUTE, headers=bearer(token)).status_code == 200


def test_unsigned_token_alg_none(client: TestClient, issuer: Issuer) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.kid})}.{_b64(issuer.claims(org='acme'))}."
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, "'none' is not accepted")


def test_hs256_signed_with_the_rsa_public_key(client: TestClient, issuer: Issuer) -> None:
    """The classic confusion: the public key (which anyone has) used as an HMAC secret."""
    public_pem = issuer.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.kid})}.{_b64(issuer.claims(org='acme'))}"
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    token = signing_input + "." + signature.rstrip(b"=").decode()
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, "'HS256' is not accepted")


def test_signed_by_another_key_with_a_known_kid(client: TestClient, issuer: Issuer) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = issuer.token(key=forger, org="acme")
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, "signature does not verify")


def test_wrong_issuer(client: TestClient, issuer: Issuer) -> None:
    token = issuer.token(iss="https://evil.example/realms/kube-dc")
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, "not issued by", issuer.url)


def test_wrong_audience(client: TestClient, issuer: Issuer) -> None:
    token = issuer.token(aud="another-api")
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, "aud must include 'billing-api'")


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud"])
def test_required_claims(client: TestClient, issuer: Issuer, claim: str) -> None:
    overrides: dict[str, Any] = {claim: None}
    token = issuer.token(**overrides)
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, claim)


def test_bad_claim_types(client: TestClient, issuer: Issuer) -> None:
    assert_error(client.get(ROUTE, headers=bearer(issuer.token(namespaces=[1]))), 401, "namespaces claim")
    assert_error(client.get(ROUTE, headers=bearer(issuer.token(org=["acme"]))), 401, "org claim")


def test_unknown_kid_is_refetched_once_then_refused(client: TestClient, issuer: Issuer, admin: dict[str, str]) -> None:
    assert client.get(ROUTE, headers=admin).status_code == 200  # the key set is known
    token = issuer.token(kid="nobody-knows")
    before = issuer.fetches
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, "'nobody-knows' is not one of the issuer's")
    assert_error(client.get(ROUTE, headers=bearer(token)), 401, "'nobody-knows'")
    assert issuer.fetches - before == 1  # the cooldown: a flood of unknown kids is one fetch, not one each


def test_rotated_key_is_fetched_when_first_seen(settings: ApiSettings, cluster: Cluster, issuer: Issuer) -> None:
    with TestClient(create_app(settings, cluster)) as client:
        assert client.get(ROUTE, headers=bearer(issuer.token())).status_code == 200
        key = issuer.add_ec_key("key-ec")
        try:
            token = issuer.token(kid="key-ec", key=key, alg="ES256")
            assert client.get(ROUTE, headers=bearer(token)).status_code == 200
        finally:
            del issuer.keys["key-ec"]


def test_known_keys_keep_working_while_the_issuer_is_down(
    settings: ApiSettings, cluster: Cluster, issuer: Issuer
) -> None:
    with TestClient(create_app(settings, cluster)) as client:
        assert client.get(ROUTE, headers=bearer(issuer.token())).status_code == 200
        issuer.up = False
        try:
            assert client.get(ROUTE, headers=bearer(issuer.token(sub="another"))).status_code == 200
        finally:
            issuer.up = True


def test_503_while_no_key_was_ever_fetched(cluster: Cluster, issuer: Issuer) -> None:
    issuer.up = False
    try:
        settings = ApiSettings.from_env({"OIDC_ISSUER_URL": issuer.url})
        with TestClient(create_app(settings, cluster)) as client:
            response = client.get(ROUTE, headers=bearer(issuer.token()))
            assert_error(response, 503, "cannot check tokens now", "cannot be read")
    finally:
        issuer.up = True


def test_checked_tokens_are_not_verified_again(client: TestClient, issuer: Issuer, monkeypatch: Any) -> None:
    token = bearer(issuer.token(org="acme", groups=["org-admin"]))
    assert client.get(ROUTE, headers=token).status_code == 200
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: pytest.fail("verified twice"))
    assert client.get(ROUTE, headers=token).status_code == 200
