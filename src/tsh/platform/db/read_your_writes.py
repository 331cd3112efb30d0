"""Read-after-write with a replica: after a user's action, that user's screens read the primary
for a few seconds, so the app never shows them data from before their own write.

The mark lives in the cache back end (shared through Redis across processes). Without a replica
nothing is marked and screens always use the one database.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.platform.cache.backend import CacheBackend, CacheError, Entry
from tsh.platform.db.engine import Database

PRIMARY_FOR_S = 10


def _key(user_id: int) -> str:
    return f"rw:{user_id}"


async def mark_write(db: Database, cache: CacheBackend, user_id: int) -> None:
    if not db.has_replica:
        return
    try:
        generation = await cache.generation()
        await cache.set(_key(user_id), Entry(b"1", time.time(), ""), PRIMARY_FOR_S, (), generation)
    except CacheError:
        pass  # the replica lag is then the only cost


async def screen_session(db: Database, cache: CacheBackend, user_id: int) -> AsyncSession:
    if db.has_replica:
        try:
            if await cache.get(_key(user_id)) is not None:
                return db.session()
        except CacheError:
            return db.session()  # cannot tell: be safe
    return db.read_session()
