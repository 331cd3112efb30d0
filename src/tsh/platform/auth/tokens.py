"""Access tokens (JWT, HS256) and opaque refresh / one-time tokens (core.md §1).

Decoding is on every request's path, so it stays pure CPU: no database here. Whether the session
is still alive and the permission version current is checked afterwards by
`tsh.domain.identity.principal.resolve_principal`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt

from tsh.config import Settings
from tsh.platform.errors import Unauthorized

ALGORITHM = "HS256"
ACCESS = "access"
# branch_id is required too but may be null, which PyJWT's "require" would refuse: checked below.
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "typ", "role", "sid", "pv"]
# Instances of one deployment may disagree on the time by a few seconds; a token issued "in
# the future" by that much is still ours. Expiry gets no such grace.
_IAT_SKEW_S = 30


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    role: str
    branch_id: int | None
    session_id: int
    permission_version: int
    issued_at: int
    expires_at: int


def encode_access_token(
    settings: Settings,
    *,
    user_id: int,
    role: str,
    branch_id: int | None,
    session_id: int,
    permission_version: int,
    ttl_s: int,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "role": role,
        "branch_id": branch_id,
        "sid": session_id,
        "pv": permission_version,
        "typ": ACCESS,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def _invalid() -> Unauthorized:
    return Unauthorized("The access token is invalid", code="INVALID_TOKEN")


def _int_claim(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    # bool is an int in Python; a token saying `"sid": true` is not ours.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid()
    return value


def _optional_int_claim(payload: dict[str, Any], name: str) -> int | None:
    return None if payload.get(name) is None else _int_claim(payload, name)


# Tokens already verified, by (key, audience, issuer, token): a phone sends the same token for
# 15 minutes, and verifying it (HMAC key preparation, base64, JSON, claim checks) was about an
# eighth of a cached screen's cost. Only the expiry changes with time, so a hit re-checks it; the
# session and permission version are checked by the authenticator on every request anyway.
_VERIFIED: OrderedDict[tuple[str, str, str, str], AccessClaims] = OrderedDict()
_VERIFIED_MAX = 8192


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature, issuer, audience, expiry and type; 401 TOKEN_EXPIRED or INVALID_TOKEN.

    The algorithm list is pinned, so `alg: none` and tokens signed with any other algorithm
    (HS512, RS256 with the secret as a "public key") are refused whatever the header says.
    """
    memo_key = (settings.secret_key, settings.jwt_audience, settings.jwt_issuer, token)
    claims = _VERIFIED.get(memo_key)
    if claims is not None:
        if claims.expires_at <= time.time():
            del _VERIFIED[memo_key]
            raise Unauthorized("The access token has expired", code="TOKEN_EXPIRED")
        return claims
    claims = _verify_access_token(settings, token)
    _VERIFIED[memo_key] = claims
    if len(_VERIFIED) > _VERIFIED_MAX:
        _VERIFIED.popitem(last=False)
    return claims


def _verify_access_token(settings: Settings, token: str) -> AccessClaims:
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": _REQUIRED_CLAIMS, "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired", code="TOKEN_EXPIRED") from None
    except jwt.PyJWTError:
        raise _invalid() from None

    if payload.get("typ") != ACCESS or "branch_id" not in payload:
        raise _invalid()
    sub, role = payload.get("sub"), payload.get("role")
    if not isinstance(sub, str) or not sub.isdecimal() or not isinstance(role, str) or not role:
        raise _invalid()
    issued_at = _int_claim(payload, "iat")
    if issued_at > time.time() + _IAT_SKEW_S:
        raise _invalid()
    return AccessClaims(
        user_id=int(sub),
        role=role,
        branch_id=_optional_int_claim(payload, "branch_id"),
        session_id=_int_claim(payload, "sid"),
        permission_version=_int_claim(payload, "pv"),
        issued_at=issued_at,
        expires_at=_int_claim(payload, "exp"),
    )


def new_opaque_token() -> str:
    """256 random bits, URL-safe: refresh tokens, password reset and setup links."""
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    """SHA-256 hex. A fast hash is enough: the token has 256 bits of entropy, nothing to brute-force."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_refresh_token() -> str:
    return new_opaque_token()


def hash_refresh_token(token: str) -> str:
    return hash_opaque_token(token)
