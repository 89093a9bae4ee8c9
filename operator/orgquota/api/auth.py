"""Who is calling: the bearer token checked against the issuer's keys, and the rights it carries.

Algorithms are a fixed list of asymmetric ones, never taken from the token's header (so `none`
and an HS256 token "signed" with the public RSA key are refused); `iss`, `aud`, `exp` and `iat`
are required and checked with 30 s of leeway for clocks. Checked tokens are remembered until
they expire: the signature of a token is verified once, not on every request it is sent with.
"""

from __future__ import annotations

import contextvars
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Final

import jwt
from fastapi import Depends, Request

from orgquota.api.envelope import ApiError
from orgquota.api.keys import KeySet, KeysUnavailable, UnknownKey

ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS: Final = 30
ORG_ADMIN_GROUP: Final = "org-admin"
CHECKED_TOKENS: Final = 10_000
"""how many checked tokens are remembered (each until it expires)"""

CURRENT_ORGANIZATION: contextvars.ContextVar[str] = contextvars.ContextVar("organization", default="")
"""the caller's organization, for the log lines of the request"""


class Role(StrEnum):
    ORG_ADMIN = "org-admin"
    PROJECT_USER = "project-user"
    GUEST = "guest"


@dataclass(frozen=True)
class Caller:
    subject: str
    org: str
    namespaces: tuple[str, ...]
    groups: tuple[str, ...]
    sub: str = ""
    """the token's `sub` (for the audit trail: `subject` prefers the readable name)"""
    username: str = ""
    """the token's `preferred_username`"""
    expires: float = 0.0
    """the token's `exp` (Unix seconds; 0: unknown): an event stream ends there"""

    @property
    def role(self) -> Role:
        if self.org and ORG_ADMIN_GROUP in self.groups:
            return Role.ORG_ADMIN
        if self.namespaces:
            return Role.PROJECT_USER
        return Role.GUEST

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Caller:
        org = claims.get("org", "")
        if not isinstance(org, str):
            raise _unauthorized("the token's org claim must be a string")
        return cls(
            subject=str(claims.get("preferred_username") or claims.get("sub") or ""),
            org=org.strip(),
            namespaces=_strings(claims, "namespaces"),
            groups=tuple(group.removeprefix("/") for group in _strings(claims, "groups")),
            sub=str(claims.get("sub") or ""),
            username=str(claims.get("preferred_username") or ""),
            expires=float(claims["exp"]) if isinstance(claims.get("exp"), int | float) else 0.0,
        )


def _strings(claims: dict[str, Any], name: str) -> tuple[str, ...]:
    value = claims.get(name, [])
    if isinstance(value, str):  # a single-valued attribute mapper writes a string
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _unauthorized(f"the token's {name} claim must be a list of strings")
    return tuple(item for item in value if item)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": 'Bearer realm="billing-api"'})


class TokenVerifier:
    def __init__(self, keys: KeySet, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self._checked: OrderedDict[bytes, tuple[float, str, Caller]] = OrderedDict()
        """checked tokens by digest: until when they hold, the id of the key that signed them, the caller"""

    async def caller(self, authorization: str | None) -> Caller:
        token = _bearer(authorization)
        digest = hashlib.blake2b(token.encode(), digest_size=16).digest()
        known = self._checked.get(digest)
        if known is not None and time.time() < known[0] and self.keys.publishes(known[1]):
            return known[2]
        claims, kid = await self._verify(token)
        caller = Caller.from_claims(claims)
        self._checked[digest] = (float(claims["exp"]) + LEEWAY_SECONDS, kid, caller)
        while len(self._checked) > CHECKED_TOKENS:
            self._checked.popitem(last=False)
        return caller

    async def _verify(self, token: str) -> tuple[dict[str, Any], str]:
        """The token's claims and the id of the key that signed it; ApiError 401 (503) when it cannot pass."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise _unauthorized(f"the bearer token is not a JWT: {exc}") from exc
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise _unauthorized(
                f"the token's algorithm {alg!r} is not accepted (only asymmetric signatures: {', '.join(ALGORITHMS)})"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _unauthorized("the token's header has no key id (kid)")
        try:
            key = await self.keys.key(kid)
        except UnknownKey as exc:
            raise _unauthorized(str(exc)) from exc
        except KeysUnavailable as exc:
            raise ApiError(503, f"cannot check tokens now: {exc}") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise _unauthorized(f"the token is not meant for this API (aud must include {self.audience!r})") from exc
        except jwt.InvalidIssuerError as exc:
            raise _unauthorized(f"the token was not issued by {self.issuer}") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise _unauthorized(f"the token has no {exc.claim} claim") from exc
        except jwt.InvalidSignatureError as exc:
            raise _unauthorized("the token's signature does not verify") from exc
        except jwt.InvalidTokenError as exc:
            raise _unauthorized(f"the token is invalid: {exc}") from exc
        return claims, kid


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise _unauthorized("authentication required: send Authorization: Bearer <token>")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def _check(request: Request) -> Caller:
    verifier: TokenVerifier = request.app.state.verifier
    caller = await verifier.caller(request.headers.get("authorization"))
    CURRENT_ORGANIZATION.set(caller.org)
    request.state.caller = caller
    return caller


async def authenticated(request: Request) -> Caller:
    """The caller of any route: a valid token, whatever its rights."""
    return await _check(request)


async def org_admin(request: Request) -> Caller:
    """The caller of an organization-wide route: an org-admin of the token's organization. (Not a
    sub-dependency of `authenticated`: every dependency level costs FastAPI time on every request.)"""
    caller = await _check(request)
    if caller.role != Role.ORG_ADMIN:
        raise ApiError(
            403,
            f"organization administrators only (the token's groups must include {ORG_ADMIN_GROUP!r} "
            "and it must name an org)",
            {"role": caller.role.value, "organization": caller.org or None},
        )
    return caller


AnyCaller = Annotated[Caller, Depends(authenticated)]
OrgAdmin = Annotated[Caller, Depends(org_admin)]
