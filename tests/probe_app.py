"""Test-only endpoints that exercise the BFF mechanism through HTTP (never mounted in production:
only the test suite imports this module before building the app)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from tsh.bff.call import Call, Created, Section
from tsh.bff.spec import BffApp, Deprecation
from tsh.domain.identity.models import AuditLog, User
from tsh.platform.db import Session
from tsh.platform.errors import NotFound
from tsh.platform.events import DomainEvent, emit

probe = BffApp.for_tests("probe")
STAFF = ("salesperson", "cashier", "branch_manager", "consumer", "accountant")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeQuery(Strict):
    detail: Literal["short", "long"] = "short"


@probe.screen("PRB-01", "/me", roles=STAFF, scope="own", cache="people", events=["UserChanged"])
async def me(call: Call, *, query: MeQuery) -> dict[str, object]:
    """The caller's own user row."""
    user = await call.session.get(User, call.user_id)
    if user is None:
        raise NotFound()
    data: dict[str, object] = {"id": user.id, "name": user.name, "language": user.language}
    if query.detail == "long":
        data["email"] = user.email
    return data


@probe.screen(
    "PRB-02", "/users/{id}", roles=("branch_manager",), scope="branch", cache="people", events=["UserChanged"]
)
async def user_in_branch(call: Call, *, id: int) -> dict[str, object]:
    """One user of the caller's branch (404 outside it)."""
    stmt = select(User).where(User.id == id)
    if call.scope == "branch":
        stmt = stmt.where(User.branch_id == call.branch_id)
    user = (await call.session.execute(stmt)).scalar_one_or_none()
    if user is None:
        raise NotFound()
    return {"id": user.id, "name": user.name}


class LanguageBody(Strict):
    language: Literal["ar", "en"]


@probe.action(
    "PRB-03",
    "PUT",
    "/me/language",
    roles=STAFF,
    scope="own",
    events=["UserChanged"],
    idempotency="optional",
    audit_entity="user",
)
async def set_language(call: Call, *, body: LanguageBody) -> dict[str, object]:
    """Changes the caller's language (emits UserChanged for the caller)."""
    user = await call.session.get(User, call.user_id)
    assert user is not None
    user.language = body.language
    emit(call.session, DomainEvent("UserChanged", frozenset({f"user:{user.id}"})))
    return {"id": user.id, "language": user.language}


class NoteBody(Strict):
    text: str = Field(min_length=1, max_length=100)
    amount: int = Field(gt=0, le=1_000_000)
    delay_ms: int = Field(default=0, ge=0, le=2000)


@probe.action(
    "PRB-04",
    "POST",
    "/notes",
    roles=STAFF,
    scope="own",
    idempotency="required",
    audit_entity="note",
    rate_limit="1000/minute",
    status_code=200,
)
async def add_note(call: Call, *, body: NoteBody) -> Created:
    """Records a note; its only effect is the audit row the mechanism writes (counted by tests)."""
    if body.delay_ms:
        await asyncio.sleep(body.delay_ms / 1000)
    count = await call.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.actor_id == call.user_id, AuditLog.action == "PRB-04")
    )
    call.audit("note", None, after={"text": body.text})
    return Created({"text": body.text, "amount": body.amount, "previous_notes": count})


@probe.screen(
    "PRB-07",
    "/old-me",
    roles=STAFF,
    scope="own",
    cache="people",
    events=["UserChanged"],
    deprecated=Deprecation(since=dt.date(2026, 11, 1), sunset=dt.date(2027, 6, 30)),
)
async def old_me(call: Call) -> dict[str, object]:
    """The caller's id, on a deprecated path (headers and OpenAPI flag)."""
    return {"id": call.user_id}


@probe.screen("PRB-05", "/boom", roles=STAFF, scope="own", cache="none")
async def boom(call: Call) -> dict[str, object]:
    """Always fails: proves a 500 leaks nothing."""
    raise RuntimeError("SELECT password_hash FROM users -- /srv/tsh/secret.py line 3")


