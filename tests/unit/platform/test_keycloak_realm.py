"""The realm file the local Keycloak imports: the client and mappers the billing API's token checks rely on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcluster.keycloak import AUDIENCE, CLIENT_ID, REALM, REALM_FILE, KeycloakError, demo_users, realm_with_origins


def _client(realm: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in realm["clients"] if c["clientId"] == CLIENT_ID)


def test_realm_file_is_named_after_its_realm() -> None:
    realm = json.loads(REALM_FILE.read_text())
    assert REALM_FILE.name == f"{realm['realm']}-realm.json" == f"{REALM}-realm.json"


def test_client_is_public_with_pkce_and_the_billing_audience() -> None:
    client = _client(json.loads(REALM_FILE.read_text()))
    assert client["publicClient"] is True
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    audiences = [
        m["config"]["included.custom.audience"]
        for m in client["protocolMappers"]
        if m["protocolMapper"] == "oidc-audience-mapper"
    ]
    assert audiences == [AUDIENCE]


def test_demo_users_have_passwords() -> None:
    assert set(demo_users()) == {"acme-admin", "acme-dev", "guest"}


def test_extra_origin_is_allowed_for_cors_and_redirects() -> None:
    client = _client(json.loads(realm_with_origins(REALM_FILE, ["http://127.0.0.1:5173"])))
    assert "http://127.0.0.1:5173" in client["webOrigins"]
    assert "http://127.0.0.1:5173/*" in client["redirectUris"]


@pytest.mark.parametrize("origin", ["127.0.0.1:5173", "http://127.0.0.1:5173/app", "ftp://host"])
def test_origin_with_a_path_or_without_a_scheme_is_refused(origin: str) -> None:
    with pytest.raises(KeycloakError, match="web origin"):
        realm_with_origins(REALM_FILE, [origin])
