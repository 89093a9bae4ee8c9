"""The issuer's signing keys: fetched with PyJWT's `PyJWKClient`, kept, and refetched sparingly.

PyJWKClient is synchronous (urllib), so every fetch runs in a thread and one at a time: the
event loop never waits for the issuer. Keys are refreshed when older than `lifespan`, and
once (at most every `cooldown` seconds) when a token names a key id that is not known, which
is how a key rotation arrives. Keys once fetched keep working while the issuer is away: only
an API that never had a key set cannot check anything (503).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from typing import Final

import jwt
from jwt import PyJWK, PyJWKClient

logger = logging.getLogger(__name__)

FETCH_TIMEOUT: Final = 5.0


class KeysUnavailable(Exception):
    """No key set could be had: the token cannot be checked at all (the API answers 503)."""


class UnknownKey(Exception):
    """The token names a key the issuer does not publish (the API answers 401)."""


def discover_jwks_uri(issuer: str) -> str:
    """`jwks_uri` of the issuer's discovery document (blocking: call it in a thread)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:
            document = json.load(response)
    except (OSError, ValueError) as exc:
        raise KeysUnavailable(f"the issuer's discovery document {url} cannot be read: {exc}") from exc
    uri = document.get("jwks_uri") if isinstance(document, dict) else None
    if not isinstance(uri, str) or not uri:
        raise KeysUnavailable(f"the issuer's discovery document {url} has no jwks_uri")
    return uri


class KeySet:
    def __init__(
        self, issuer: str, jwks_uri: str | None = None, *, lifespan: float = 300.0, cooldown: float = 30.0
    ) -> None:
        self._issuer = issuer
        self._uri = jwks_uri
        self._client: PyJWKClient | None = None
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = -float("inf")
        self._missed_at = -float("inf")
        self._tried_at = -float("inf")
        self._background: set[asyncio.Task[None]] = set()
        self._lifespan = lifespan
        self._cooldown = cooldown
        self._lock = asyncio.Lock()
        self.last_error = ""

    @property
    def fetched(self) -> bool:
        return self._fetched_at > -float("inf")

    async def key(self, kid: str) -> PyJWK:
        """The key with id `kid`. A key set older than `lifespan` is refreshed in the background (the
        known keys answer meanwhile); an unknown `kid` waits for one refetch, at most every `cooldown`."""
        found = self._keys.get(kid)
        if found is not None:
            self._refresh_if_old()
            return found
        async with self._lock:  # one fetch at a time; the others then find its result
            now = time.monotonic()
            if kid not in self._keys and now - self._missed_at >= self._cooldown:
                self._missed_at = now  # a flood of unknown key ids costs one fetch per cooldown
                await self._refresh()
        found = self._keys.get(kid)
        if found is not None:
            return found
        if not self.fetched:
            raise KeysUnavailable(f"the issuer's signing keys cannot be fetched: {self.last_error}")
        raise UnknownKey(f"the token's key id {kid!r} is not one of the issuer's signing keys")

    def publishes(self, kid: str) -> bool:
        """Whether the key set as last fetched has `kid` (refreshed in the background like `key`): a
        token checked before is trusted again only while its key is still published."""
        if kid not in self._keys:
            return False
        self._refresh_if_old()
        return True

    def _refresh_if_old(self) -> None:
        now = time.monotonic()
        if now - self._fetched_at > self._lifespan and now - self._tried_at >= self._cooldown:
            self._tried_at = now
            task = asyncio.get_running_loop().create_task(self.refresh())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def refresh(self) -> None:
        """Fetch the key set now (at start, so the first request does not wait for it)."""
        async with self._lock:
            await self._refresh()

    async def _refresh(self) -> None:
        try:
            keys = await asyncio.to_thread(self._fetch)
        except (KeysUnavailable, jwt.PyJWKClientError, jwt.exceptions.PyJWKSetError) as exc:
            self.last_error = str(exc)
            level = logging.WARNING if self.fetched else logging.ERROR
            logger.log(
                level,
                "cannot fetch the issuer's signing keys (%s)%s",
                exc,
                "; the known keys stay in use" * self.fetched,
            )
            return
        self._keys = keys
        self._fetched_at = time.monotonic()
        self.last_error = ""

    def _fetch(self) -> dict[str, PyJWK]:
        if self._client is None:
            uri = self._uri or discover_jwks_uri(self._issuer)
            self._client = PyJWKClient(uri, cache_jwk_set=False, timeout=FETCH_TIMEOUT)
        key_set = self._client.get_jwk_set(refresh=True)
        # Asymmetric signing keys only: a symmetric ("oct") key in a public set would let anyone sign.
        return {
            key.key_id: key
            for key in key_set.keys
            if key.key_id and key.key_type in ("RSA", "EC", "OKP") and key.public_key_use in (None, "sig")
        }
