"""A local OIDC issuer's key publishing for tests: a discovery document and a JWKS served over HTTP
on loopback, and tokens signed with its keys (RS256, or ES256 for an added key)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "billing-api"


class Issuer:
    """An OIDC issuer's key publishing, on a free loopback port; `up = False` makes it fail."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self.keys: dict[str, Any] = {self.kid: self.rsa}
        self.up = True
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not issuer.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                if self.path.endswith("/.well-known/openid-configuration"):
                    certs = issuer.url + "/protocol/openid-connect/certs"
                    body: dict[str, Any] = {"issuer": issuer.url, "jwks_uri": certs}
                elif self.path.endswith("/certs"):
                    issuer.fetches += 1
                    body = {"keys": [issuer.jwk(kid, key) for kid, key in issuer.keys.items()]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/realms/kube-dc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def jwk(kid: str, key: Any) -> dict[str, Any]:
        if isinstance(key, rsa.RSAPrivateKey):
            data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            data["alg"] = "RS256"
        else:
            data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
            data["alg"] = "ES256"
        return {**data, "kid": kid, "use": "sig"}

    def add_ec_key(self, kid: str) -> Any:
        key = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = key
        return key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, kid: str | None = None, key: Any = None, alg: str = "RS256", **claims: Any) -> str:
        return jwt.encode(self.claims(**claims), key or self.rsa, algorithm=alg, headers={"kid": kid or self.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
