"""Which exceptions mean "the database is unavailable right now" (503 + Retry-After, the phone
retries) rather than a bug (500). A primary restart surfaces as several of these: asyncpg's
AdminShutdownError on a pooled connection (SQLAlchemy wraps it as a plain DBAPIError, not an
OperationalError), ConnectionDoesNotExistError / "connection is closed" mid-query,
CannotConnectNowError ("the database system is starting up / shutting down") or a refused socket
on a new connection, and a pool timeout while the pool refills."""

from __future__ import annotations

import socket

import asyncpg.exceptions as pg
from sqlalchemy import exc as sa

# Long enough for a primary restart (under a second in the chaos run) or a failover to finish,
# short enough that a phone's retry does not feel stuck.
RETRY_AFTER_S = 2

# Driver errors that say the server or the connection went away, never that the query was wrong.
# Class 08 (connection exception), 57P01-57P03 (admin/crash shutdown, cannot connect now) and
# 53300 (too many connections). QueryCanceledError (57014, a statement timeout) is deliberately
# not here: a slow query is ours to fix.
_DRIVER: tuple[type[BaseException], ...] = (
    pg.PostgresConnectionError,
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.CannotConnectNowError,
    pg.TooManyConnectionsError,
    pg.ConnectionDoesNotExistError,
)
# Socket-level failures of a new or pooled connection (ConnectionRefusedError, reset, broken pipe),
# an unresolvable host, and the connect timeout asyncpg raises as the builtin TimeoutError.
_SOCKET: tuple[type[BaseException], ...] = (ConnectionError, socket.gaierror, TimeoutError)


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) is a lost, refused or exhausted database connection."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if _is_unavailable(current):
            return True
        context = None if current.__suppress_context__ else current.__context__
        todo.extend((current.__cause__, context, getattr(current, "orig", None)))
    return False


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa.TimeoutError | sa.OperationalError):  # pool exhausted; server gone
        return True
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, _DRIVER + _SOCKET):
        return True
    # asyncpg's InterfaceError on a connection that was closed under it (SQLAlchemy's is_disconnect
    # test uses the same words).
    return isinstance(exc, pg.InterfaceError | sa.InterfaceError) and "connection is closed" in str(exc)


def describe(exc: BaseException) -> str:
    """The class names for the log (`DBAPIError(AdminShutdownError)`): never the SQL or its
    parameters, which SQLAlchemy's message carries."""
    orig = getattr(exc, "orig", None)
    return f"{type(exc).__name__}({type(orig).__name__})" if orig is not None else type(exc).__name__
