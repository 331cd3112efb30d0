"""What security officers watch (SEC-01, 05, 11..16): dashboard, logins, sessions, audit trail.

Everything here is company-wide (the security roles have scope `all`) and read-mostly; the two
writes revoke sessions. Lists are newest first with keyset cursors (listing.py), limit+1 rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.actor import Actor
from tsh.domain.identity.audit import record_security_event
from tsh.domain.identity.detectors import FAILED_RESULTS, detector_states
from tsh.domain.identity.listing import iso, older_than
from tsh.domain.identity.models import (
    AuditLog,
    BlockedIp,
    Lockout,
    LoginAttempt,
    Role,
    SecurityEvent,
    User,
    UserSession,
)
from tsh.domain.identity.sessions import revoke_session, revoke_user_sessions
from tsh.domain.identity.threats import open_threats_by_severity, threat_level
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, NotFound, field_error

MAX_DENIAL_WINDOW = timedelta(days=31)
TOP_N = 5


def _where(stmt: Any, *conditions: Any) -> Any:
    for cond in conditions:
        if cond is not None:
            stmt = stmt.where(cond)
    return stmt


def _person(user_id: int | None, name: str | None) -> dict[str, Any] | None:
    return {"id": user_id, "name": name or ""} if user_id is not None else None


# -- SEC-01 dashboard --------------------------------------------------------------------------


DashboardPart = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


def dashboard_parts(actor: Actor, *, settings: Settings) -> dict[str, DashboardPart]:
    """SEC-01 as the parts the screen runs as sections, all as of one instant: `alarms` (threat
    level, open threats, failed logins, lockouts, blocks, refresh reuse, detectors), `sessions`
    (active sessions per app), `recent_events` (the last 20 security events)."""
    now = utcnow()
    return {
        "alarms": lambda s: _alarms(s, now, settings),
        "sessions": lambda s: _sessions(s, now),
        "recent_events": _recent_events,
    }


async def _alarms(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
    async def failed_since(delta: timedelta) -> int:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(LoginAttempt)
                .where(LoginAttempt.at > now - delta, LoginAttempt.result.in_(FAILED_RESULTS))
            )
            or 0
        )

    lockouts = await session.scalar(
        select(func.count()).select_from(Lockout).where(Lockout.lifted_at.is_(None), Lockout.until > now)
    )
    blocked = await session.scalar(
        select(func.count())
        .select_from(BlockedIp)
        .where(BlockedIp.lifted_at.is_(None), (BlockedIp.expires_at.is_(None)) | (BlockedIp.expires_at > now))
    )
    reuse = await session.scalar(
        select(func.count())
        .select_from(SecurityEvent)
        .where(SecurityEvent.type == "refresh_reuse", SecurityEvent.at > now - timedelta(hours=24))
    )
    return {
        "threat_level": await threat_level(session, now=now),
        "open_threats": await open_threats_by_severity(session),
        "failed_logins": {
            "last_hour": await failed_since(timedelta(hours=1)),
            "last_24h": await failed_since(timedelta(hours=24)),
        },
        "active_lockouts": int(lockouts or 0),
        "blocked_ips": int(blocked or 0),
        "refresh_reuse_24h": int(reuse or 0),
        "detectors": detector_states(settings),
    }


async def _sessions(session: AsyncSession, now: datetime) -> dict[str, Any]:
    by_app = await session.execute(
        select(UserSession.app, func.count())
        .where(UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        .group_by(UserSession.app)
        .order_by(func.count().desc())
    )
    return {"active_sessions": [{"app": app, "count": int(n)} for app, n in by_app]}


async def _recent_events(session: AsyncSession) -> dict[str, Any]:
    events = await session.execute(
        select(SecurityEvent, User.name)
        .outerjoin(User, User.id == SecurityEvent.user_id)
        .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
        .limit(20)
    )
    return {
        "recent_events": [
            {
                "id": e.id,
                "at": iso(e.at),
                "type": e.type,
                "severity": e.severity,
                "user": _person(e.user_id, name),
                "ip": e.ip,
                "threat_id": e.threat_id,
            }
            for e, name in events
        ]
    }


# -- SEC-05 login attempts ---------------------------------------------------------------------


async def login_attempts(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    result: str | None = None,
    user_id: int | None = None,
    email: str | None = None,
    ip: str | None = None,
    app: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> dict[str, Any]:
    """Attempts newest first, and the top addresses and accounts by failures in the window
    (the filters' window, default the last 24 hours). Passwords are never stored."""
    filters = (
        LoginAttempt.result == result if result else None,
        LoginAttempt.user_id == user_id if user_id else None,
        LoginAttempt.email == email.strip().lower() if email else None,
        LoginAttempt.ip == ip if ip else None,
        LoginAttempt.app == app if app else None,
        LoginAttempt.at >= date_from if date_from else None,
        LoginAttempt.at <= date_to if date_to else None,
    )
    stmt = _where(select(LoginAttempt), *filters, older_than(LoginAttempt.at, LoginAttempt.id, after))
    rows = list(
        await session.scalars(stmt.order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(limit + 1))
    )
    names = await _user_names(session, {r.user_id for r in rows})
    window_start = date_from or utcnow() - timedelta(hours=24)
    failures = (
        LoginAttempt.result.in_(FAILED_RESULTS),
        LoginAttempt.at >= window_start,
        LoginAttempt.at <= date_to if date_to else None,
        *filters[1:5],
    )

    async def top(column: Any) -> list[dict[str, Any]]:
        stmt = _where(select(column, func.count()), *failures, column.is_not(None))
        grouped = await session.execute(
            stmt.group_by(column).order_by(func.count().desc(), column).limit(TOP_N)
        )
        return [{"key": key, "failures": int(n)} for key, n in grouped]

    return {
        "items": [
            {
                "id": r.id,
                "at": iso(r.at),
                "email": r.email,
                "user": _person(r.user_id, names.get(r.user_id or 0)),
                "app": r.app,
                "ip": r.ip,
                "result": r.result,
                "user_agent": r.user_agent,
            }
            for r in rows
        ],
        "top_ips": await top(LoginAttempt.ip),
        "top_accounts": await top(LoginAttempt.email),
    }


async def _user_names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


# -- SEC-11..13 sessions -----------------------------------------------------------------------


async def active_sessions(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    user_id: int | None = None,
    app: str | None = None,
    role: str | None = None,
    ip: str | None = None,
) -> list[dict[str, Any]]:
    """Live sessions (not revoked, not expired), most recently started first."""
    now = utcnow()
    stmt = _where(
        select(UserSession, User.name, Role.code)
        .join(User, User.id == UserSession.user_id)
        .join(Role, Role.id == User.role_id)
        .where(UserSession.revoked_at.is_(None), UserSession.expires_at > now),
        UserSession.user_id == user_id if user_id else None,
        UserSession.app == app if app else None,
        Role.code == role if role else None,
        UserSession.ip == ip if ip else None,
        older_than(UserSession.created_at, UserSession.id, after),
    )
    rows = await session.execute(
        stmt.order_by(UserSession.created_at.desc(), UserSession.id.desc()).limit(limit + 1)
    )
    return [
        {
            "id": s.id,
            "user": {"id": s.user_id, "name": name},
            "role": role_code,
            "app": s.app,
            "device": {"id": s.device_id, "name": s.device_name, "platform": s.platform},
            "ip": s.ip,
            # Needs a geo-IP database (TSH_GEOIP_DB); none is configured in this deployment.
            "location": None,
            "started_at": iso(s.created_at),
            "last_seen_at": iso(s.last_seen_at),
            "expires_at": iso(s.expires_at),
        }
        for s, name, role_code in rows
    ]


async def revoke_one_session(session: AsyncSession, actor: Actor, *, session_id: int, reason: str) -> int:
    """Revoke a live session (its whole refresh-token family); returns its user's id.

    404 for an unknown or already revoked session. The access token dies on its next request
    (SessionChanged drops the cached principal); the caller's own session acts as a logout."""
    row = await session.scalar(
        select(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .with_for_update()
    )
    if row is None or not await revoke_session(session, session_id=session_id, reason="revoked_by_security"):
        raise NotFound("No such active session")
    record_security_event(
        session,
        type="session_revoked",
        severity="low",
        user_id=row.user_id,
        session_id=row.id,
        ip=row.ip,
        details={"by": actor.user_id, "reason": reason},
    )
    return row.user_id


async def revoke_all_sessions(session: AsyncSession, actor: Actor, *, user_id: int, reason: str) -> int:
    """Revoke every live session of a user; returns how many. 404 USER_NOT_FOUND."""
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound("No such user", code="USER_NOT_FOUND")
    count = await revoke_user_sessions(session, user_id=user_id, reason="revoked_by_security")
    record_security_event(
        session,
        type="session_revoked",
        severity="low",
        user_id=user_id,
        details={"by": actor.user_id, "reason": reason, "sessions_revoked": count},
    )
    return count


# -- SEC-14..16 audit trail --------------------------------------------------------------------


def _audit_row(a: AuditLog, actor_name: str | None) -> dict[str, Any]:
    return {
        "id": a.id,
        "at": iso(a.at),
        "actor": _person(a.actor_id, actor_name),
        "app": a.app,
        "action": a.action,
        "entity_type": a.entity_type,
        "entity_id": a.entity_id,
        "decision": a.decision,
        "reason": a.reason,
        "ip": a.ip,
        "request_id": a.request_id,
    }


async def audit_trail(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    actor_id: int | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
    decision: str | None = None,
    ip: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every audit row, allowed and denied (role and scope), newest first."""
    stmt = _where(
        select(AuditLog, User.name).outerjoin(User, User.id == AuditLog.actor_id),
        AuditLog.actor_id == actor_id if actor_id else None,
        AuditLog.action == action if action else None,
        AuditLog.entity_type == entity_type if entity_type else None,
        AuditLog.entity_id == entity_id if entity_id else None,
        AuditLog.decision == decision if decision else None,
        AuditLog.ip == ip if ip else None,
        AuditLog.at >= date_from if date_from else None,
        AuditLog.at <= date_to if date_to else None,
        older_than(AuditLog.at, AuditLog.id, after),
    )
    rows = await session.execute(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit + 1))
    return [_audit_row(a, name) for a, name in rows]


async def audit_entry(session: AsyncSession, actor: Actor, *, entry_id: int) -> dict[str, Any]:
    """One audit row with its before/after values. 404 for an unknown id."""
    found = (
        await session.execute(
            select(AuditLog, User.name)
            .outerjoin(User, User.id == AuditLog.actor_id)
            .where(AuditLog.id == entry_id)
        )
    ).first()
    if found is None:
        raise NotFound("No such audit entry")
    entry, name = found
    return {**_audit_row(entry, name), "before": entry.before, "after": entry.after}


async def access_denials(
    session: AsyncSession,
    actor: Actor,
    *,
    date_from: datetime,
    date_to: datetime,
    user_id: int | None,
    app: str | None,
    offset: int,
    limit: int,
) -> dict[str, Any]:
    """Denied requests in [from, to] grouped by user, endpoint and reason, most frequent first;
    with the top offenders. 422 RANGE_TOO_LONG above 31 days, VALIDATION_ERROR when to < from."""
    if date_to < date_from:
        raise Invalid(details=[field_error("to", "must not be before from")])
    if date_to - date_from > MAX_DENIAL_WINDOW:
        raise Invalid(
            "The window is longer than 31 days",
            code="RANGE_TOO_LONG",
            details=[field_error("to", "at most 31 days after from")],
        )
    conditions = (
        AuditLog.decision == "denied",
        AuditLog.at >= date_from,
        AuditLog.at <= date_to,
        AuditLog.actor_id == user_id if user_id else None,
        AuditLog.app == app if app else None,
    )
    count = func.count().label("n")
    groups = await session.execute(
        _where(
            select(
                AuditLog.actor_id,
                User.name,
                AuditLog.app,
                AuditLog.action,
                AuditLog.reason,
                count,
                func.max(AuditLog.at),
            ).outerjoin(User, User.id == AuditLog.actor_id),
            *conditions,
        )
        .group_by(AuditLog.actor_id, User.name, AuditLog.app, AuditLog.action, AuditLog.reason)
        .order_by(count.desc(), AuditLog.actor_id, AuditLog.action, AuditLog.reason)
        .offset(offset)
        .limit(limit + 1)
    )
    offenders = await session.execute(
        _where(
            select(AuditLog.actor_id, User.name, count).outerjoin(User, User.id == AuditLog.actor_id),
            *conditions,
        )
        .where(AuditLog.actor_id.is_not(None))
        .group_by(AuditLog.actor_id, User.name)
        .order_by(count.desc(), AuditLog.actor_id)
        .limit(TOP_N)
    )
    total = await session.scalar(_where(select(func.count()).select_from(AuditLog), *conditions))
    return {
        "total": int(total or 0),
        "items": [
            {
                "user": _person(uid, name),
                "app": app_name,
                "endpoint": action,
                # "role" (403) or "scope" (a foreign id answered 404); older rows may carry text.
                "reason": reason,
                "count": int(n),
                "last_at": iso(last),
            }
            for uid, name, app_name, action, reason, n, last in groups
        ],
        "top_offenders": [{"user": _person(uid, name), "count": int(n)} for uid, name, n in offenders],
    }
