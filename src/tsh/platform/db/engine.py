"""Engines and sessions: a primary for writes and read-after-write, an optional replica for screens."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from tsh.config import Settings
from tsh.platform.db.unavailable import database_unavailable

# After the replica fails, screens read the primary this long before trying the replica again
# (the readiness probe brings it back sooner once it answers).
REPLICA_RETRY_S = 5.0


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction begins (see _begin_*).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL lets screens read while an action writes; foreign keys are off by default in SQLite.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _begin_immediate(conn: Connection) -> None:
    # SQLite has no row locks and the driver would start a transaction only at the first write,
    # so two commands could both read a balance and both write it. A write session takes the
    # database write lock up front: commands serialise (other writers wait on busy_timeout),
    # which is what FOR UPDATE row locks give on PostgreSQL.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, pool_size: int, echo: bool = False, writer: bool = True) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": False}
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate if writer else _begin_deferred)
        return engine
    # A fixed-size pool without overflow avoids connection churn under load (PERFORMANCE.md).
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=10, **kwargs)


class Database:
    """Owns the engines; built once in the app's lifespan (or by the CLI) and disposed at the end."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.is_sqlite = settings.is_sqlite
        pool = settings.database_pool_size
        self.engine = make_engine(settings.database_url, pool_size=pool, writer=False)
        # On SQLite commands get their own engine whose transactions take the write lock up front
        # (see _begin_immediate); on PostgreSQL row locks do that job and one engine serves all.
        self.command_engine = (
            make_engine(settings.database_url, pool_size=pool) if self.is_sqlite else self.engine
        )
        self._replica_down_until = 0.0
        if settings.database_replica_url:
            self.replica_engine = make_engine(settings.database_replica_url, pool_size=pool, writer=False)
            event.listen(self.replica_engine.sync_engine, "handle_error", self._on_replica_error)
            event.listen(self.replica_engine.sync_engine, "do_connect", self._connect_replica)
        else:
            self.replica_engine = self.engine
        self._primary = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._command = async_sessionmaker(self.command_engine, expire_on_commit=False, autoflush=False)
        self._reader = async_sessionmaker(self.replica_engine, expire_on_commit=False, autoflush=False)

    def session(self) -> AsyncSession:
        """A session on the primary: reads that must see the caller's own writes, small writes."""
        return self._primary()

    def command_session(self) -> AsyncSession:
        """The session of a business command (unit of work): serialised on SQLite."""
        return self._command()

    @property
    def has_replica(self) -> bool:
        return self.replica_engine is not self.engine

    def read_session(self) -> AsyncSession:
        """A session for screens; served by the replica unless it failed in the last few seconds."""
        return self._primary() if self.replica_down else self._reader()

    @property
    def replica_down(self) -> bool:
        return self.has_replica and time.monotonic() < self._replica_down_until

    def mark_replica(self, *, up: bool) -> None:
        """Record the replica's state: down sends screens to the primary for REPLICA_RETRY_S."""
        self._replica_down_until = 0.0 if up else time.monotonic() + REPLICA_RETRY_S

    def _connect_replica(self, dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        # A refused new connection is a raw driver/socket error that never reaches handle_error.
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            if database_unavailable(exc):
                self.mark_replica(up=False)
            raise

    def _on_replica_error(self, context: ExceptionContext) -> None:
        # A lost or refused replica connection (the request that hit it answers 503 and the phone
        # retries); the next screens read the primary instead of failing the same way.
        if context.is_disconnect or database_unavailable(context.original_exception):
            self.mark_replica(up=False)

    def pool_usage(self) -> dict[str, tuple[int, int]]:
        """(checked out, size) per pool, for the metrics scrape."""
        usage: dict[str, tuple[int, int]] = {}
        for name, engine in (("primary", self.engine), ("replica", self.replica_engine)):
            if name == "replica" and engine is self.engine:
                continue
            pool: Any = engine.sync_engine.pool
            if hasattr(pool, "checkedout") and hasattr(pool, "size"):
                usage[name] = (pool.checkedout(), pool.size())
        return usage

    async def dispose(self) -> None:
        for engine in {self.engine, self.command_engine, self.replica_engine}:
            await engine.dispose()
