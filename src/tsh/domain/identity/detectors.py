"""Threat detectors (clarifications.md; thresholds are Settings), run where their signal happens.

brute_force (failed logins of one account), credential_stuffing (failed logins from one address
across several accounts) after each failed login; privilege_probe (denied requests of one user)
after each denial; all over a sliding window. token_reuse is raised where a replayed refresh
token is recognised (sessions.py). impossible_travel after each successful login, when a geo-IP
database is configured (TSH_GEOIP_DB; without one the screens list it as `unavailable` instead of
pretending to watch). mass_export where list screens hand out customer or order rows
(`watch_export`): distinct row ids per user counted in the cache back end over the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.identity.audit import raise_threat, record_security_event
from tsh.domain.identity.models import AuditLog, LoginAttempt
from tsh.platform.cache.backend import CacheBackend, CacheError
from tsh.platform.db.base import utcnow
from tsh.platform.db.engine import Database
from tsh.platform.db.uow import unit_of_work
from tsh.platform.events import EventBus
from tsh.platform.geoip import locator

# A login refused while locked is still a failed try of the same attacker.
FAILED_RESULTS = ("bad_credentials", "disabled", "locked")


def detector_states(settings: Settings) -> dict[str, str]:
    """What each detector does in this deployment (the SEC screens show it)."""
    return {
        "brute_force": "active",
        "credential_stuffing": "active",
        "token_reuse": "active",
        "privilege_probe": "active",
        "impossible_travel": "active" if settings.geoip_db else "unavailable",
        "mass_export": "active",
    }


async def _signal(
    session: AsyncSession,
    *,
    threat: str,
    severity: str,
    user_id: int | None,
    ip: str | None,
    details: dict[str, Any],
    event: str | None = None,
    now: datetime | None = None,
) -> None:
    """Open a threat of type `threat` (or fold this signal into the open one) and record the
    security event that names it (`event`, by default the threat's type)."""
    found = await raise_threat(session, type=threat, severity=severity, user_id=user_id, ip=ip, now=now)
    record_security_event(
        session, type=event or threat, severity=severity, user_id=user_id, ip=ip, details=details,
        threat_id=found.id,
    )  # fmt: skip


async def detect_login_threats(
    session: AsyncSession, settings: Settings, *, email: str, user_id: int | None, ip: str | None
) -> int | None:
    """After a failed login (its LoginAttempt flushed): raise brute_force / credential_stuffing
    when the window holds enough failures. Returns the threat the failure belongs to, if any."""
    now = utcnow()
    since = now - timedelta(minutes=settings.threat_window_minutes)
    threat_id: int | None = None
    by_account = await session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email == email, LoginAttempt.at > since, LoginAttempt.result.in_(FAILED_RESULTS))
    )
    if int(by_account or 0) >= settings.threat_brute_force_failures:
        threat = await raise_threat(
            session, type="brute_force", severity="high", user_id=user_id, ip=ip, now=now
        )
        threat_id = threat.id
    if ip:
        failures, accounts = (
            await session.execute(
                select(func.count(), func.count(distinct(LoginAttempt.email))).where(
                    LoginAttempt.ip == ip, LoginAttempt.at > since, LoginAttempt.result.in_(FAILED_RESULTS)
                )
            )
        ).one()
        if failures >= settings.threat_stuffing_failures and accounts >= settings.threat_stuffing_accounts:
            threat = await raise_threat(
                session, type="credential_stuffing", severity="critical", user_id=None, ip=ip, now=now
            )
            threat_id = threat_id or threat.id
    return threat_id


async def detect_privilege_probe(
    session: AsyncSession, settings: Settings, *, user_id: int, ip: str | None
) -> None:
    """After a denied request (its audit row flushed): privilege_probe at enough denials."""
    now = utcnow()
    since = now - timedelta(minutes=settings.threat_window_minutes)
    denials = await session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.actor_id == user_id, AuditLog.at > since, AuditLog.decision == "denied")
    )
    if int(denials or 0) < settings.threat_probe_denials:
        return
    await _signal(
        session, threat="privilege_probe", event="access_denied", severity="medium", user_id=user_id,
        ip=ip, details={"denials_in_window": int(denials or 0)},
    )  # fmt: skip


async def detect_impossible_travel(
    session: AsyncSession, settings: Settings, *, user_id: int, ip: str | None, now: datetime
) -> None:
    """Before a successful login is recorded: impossible_travel when the user's previous
    successful login came from another country, farther away than `threat_travel_kmh` allows in
    the time between them. Addresses the database cannot place are never flagged."""
    places = locator(settings.geoip_db)
    if places is None:
        return
    here = places.place(ip)
    if here is None:
        return
    last = (
        await session.execute(
            select(LoginAttempt.ip, LoginAttempt.at)
            .where(LoginAttempt.user_id == user_id, LoginAttempt.result == "success", LoginAttempt.at <= now)
            .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
            .limit(1)
        )
    ).first()
    if last is None or last.ip == ip:
        return
    there = places.place(last.ip)
    if there is None or there.country == here.country:
        return
    km = there.km_to(here)
    hours = max((now - last.at).total_seconds(), 1.0) / 3600
    if km / hours <= settings.threat_travel_kmh:
        return
    await _signal(
        session,
        threat="impossible_travel",
        severity="high",
        user_id=user_id,
        ip=ip,
        now=now,
        details={
            "from": {"ip": last.ip, "country": there.country},
            "to": {"ip": ip, "country": here.country},
            "km": round(km),
            "km_per_hour": round(km / hours),
        },
    )


# (user, kind, window bucket) already flagged by this process: one threat signal per window,
# not a database write on every page a flagged user still reads.
_flagged: set[tuple[int, str, int]] = set()


async def watch_export(
    *,
    cache: CacheBackend,
    db: Database,
    bus: EventBus,
    settings: Settings,
    user_id: int,
    ip: str | None,
    kind: str,
    row_ids: list[int],
) -> None:
    """After a list screen handed `row_ids` of `kind` (customers or orders) to a user: count the
    distinct rows over the window and raise mass_export (high) once the user has received more
    than `threat_export_rows`. A cache back end that is down skips the count (never the answer)."""
    window_s = settings.threat_window_minutes * 60
    try:
        seen = await cache.count_distinct(f"export:{kind}:u{user_id}", map(str, row_ids), window_s)
    except CacheError:
        return
    if seen <= settings.threat_export_rows:
        return
    mark = (user_id, kind, int(utcnow().timestamp() // window_s))
    if mark in _flagged:
        return
    _flagged.add(mark)
    async with unit_of_work(db, bus) as session:
        await _signal(
            session,
            threat="mass_export",
            severity="high",
            user_id=user_id,
            ip=ip,
            details={"kind": kind, "distinct_rows": seen, "window_minutes": settings.threat_window_minutes},
        )
