"""Threat detectors (clarifications.md; thresholds are Settings), run where their signal happens.

brute_force (failed logins of one account), credential_stuffing (failed logins from one address
across several accounts) after each failed login; privilege_probe (denied requests of one user)
after each denial; all over a sliding window. token_reuse is raised where a replayed refresh
token is recognised (sessions.py). impossible_travel needs a geo-IP database and mass_export a
per-user row counter; neither exists in this deployment, so the screens list them as
`unavailable` instead of pretending to watch.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.identity.audit import raise_threat, record_security_event
from tsh.domain.identity.models import AuditLog, LoginAttempt
from tsh.platform.db.base import utcnow

# A login refused while locked is still a failed try of the same attacker.
FAILED_RESULTS = ("bad_credentials", "disabled", "locked")


def detector_states() -> dict[str, str]:
    """What each detector does in this deployment (the SEC screens show it)."""
    return {
        "brute_force": "active",
        "credential_stuffing": "active",
        "token_reuse": "active",
        "privilege_probe": "active",
        "impossible_travel": "unavailable",
        "mass_export": "unavailable",
    }


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
    threat = await raise_threat(session, type="privilege_probe", severity="medium", user_id=user_id, ip=ip)
    record_security_event(
        session,
        type="access_denied",
        severity="medium",
        user_id=user_id,
        ip=ip,
        details={"denials_in_window": int(denials or 0)},
        threat_id=threat.id,
    )
