"""The append-only trails: audit log, security events, and the threats raised from them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.events import raise_event
from tsh.domain.identity.models import SEVERITIES, AuditLog, SecurityEvent, Threat
from tsh.platform.db.base import utcnow

# Repeated signals of one kind about one user or address join the open threat instead of
# opening a new one each time, as long as it was seen within this window.
THREAT_MERGE_WINDOW = timedelta(hours=24)
MAX_ENTITY_ID = 2**31 - 1  # ids are 32-bit integer columns


def record_audit(
    session: AsyncSession,
    *,
    actor_id: int | None,
    app: str | None,
    action: str,
    entity_type: str | None,
    entity_id: int | str | None,
    decision: str = "allowed",
    reason: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    ip: str | None = None,
    request_id: str | None = None,
    client_at: datetime | None = None,
) -> None:
    """Append one audit entry (never updated or deleted). It commits with the caller's action, so
    a rolled-back action leaves no "allowed" entry behind. Synchronous: it only adds a row.

    `entity_id` may come straight from a path parameter; a non-numeric one is not an entity id."""
    if isinstance(entity_id, str):
        entity_id = int(entity_id) if entity_id.isdecimal() and int(entity_id) <= MAX_ENTITY_ID else None
    session.add(
        AuditLog(
            at=utcnow(),
            actor_id=actor_id,
            app=app,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            decision=decision,
            reason=reason,
            before=dict(before) if before is not None else None,
            after=dict(after) if after is not None else None,
            ip=ip,
            request_id=request_id,
            client_at=client_at,
        )
    )


def record_security_event(
    session: AsyncSession,
    *,
    type: str,
    severity: str,
    user_id: int | None = None,
    session_id: int | None = None,
    ip: str | None = None,
    details: Mapping[str, Any] | None = None,
    threat_id: int | None = None,
) -> None:
    session.add(
        SecurityEvent(
            at=utcnow(),
            type=type,
            severity=severity,
            user_id=user_id,
            session_id=session_id,
            ip=ip,
            details=dict(details or {}),
            threat_id=threat_id,
        )
    )
    raise_event(session, "SecurityEventRecorded", users=[user_id], type=type)


def _worse(a: str, b: str) -> str:
    return a if SEVERITIES.index(a) >= SEVERITIES.index(b) else b


async def raise_threat(
    session: AsyncSession,
    *,
    type: str,
    severity: str,
    user_id: int | None,
    ip: str | None,
    now: datetime | None = None,
) -> Threat:
    """Open a threat, or fold this signal into the open one for the same user (or address)."""
    now = now or utcnow()
    stmt = select(Threat).where(
        Threat.type == type,
        Threat.status.in_(("open", "investigating")),
        Threat.last_seen >= now - THREAT_MERGE_WINDOW,
    )
    stmt = (
        stmt.where(Threat.user_id == user_id) if user_id is not None else stmt.where(Threat.user_id.is_(None))
    )
    candidates = (await session.scalars(stmt.order_by(Threat.last_seen.desc()).limit(20))).all()
    threat = next((t for t in candidates if user_id is not None or (ip is not None and ip in t.ips)), None)
    if threat is None:
        threat = Threat(
            type=type,
            severity=severity,
            status="open",
            user_id=user_id,
            ips=[ip] if ip else [],
            first_seen=now,
            last_seen=now,
            event_count=1,
            notes=[],
        )
        session.add(threat)
    else:
        threat.last_seen = now
        threat.event_count += 1
        threat.severity = _worse(threat.severity, severity)
        if ip and ip not in threat.ips:
            # A new list, not an in-place append: plain JSON columns do not track mutation.
            threat.ips = [*threat.ips, ip]
    await session.flush()
    return threat
