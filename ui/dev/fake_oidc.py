"""The fake API's OIDC issuer: signs everyone in at once, so the page's real sign-in code runs.

Authorization code + PKCE as the page does it; the code carries the nonce, the tokens are unsigned
JWTs (the page never verifies signatures; the real API does, and this is not it).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

USERS = {"admin": "alice", "project": "bob", "guest": "guest"}


def b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def discovery(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/auth",
        "token_endpoint": f"{issuer}/token",
        "end_session_endpoint": f"{issuer}/logout",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }


def authorize_redirect(query: dict[str, str]) -> str:
    """Straight back to the page with a code, as if the user had signed in."""
    code = b64({"nonce": query.get("nonce")})
    sep = "&" if "?" in query["redirect_uri"] else "?"
    return f"{query['redirect_uri']}{sep}code={code}&state={query['state']}"


def tokens(issuer: str, form: dict[str, str], role: str) -> dict[str, Any]:
    nonce = json.loads(base64.urlsafe_b64decode(form.get("code", "e30") + "==")).get("nonce")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": form.get("client_id", "kube-dc"),
        "sub": f"{role}-user",
        "iat": now,
        "exp": now + 3600,
        "preferred_username": USERS[role],
    }
    if nonce:
        claims["nonce"] = nonce
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.fake"
    return {
        "access_token": token,
        "id_token": token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "openid profile",
    }
