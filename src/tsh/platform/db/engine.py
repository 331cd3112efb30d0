"""Engines and sessions: a primary for writes and read-after-write, an optional replica for screens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from tsh.config import Settings


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets screens read while an action writes; foreign keys are off by default in SQLite.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, *, pool_size: int, echo: bool = False) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": False}
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # A fixed-size pool without overflow avoids connection churn under load (PERFORMANCE.md).
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=10, **kwargs)


class Database:
    """Owns the engines; built once in the app's lifespan (or by the CLI) and disposed at the end."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.is_sqlite = settings.is_sqlite
        self.engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
        self.replica_engine = (
            make_engine(settings.database_replica_url, pool_size=settings.database_pool_size)
            if settings.database_replica_url
            else self.engine
        )
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._reader = async_sessionmaker(self.replica_engine, expire_on_commit=False, autoflush=False)

    def session(self) -> AsyncSession:
        """A session on the primary: actions, and reads that must see the caller's own writes."""
        return self._writer()

    def read_session(self) -> AsyncSession:
        """A session for screens; may be served by the replica."""
        return self._reader()

    def pool_usage(self) -> dict[str, tuple[int, int]]:
        """(checked out, size) per pool, for the metrics scrape."""
        usage: dict[str, tuple[int, int]] = {}
        for name, engine in (("primary", self.engine), ("replica", self.replica_engine)):
            pool: Any = engine.sync_engine.pool
            if hasattr(pool, "checkedout") and hasattr(pool, "size"):
                usage[name] = (pool.checkedout(), pool.size())
        return usage

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.replica_engine is not self.engine:
            await self.replica_engine.dispose()
