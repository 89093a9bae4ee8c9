"""The billing API's real neighbours: Keycloak's tokens carry the claims the API relies on, stripe-mock checks calls.

Tokens are verified the way the API will: RS256 only, key from the realm's JWKS, audience billing-api.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import jwt
import pytest

from localcluster.keycloak import AUDIENCE, CLIENT_ID, Keycloak, demo_users
from localcluster.oidc import TokenError, password_token
from localcluster.stripe_mock import TEST_API_KEY, StripeMock

# The first test here pays for Keycloak's start: 46-170 s measured on 2 cores busy with other builds.
pytestmark = pytest.mark.timeout(420)

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_json(url: str) -> dict[str, Any]:
    with _OPENER.open(url, timeout=10) as resp:
        answer: dict[str, Any] = json.loads(resp.read())
        return answer


def verified_claims(keycloak: Keycloak, username: str) -> dict[str, Any]:
    """Log in as a demo user and verify the access token against the realm's published keys."""
    token = password_token(keycloak.issuer, CLIENT_ID, username, demo_users()[username])
    discovery = _get_json(f"{keycloak.issuer}/.well-known/openid-configuration")
    assert discovery["issuer"] == keycloak.issuer
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuer=keycloak.issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    return claims


def test_org_admin_token_has_org_namespaces_and_group(keycloak: Keycloak) -> None:
    claims = verified_claims(keycloak, "acme-admin")
    assert claims["preferred_username"] == "acme-admin"
    assert claims["azp"] == CLIENT_ID
    assert claims["org"] == "acme"
    assert claims["namespaces"] == ["acme", "acme-dev"]
    assert "org-admin" in claims["groups"]


def test_project_user_token_has_one_namespace_and_no_admin_group(keycloak: Keycloak) -> None:
    claims = verified_claims(keycloak, "acme-dev")
    assert claims["org"] == "acme"
    assert claims["namespaces"] == ["acme-dev"]
    assert "org-admin" not in claims.get("groups", [])


def test_guest_token_has_no_org(keycloak: Keycloak) -> None:
    claims = verified_claims(keycloak, "guest")
    assert claims["preferred_username"] == "guest"
    assert "org" not in claims
    assert not claims.get("namespaces")


def test_wrong_password_is_refused(keycloak: Keycloak) -> None:
    with pytest.raises(TokenError) as refused:
        password_token(keycloak.issuer, CLIENT_ID, "acme-admin", "not-the-password")
    assert refused.value.status == 401
    assert refused.value.error == "invalid_grant"


def test_token_for_another_audience_is_rejected(keycloak: Keycloak) -> None:
    """The audience check is what keeps a token minted for another API out of the billing API."""
    token = password_token(keycloak.issuer, CLIENT_ID, "acme-admin", demo_users()["acme-admin"])
    key = jwt.PyJWKClient(f"{keycloak.issuer}/protocol/openid-connect/certs").get_signing_key_from_jwt(token)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key, algorithms=["RS256"], audience="some-other-api", issuer=keycloak.issuer)


def test_loopback_redirect_on_any_port_is_accepted_and_others_are_not(keycloak: Keycloak) -> None:
    """`http://127.0.0.1/*` in the realm covers every loopback port (Keycloak ignores it for loopback)."""

    def authorize(redirect_uri: str) -> int:
        query = urllib.parse.urlencode(
            {
                "client_id": CLIENT_ID,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": redirect_uri,
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            }
        )
        try:
            with _OPENER.open(f"{keycloak.issuer}/protocol/openid-connect/auth?{query}", timeout=10) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert authorize("http://127.0.0.1:5173/callback") == 200  # the login page
    assert authorize("http://localhost:8080/") == 200
    assert authorize("http://evil.example.com/callback") == 400


def _stripe_post(stripe_mock: StripeMock, path: str, params: list[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{stripe_mock.api_base}{path}",
        data=urllib.parse.urlencode(params).encode(),
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=10) as resp:
            return int(resp.status), json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


CHECKOUT = [
    ("mode", "subscription"),
    ("success_url", "http://127.0.0.1:8000/billing/success"),
    ("cancel_url", "http://127.0.0.1:8000/billing/cancel"),
    ("line_items[0][price]", "price_123"),
    ("line_items[0][quantity]", "1"),
    ("client_reference_id", "acme"),
]


def test_stripe_mock_accepts_a_valid_checkout_session(stripe_mock: StripeMock) -> None:
    status, body = _stripe_post(stripe_mock, "/v1/checkout/sessions", CHECKOUT)
    assert status == 200, body
    assert body["object"] == "checkout.session"


def test_stripe_mock_rejects_an_unknown_parameter(stripe_mock: StripeMock) -> None:
    status, body = _stripe_post(stripe_mock, "/v1/checkout/sessions", [*CHECKOUT, ("no_such_parameter", "x")])
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
