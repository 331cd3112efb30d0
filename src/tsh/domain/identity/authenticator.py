"""Bearer token → Principal on every request, cheaply.

The token is verified locally (signature, exp, iss, aud, typ). The session/user state that can
revoke it (logout, disabling, role or permission change) is read from the database once and
kept in the screen cache under the user's SessionChanged / UserChanged / UserRoleChanged tags,
so those events drop it in every process and the next request re-reads the database.
"""

from __future__ import annotations

import dataclasses
import time

import orjson

from tsh.config import Settings
from tsh.platform.auth.principal import Principal
from tsh.platform.auth.tokens import decode_access_token
from tsh.platform.cache.backend import CacheBackend, CacheError, Entry
from tsh.platform.cache.tags import entry_tags
from tsh.platform.db.engine import Database
from tsh.platform.errors import Unauthorized
from tsh.platform.metrics import CACHE

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
        key = f"principal:{claims.session_id}"
        cached = await self._cached(key)
        if cached is not None and cached.permission_version == claims.permission_version:
            return cached
        from tsh.domain.identity.service import resolve_principal

        generation = await self._generation()
        async with self._db.session() as session:
            principal = await resolve_principal(session, self._settings, claims)
        if generation is not None:
            entry = Entry(orjson.dumps(_to_json(principal)), time.time(), "")
            tags = entry_tags(PRINCIPAL_EVENTS, f"user:{principal.user_id}")
            try:
                await self._cache.set(key, entry, PRINCIPAL_TTL_S, tags, generation)
            except CacheError:
                CACHE.labels("principal", "error").inc()
        return principal

    async def _cached(self, key: str) -> Principal | None:
        try:
            entry = await self._cache.get(key)
        except CacheError:
            CACHE.labels("principal", "error").inc()
            return None
        if entry is None:
            return None
        data = orjson.loads(entry.value)
        data["permissions"] = frozenset(data["permissions"])
        return Principal(**data)

    async def _generation(self) -> int | None:
        try:
            return await self._cache.generation()
        except CacheError:
            return None


def _to_json(principal: Principal) -> dict[str, object]:
    data = dataclasses.asdict(principal)
    data["permissions"] = sorted(principal.permissions)
    return data
