"""Bearer token → Principal on every request, cheaply.

The token is verified locally (signature, exp, iss, aud, typ). The session/user state that can
revoke it (logout, disabling, role or permission change) is read from the database once and
kept in the screen cache under the user's SessionChanged / UserChanged / UserRoleChanged tags,
so those events drop it in every process and the next request re-reads the database.
"""

from __future__ import annotations

import dataclasses

import orjson

from tsh.config import Settings
from tsh.platform.auth.principal import Principal
from tsh.platform.auth.tokens import AccessClaims, decode_access_token
from tsh.platform.cache.backend import CacheBackend
from tsh.platform.cache.tags import entry_tags
from tsh.platform.cache.values import cached_value
from tsh.platform.db.engine import Database
from tsh.platform.errors import Unauthorized

PRINCIPAL_TTL_S = 60
PRINCIPAL_EVENTS = ("SessionChanged", "UserChanged", "UserRoleChanged")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Authentication required", code="AUTH_REQUIRED")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Malformed Authorization header", code="INVALID_TOKEN")
    return token.strip()


class Authenticator:
    def __init__(self, settings: Settings, db: Database, cache: CacheBackend) -> None:
        self._settings = settings
        self._db = db
        self._cache = cache

    async def authenticate(self, authorization: str | None) -> Principal:
        claims = decode_access_token(self._settings, bearer_token(authorization))

        async def resolve() -> str:
            return orjson.dumps(_to_json(await self._resolve(claims))).decode()

        principal = _from_json(
            await cached_value(
                self._cache,
                f"principal:{claims.session_id}",
                ttl_s=PRINCIPAL_TTL_S,
                tags=entry_tags(PRINCIPAL_EVENTS, f"user:{claims.user_id}"),
                compute=resolve,
                category="principal",
            )
        )
        if principal.permission_version != claims.permission_version:
            # An older token (401 TOKEN_EXPIRED from the database check) or an entry that its
            # invalidation has not reached yet: the database decides.
            principal = await self._resolve(claims)
        return principal

    async def _resolve(self, claims: AccessClaims) -> Principal:
        from tsh.domain.identity.service import resolve_principal

        async with self._db.session() as session:
            return await resolve_principal(session, self._settings, claims)


def _from_json(raw: str) -> Principal:
    data = orjson.loads(raw)
    data["permissions"] = frozenset(data["permissions"])
    return Principal(**data)


def _to_json(principal: Principal) -> dict[str, object]:
    data = dataclasses.asdict(principal)
    data["permissions"] = sorted(principal.permissions)
    return data
