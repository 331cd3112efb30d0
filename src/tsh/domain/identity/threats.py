"""Threats (SEC-01..04): the threat level, the lists, the detail and the update.

Threats are raised by the detectors (detectors.py) and by refresh-token replay (sessions.py);
officers move them open → investigating → resolved | false_positive.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.identity.audit import record_security_event
from tsh.domain.identity.listing import iso, older_than
from tsh.domain.identity.login import active_blocked_ranges, matching_block
from tsh.domain.identity.models import (
    SEVERITIES,
    Role,
    SecurityEvent,
    Threat,
    User,
    UserSession,
)
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

FINAL_STATUSES = ("resolved", "false_positive")
ELIGIBLE_ASSIGNEE_ROLES = ("security_officer", "admin")
THREAT_LEVELS = ("none", *SEVERITIES)


# -- reads -------------------------------------------------------------------------------------


async def threat_level(session: AsyncSession, *, now: datetime | None = None) -> str:
    """The highest severity among threats open (or under investigation) seen in the last 24 h."""
    now = now or utcnow()
    rows = await session.scalars(
        select(Threat.severity)
        .distinct()
        .where(Threat.status.in_(("open", "investigating")), Threat.last_seen >= now - timedelta(hours=24))
    )
    present = set(rows)
    return next((s for s in reversed(SEVERITIES) if s in present), "none")


def _person(user_id: int | None, names: dict[int, str]) -> dict[str, Any] | None:
    return {"id": user_id, "name": names.get(user_id, "")} if user_id is not None else None


async def _names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict((await session.execute(select(User.id, User.name).where(User.id.in_(wanted)))).all())


def _threat_row(t: Threat, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": t.id,
        "type": t.type,
        "severity": t.severity,
        "status": t.status,
        "user": _person(t.user_id, names),
        "ips": list(t.ips),
        "first_seen": iso(t.first_seen),
        "last_seen": iso(t.last_seen),
        "event_count": t.event_count,
        "assignee": _person(t.assignee_id, names),
    }


async def list_threats(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    status: str | None = None,
    severity: str | None = None,
    type: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> list[dict[str, Any]]:
    """Threats newest (last seen) first; limit+1 rows for paging. Company-wide (scope all)."""
    stmt = select(Threat)
    for cond in (
        Threat.status == status if status else None,
        Threat.severity == severity if severity else None,
        Threat.type == type if type else None,
        Threat.last_seen >= date_from if date_from else None,
        Threat.first_seen <= date_to if date_to else None,
        older_than(Threat.last_seen, Threat.id, after),
    ):
        if cond is not None:
            stmt = stmt.where(cond)
    threats = list(
        await session.scalars(stmt.order_by(Threat.last_seen.desc(), Threat.id.desc()).limit(limit + 1))
    )
    names = await _names(session, {t.user_id for t in threats} | {t.assignee_id for t in threats})
    return [_threat_row(t, names) for t in threats]


async def threat_detail(session: AsyncSession, actor: Actor, *, threat_id: int) -> dict[str, Any]:
    """SEC-03: 404 for an unknown id."""
    threat = await session.get(Threat, threat_id)
    if threat is None:
        raise NotFound("No such threat")
    events = list(
        await session.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.threat_id == threat_id)
            .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
            .limit(100)
        )
    )
    sessions: list[Any] = []
    user: dict[str, Any] | None = None
    if threat.user_id is not None:
        found = (
            await session.execute(
                select(User.id, User.name, User.email, User.status, Role.code)
                .join(Role, Role.id == User.role_id)
                .where(User.id == threat.user_id)
            )
        ).first()
        if found is not None:
            user = {"id": found[0], "name": found[1], "email": found[2], "status": found[3], "role": found[4]}
        sessions = list(
            await session.scalars(
                select(UserSession)
                .where(UserSession.user_id == threat.user_id)
                .order_by(UserSession.created_at.desc(), UserSession.id.desc())
                .limit(20)
            )
        )
    ranges = await active_blocked_ranges(session)
    names = await _names(
        session,
        {
            threat.assignee_id,
            threat.user_id,
            *(n.get("by") for n in threat.notes if isinstance(n.get("by"), int)),
        },
    )
    timeline = sorted(
        [{"at": iso(threat.first_seen), "kind": "first_seen", "text": f"{threat.type} detected"}]
        + [{"at": iso(e.at), "kind": "event", "text": e.type} for e in events]
        + [
            {"at": n.get("at"), "kind": "note", "text": str(n.get("text", ""))}
            for n in threat.notes
            if n.get("at")
        ],
        key=lambda item: str(item["at"]),
    )
    return {
        **_threat_row(threat, names),
        "resolution": threat.resolution,
        "affected_user": user,
        "sessions": [
            {
                "id": s.id,
                "app": s.app,
                "device_name": s.device_name,
                "ip": s.ip,
                "started_at": iso(s.created_at),
                "last_seen_at": iso(s.last_seen_at),
                "expires_at": iso(s.expires_at),
                "revoked_at": iso(s.revoked_at),
            }
            for s in sessions
        ],
        "ip_states": [{"ip": ip, "blocked": matching_block(ip, ranges) is not None} for ip in threat.ips],
        "events": [
            {
                "id": e.id,
                "at": iso(e.at),
                "type": e.type,
                "severity": e.severity,
                "ip": e.ip,
                "details": e.details,
            }
            for e in events
        ],
        "timeline": timeline,
        "notes": [
            {"by": _person(n.get("by"), names), "at": n.get("at"), "text": str(n.get("text", ""))}
            for n in threat.notes
        ],
    }


# -- update (SEC-04, PATCH /api/threats/{id}) --------------------------------------------------


async def update_threat(
    session: AsyncSession,
    actor: Actor,
    *,
    threat_id: int,
    status: str | None,
    assignee_id: int | None,
    note: str | None,
    resolution: str | None,
) -> tuple[Threat, dict[str, Any]]:
    """Move a threat along open → investigating → resolved | false_positive, assign it, note it.

    Returns the threat and its values before the change. Errors: 404 (unknown threat),
    409 INVALID_TRANSITION (a final threat, or back to investigating from a later state),
    422 RESOLUTION_REQUIRED (resolving without a resolution), 422 ASSIGNEE_NOT_ELIGIBLE.
    """
    threat = await session.scalar(select(Threat).where(Threat.id == threat_id).with_for_update())
    if threat is None:
        raise NotFound("No such threat")
    before = {"status": threat.status, "assignee_id": threat.assignee_id, "resolution": threat.resolution}
    if threat.status in FINAL_STATUSES:
        raise Conflict(f"A {threat.status} threat is final", code="INVALID_TRANSITION")
    if status is not None and status != threat.status and status not in ("investigating", *FINAL_STATUSES):
        raise Conflict(f"A threat cannot move from {threat.status} to {status}", code="INVALID_TRANSITION")
    if status == "resolved" and not (resolution or "").strip():
        raise Invalid(
            "Resolving a threat needs a resolution",
            code="RESOLUTION_REQUIRED",
            details=[field_error("resolution", "required when resolving")],
        )
    if assignee_id is not None:
        role = await session.scalar(
            select(Role.code)
            .join(User, User.role_id == Role.id)
            .where(User.id == assignee_id, User.status == "active")
        )
        if role not in ELIGIBLE_ASSIGNEE_ROLES:
            raise Invalid(
                "Threats are assigned to security officers or admins",
                code="ASSIGNEE_NOT_ELIGIBLE",
                details=[field_error("assignee_id", "not an active security officer or admin")],
            )
        threat.assignee_id = assignee_id
    now = utcnow()
    if status is not None:
        threat.status = status
    if resolution is not None and resolution.strip():
        threat.resolution = resolution.strip()
    if note is not None and note.strip():
        # A new list, not an in-place append: plain JSON columns do not track mutation.
        threat.notes = [*threat.notes, {"by": actor.user_id, "at": now.isoformat(), "text": note.strip()}]
    threat.updated_at = now
    record_security_event(
        session,
        type="threat_updated",
        severity="low",
        user_id=actor.user_id,
        details={"threat_id": threat.id, "status": threat.status, "assignee_id": threat.assignee_id},
        threat_id=threat.id,
    )
    await session.flush()
    return threat, before


async def open_threats_by_severity(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Threat.severity, func.count())
        .where(Threat.status.in_(("open", "investigating")))
        .group_by(Threat.severity)
    )
    counts = dict(rows.all())
    return {s: int(counts.get(s, 0)) for s in SEVERITIES}
