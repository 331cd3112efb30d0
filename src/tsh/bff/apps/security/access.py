"""SEC-05 login attempts, SEC-06/07 lockouts, SEC-08/09/10 blocked IPs, SEC-11/12/13 sessions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.security import OFFICERS, app
from tsh.bff.apps.security.views import Person
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateTimeIn, Id, Page, Query, Text, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.bff.views import RowId, Timestamp, View
from tsh.domain.identity.blocks import block_ip, lift_block, lift_lockout, list_blocks, list_lockouts
from tsh.domain.identity.listing import position
from tsh.domain.identity.oversight import (
    active_sessions,
    login_attempts,
    revoke_all_sessions,
    revoke_one_session,
)

LoginResult = Literal["success", "bad_credentials", "locked", "disabled", "rate_limited"]
IP = Field(default=None, max_length=64)


class Reason(Query):
    """`reason*` of the DELETE rows: why the officer acted (kept in the security event)."""

    reason: Text


# -- SEC-05 ------------------------------------------------------------------------------------


class AttemptsQuery(Page):
    result: LoginResult | None = None
    user_id: Id | None = None
    email: str | None = Field(default=None, max_length=254)
    ip: str | None = IP
    app: str | None = Field(default=None, max_length=16)
    date_from: DateTimeIn | None = Field(default=None, alias="from")
    date_to: DateTimeIn | None = Field(default=None, alias="to")


class Attempt(View):
    id: RowId
    at: Timestamp
    email: str
    user: Person | None
    app: str | None
    ip: str | None
    result: LoginResult
    user_agent: str | None


class TopFailures(View):
    key: str
    failures: int


class Attempts(PageOf[Attempt]):
    top_ips: list[TopFailures]
    top_accounts: list[TopFailures]


@app.screen("SEC-05", "/login-attempts", roles=OFFICERS, scope="all", cache="none", response=Attempts)
async def attempts(call: Call, *, query: AttemptsQuery) -> dict[str, Any]:
    """Login attempts, newest first, with the top addresses and accounts by failures."""
    found = await login_attempts(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        result=query.result,
        user_id=query.user_id,
        email=query.email,
        ip=query.ip,
        app=query.app,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    listed = page(found["items"], query.limit, lambda a: position(a["at"], a["id"]))
    return {**listed, "top_ips": found["top_ips"], "top_accounts": found["top_accounts"]}


# -- SEC-06/07 ---------------------------------------------------------------------------------


class LockoutsQuery(Page):
    kind: Literal["account", "ip"] | None = None


class LockoutRow(View):
    id: RowId
    kind: Literal["account", "ip"]
    email: str | None
    ip: str | None
    user: Person | None
    reason: str
    failed_count: int
    locked_at: Timestamp
    locked_until: Timestamp


@app.screen("SEC-06", "/lockouts", roles=OFFICERS, scope="all", cache="none", response=PageOf[LockoutRow])
async def lockouts(call: Call, *, query: LockoutsQuery) -> dict[str, Any]:
    """Lockouts in force (account or address), newest first."""
    rows = await list_lockouts(
        call.session, call.actor, limit=query.limit, after=decode_cursor(query.cursor), kind=query.kind
    )
    return page(rows, query.limit, lambda r: position(r["locked_at"], r["id"]))


class Lifted(View):
    id: RowId
    kind: Literal["account", "ip"]
    lifted_at: Timestamp


@app.action(
    "SEC-07",
    "DELETE",
    "/lockouts/{id}",
    roles=OFFICERS,
    scope="all",
    events=("SecurityEventRecorded", "UserChanged"),
    idempotency="optional",
    audit_entity="lockout",
    response=Lifted,
)
async def lift(call: Call, *, query: Reason, id: int) -> dict[str, Any]:
    """Lifts a lockout before it expires and resets the failure counter."""
    lock = await lift_lockout(call.session, call.actor, lockout_id=id, reason=query.reason)
    call.audit("lockout", lock.id, before={"lifted_at": None}, after={"reason": query.reason})
    assert lock.lifted_at is not None
    return {"id": lock.id, "kind": lock.kind, "lifted_at": lock.lifted_at.isoformat()}


# -- SEC-08/09/10 ------------------------------------------------------------------------------


class BlocksQuery(Page):
    active_only: bool = False


class BlockRow(View):
    id: RowId
    cidr: str
    reason: str
    blocked_by: Person | None
    blocked_at: Timestamp
    until: Timestamp | None
    active: bool
    lifted_at: Timestamp | None
    lift_reason: str | None
    requests_refused: int


@app.screen("SEC-08", "/blocked-ips", roles=OFFICERS, scope="all", cache="none", response=PageOf[BlockRow])
async def blocks(call: Call, *, query: BlocksQuery) -> dict[str, Any]:
    """Blocked addresses and ranges, newest first (lifted and expired ones unless active_only)."""
    rows = await list_blocks(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        active_only=query.active_only,
    )
    return page(rows, query.limit, lambda r: position(r["blocked_at"], r["id"]))


class NewBlock(Body):
    cidr: str = Field(min_length=1, max_length=64)
    reason: Text
    expires_at: DateTimeIn | None = None
    revoke_sessions: bool = False


class BlockCreated(BlockRow):
    sessions_revoked: int


@app.action(
    "SEC-09",
    "POST",
    "/blocked-ips",
    roles=OFFICERS,
    scope="all",
    events=("SecurityEventRecorded", "SessionChanged"),
    idempotency="optional",
    audit_entity="blocked_ip",
    errors=("INVALID_CIDR", "RANGE_TOO_WIDE", "ALREADY_BLOCKED", "SELF_BLOCK"),
    response=BlockCreated,
)
async def block(call: Call, *, body: NewBlock) -> Created:
    """Blocks an address or range on every API from the next request; may revoke its sessions."""
    row = await block_ip(
        call.session,
        call.actor,
        cidr=body.cidr,
        reason=body.reason,
        expires_at=body.expires_at,
        revoke_sessions=body.revoke_sessions,
        caller_ip=call.ip,
    )
    revoked = row["sessions_revoked"]
    call.audit("blocked_ip", row["id"], after={"cidr": row["cidr"], "sessions_revoked": revoked})
    return Created(row)


class BlockLifted(View):
    id: RowId
    cidr: str
    lifted_at: Timestamp


@app.action(
    "SEC-10",
    "DELETE",
    "/blocked-ips/{id}",
    roles=OFFICERS,
    scope="all",
    events=("SecurityEventRecorded",),
    idempotency="optional",
    audit_entity="blocked_ip",
    response=BlockLifted,
)
async def unblock(call: Call, *, query: Reason, id: int) -> dict[str, Any]:
    """Lifts an IP block."""
    row = await lift_block(call.session, call.actor, block_id=id, reason=query.reason)
    call.audit("blocked_ip", row.id, before={"active": True}, after={"active": False, "reason": query.reason})
    assert row.lifted_at is not None
    return {"id": row.id, "cidr": row.cidr, "lifted_at": row.lifted_at.isoformat()}


# -- SEC-11/12/13 ------------------------------------------------------------------------------


class SessionsQuery(Page):
    user_id: Id | None = None
    app: str | None = Field(default=None, max_length=16)
    role: str | None = Field(default=None, max_length=32)
    ip: str | None = IP


class Device(View):
    id: str | None
    name: str | None
    platform: str | None


class SessionRow(View):
    id: RowId
    user: Person
    role: str
    app: str | None
    device: Device
    ip: str | None
    location: str | None
    started_at: Timestamp
    last_seen_at: Timestamp | None
    expires_at: Timestamp


@app.screen("SEC-11", "/sessions", roles=OFFICERS, scope="all", cache="none", response=PageOf[SessionRow])
async def sessions(call: Call, *, query: SessionsQuery) -> dict[str, Any]:
    """Live sessions, most recently started first."""
    rows = await active_sessions(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        user_id=query.user_id,
        app=query.app,
        role=query.role,
        ip=query.ip,
    )
    return page(rows, query.limit, lambda r: position(r["started_at"], r["id"]))


class Revoked(View):
    sessions_revoked: int


@app.action(
    "SEC-12",
    "DELETE",
    "/sessions/{id}",
    roles=OFFICERS,
    scope="all",
    events=("SessionChanged", "SecurityEventRecorded"),
    idempotency="optional",
    audit_entity="session",
    response=Revoked,
)
async def revoke(call: Call, *, query: Reason, id: int) -> dict[str, Any]:
    """Revokes one session (its refresh-token family); its access token dies on the next request."""
    user_id = await revoke_one_session(call.session, call.actor, session_id=id, reason=query.reason)
    call.audit("session", id, before={"user_id": user_id, "revoked": False}, after={"revoked": True})
    return {"sessions_revoked": 1}


@app.action(
    "SEC-13",
    "DELETE",
    "/users/{id}/sessions",
    roles=OFFICERS,
    scope="all",
    events=("SessionChanged", "SecurityEventRecorded"),
    idempotency="optional",
    audit_entity="user",
    errors=("USER_NOT_FOUND",),
    response=Revoked,
)
async def revoke_user(call: Call, *, query: Reason, id: int) -> dict[str, Any]:
    """Revokes every session of a user; returns how many."""
    count = await revoke_all_sessions(call.session, call.actor, user_id=id, reason=query.reason)
    call.audit("user", id, after={"sessions_revoked": count, "reason": query.reason})
    return {"sessions_revoked": count}