@probe.screen("PRB-06", "/limited", roles=STAFF, scope="own", cache="none", rate_limit="3/minute")
async def limited(call: Call) -> dict[str, object]:
    """A screen with a tiny rate limit."""
    return {"ok": True}


# What the sections of PRB-08 do on the next requests, set by tests/bff/test_partial_screens.py:
# {section: "slow" | "nap" | "doze" | "fail" | "slow_sql"}; a section not named answers at once.
SECTION_FAULTS: dict[str, str] = {}


async def _section_value(call: Call, name: str, session: Session) -> dict[str, object]:
    fault = SECTION_FAULTS.get(name)
    if fault == "slow":
        await asyncio.sleep(1.0)  # past the 500 ms budget of `extra`
    elif fault == "nap":
        await asyncio.sleep(0.2)  # within every budget, beyond a tight deadline
    elif fault == "doze":
        await asyncio.sleep(1.5)  # within the 5 s budget of `later`, beyond a 1 s deadline
    elif fault == "fail":
        raise RuntimeError(f"section {name} broke")
    elif fault == "slow_sql":  # PostgreSQL only: a statement still running when the budget ends
        await session.execute(select(func.pg_sleep(5.0)))
    users = await session.scalar(select(func.count()).select_from(User).where(User.id == call.user_id))
    return {"section": name, "users": users, "version": SECTION_VERSION[0]}


# Changes what a good answer holds, so a stale value can be told apart from a fresh one.
SECTION_VERSION = [1]


@probe.screen(
    "PRB-08",
    "/sections",
    roles=STAFF,
    scope="own",
    cache="people",
    events=["UserChanged"],
    errors=("SECTION_TIMEOUT",),
)
async def sectioned(call: Call) -> dict[str, object]:
    """A screen of three sections: `me` (required), `extra` (500 ms budget) and `later`."""
    parts = await call.sections(
        {
            "me": Section(lambda s: _section_value(call, "me", s), required=True),
            "extra": Section(lambda s: _section_value(call, "extra", s), budget_ms=500),
            "later": Section(lambda s: _section_value(call, "later", s), budget_ms=5000),
        }
    )
    return {"id": call.user_id, **parts}


class FaultQuery(Strict):
    kind: str


def _db_faults() -> dict[str, BaseException]:
    """What a PostgreSQL primary restart (and a few real bugs) raise, as the driver and SQLAlchemy
    raise them; `GET /db-fault?kind=` raises one, so the 503/500 mapping is tested without a restart."""
    import asyncpg.exceptions as pg
    from sqlalchemy import exc as sa

    shutdown = pg.AdminShutdownError("terminating connection due to administrator command")
    return {
        # SQLAlchemy wraps AdminShutdownError in a plain DBAPIError (not an OperationalError).
        "admin_shutdown": sa.DBAPIError("SELECT 1", None, shutdown),
        "admin_shutdown_raw": shutdown,
        "shutting_down": pg.CannotConnectNowError("the database system is shutting down"),
        "connection_lost": pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        "closed": sa.InterfaceError("SELECT 1", None, Exception("connection is closed")),
        "invalidated": sa.DBAPIError("SELECT 1", None, Exception("gone"), connection_invalidated=True),
        "refused": ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
        "pool_timeout": sa.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        "operational": sa.OperationalError("SELECT 1", None, Exception("database is locked")),
        # Real bugs stay 500.
        "integrity": sa.IntegrityError("INSERT", None, Exception("duplicate key")),
        "programming": sa.ProgrammingError("SELEC 1", None, pg.PostgresSyntaxError("syntax error")),
        "statement_timeout": sa.DBAPIError("SELECT 1", None, pg.QueryCanceledError("canceling statement")),
        "interface": sa.InterfaceError("SELECT 1", None, Exception("cannot perform operation")),
        "file": FileNotFoundError(2, "No such file or directory"),
    }


@probe.screen("PRB-09", "/db-fault", roles=STAFF, scope="own", cache="none")
async def db_fault(call: Call, *, query: FaultQuery) -> dict[str, object]:
    """Raises the database fault named by `kind`."""
    raise _db_faults()[query.kind]
