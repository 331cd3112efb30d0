"""With a replica configured, a user's screens read the primary right after that user's write."""

from __future__ import annotations

from pathlib import Path

from tsh.config import Settings
from tsh.platform.cache.backend import MemoryCache
from tsh.platform.db.engine import Database
from tsh.platform.db.read_your_writes import mark_write, screen_session


async def test_screens_read_the_primary_after_the_users_own_write(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    db = Database(Settings(env="test", database_url=url, database_replica_url=url))
    cache = MemoryCache()
    try:
        assert db.has_replica
        assert (await screen_session(db, cache, 7)).bind is db.replica_engine
        await mark_write(db, cache, 7)
        assert (await screen_session(db, cache, 7)).bind is db.engine
        assert (await screen_session(db, cache, 8)).bind is db.replica_engine, "only the writer is pinned"
    finally:
        await db.dispose()


async def test_without_a_replica_nothing_is_marked(tmp_path: Path) -> None:
    db = Database(Settings(env="test", database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"))
    cache = MemoryCache()
    try:
        await mark_write(db, cache, 7)
        assert await cache.get("rw:7") is None
    finally:
        await db.dispose()
