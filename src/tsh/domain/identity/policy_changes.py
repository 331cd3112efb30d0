"""SEC-19/20: show the security policies and replace one section, enforcing it at once.

A new section applies to the next login, refresh or password change (they read the policy each
time). Shortening a session limit also revokes the live sessions that now exceed it: idle longer
than the new idle timeout, unrefreshed longer than the new refresh lifetime, and each user's
oldest sessions beyond the new maximum.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.actor import Actor
from tsh.domain.identity.audit import record_security_event
from tsh.domain.identity.models import SecurityPolicy, UserSession
from tsh.domain.identity.policies import DEFAULT_POLICIES, load_section, session_policy
from tsh.domain.identity.sessions import revoke_beyond_limit, revoke_session
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, field_error

# key → (smallest allowed, largest allowed, may be null); below/above is POLICY_TOO_WEAK except
# where a bound is only a sanity limit (SANE_BOUNDS: VALIDATION_ERROR).
LIMITS: dict[str, dict[str, tuple[int, int, bool]]] = {
    "password": {"min_length": (8, 128, False), "history": (0, 24, False)},
    "lockout": {
        "threshold": (1, 20, False),
        "window_minutes": (1, 1440, False),
        "duration_minutes": (1, 10080, False),
        "ip_threshold": (1, 10000, False),
    },
    "session": {
        "access_token_ttl_minutes": (1, 15, True),
        "refresh_token_ttl_days": (1, 90, True),
        "idle_timeout_minutes": (5, 30 * 24 * 60, False),
        "max_sessions_per_user": (1, 50, False),
    },
}
# The weak side of each bound: a value past it weakens a protection (POLICY_TOO_WEAK); past the
# other side it is merely out of range (VALIDATION_ERROR).
WEAK_SIDE: dict[str, str] = {
    "min_length": "low",
    "history": "low",
    "threshold": "high",
    "window_minutes": "low",
    "duration_minutes": "low",
    "ip_threshold": "high",
    "access_token_ttl_minutes": "high",
    "refresh_token_ttl_days": "high",
    "idle_timeout_minutes": "high",
    "max_sessions_per_user": "high",
}
FLAGS = {"password": ("require_letter", "require_digit")}


async def all_policies(session: AsyncSession, actor: Actor, settings: Settings) -> dict[str, Any]:
    """Every section with its values (defaults filled in) and what the server applies."""
    stored = {
        section: (at, by)
        for section, at, by in await session.execute(
            select(SecurityPolicy.section, SecurityPolicy.updated_at, SecurityPolicy.updated_by_id)
        )
    }
    applied = await session_policy(session, settings)
    out: dict[str, Any] = {}
    for section in DEFAULT_POLICIES:
        at, by = stored.get(section, (None, None))
        out[section] = {
            "values": await load_section(session, section),
            "updated_at": at.isoformat() if at else None,
            "updated_by_id": by,
        }
    out["session"]["effective"] = {
        "access_token_ttl_s": applied.access_ttl_s,
        "refresh_token_ttl_s": applied.refresh_ttl_s,
        "idle_timeout_s": applied.idle_s,
        "max_sessions_per_user": applied.max_sessions,
    }
    return out


def _check_values(section: str, values: dict[str, Any]) -> dict[str, Any]:
    limits, flags = LIMITS[section], FLAGS.get(section, ())
    unknown = sorted(set(values) - set(limits) - set(flags))
    if unknown:
        raise Invalid(details=[field_error(f"values.{k}", "unknown key for this section") for k in unknown])
    weak: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for key, value in values.items():
        where = f"values.{key}"
        if key in flags:
            if not isinstance(value, bool):
                bad.append(field_error(where, "must be true or false"))
            elif not value:
                # The password check always demands a letter and a digit; the flag cannot lie.
                weak.append(field_error(where, "cannot be turned off"))
            continue
        low, high, nullable = limits[key]
        if value is None and nullable:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            bad.append(field_error(where, "must be a whole number"))
            continue
        too_low, too_high = value < low, value > high
        if (too_low and WEAK_SIDE[key] == "low") or (too_high and WEAK_SIDE[key] == "high"):
            weak.append(field_error(where, f"must be between {low} and {high}", minimum=low, maximum=high))
        elif too_low or too_high:
            bad.append(field_error(where, f"must be between {low} and {high}", minimum=low, maximum=high))
    if bad:
        raise Invalid(details=bad)
    if weak:
        raise Invalid("The policy would fall below the allowed minimum", code="POLICY_TOO_WEAK", details=weak)
    return {**DEFAULT_POLICIES[section], **values}


async def replace_policy(
    session: AsyncSession, actor: Actor, settings: Settings, *, section: str, values: dict[str, Any]
) -> int:
    """Replace one section (keys not given take their defaults); returns sessions revoked.

    Errors: 422 POLICY_TOO_WEAK (a protection weakened past its bound: password shorter than 8,
    lockout threshold above 20, access-token TTL above 15 minutes…), 422 VALIDATION_ERROR for
    unknown keys or values of the wrong type.
    """
    new_values = _check_values(section, values)
    row = await session.scalar(
        select(SecurityPolicy).where(SecurityPolicy.section == section).with_for_update()
    )
    before = await load_section(session, section)
    if row is None:
        session.add(SecurityPolicy(section=section, values=new_values, updated_by_id=actor.user_id))
    else:
        row.values, row.updated_by_id, row.updated_at = new_values, actor.user_id, utcnow()
    await session.flush()
    revoked = await _revoke_exceeding(session, settings) if section == "session" else 0
    record_security_event(
        session,
        type="policy_changed",
        severity="medium",
        user_id=actor.user_id,
        details={"section": section, "before": before, "after": new_values, "sessions_revoked": revoked},
    )
    return revoked


async def _revoke_exceeding(session: AsyncSession, settings: Settings) -> int:
    policy = await session_policy(session, settings)
    now = utcnow()
    live = (UserSession.revoked_at.is_(None), UserSession.expires_at > now)
    stale = list(
        await session.scalars(
            select(UserSession.id).where(
                *live,
                UserSession.last_seen_at.is_not(None),
                UserSession.last_seen_at <= now - timedelta(seconds=min(policy.idle_s, policy.refresh_ttl_s)),
            )
        )
    )
    revoked = 0
    for session_id in stale:
        if await revoke_session(session, session_id=session_id, reason="policy_changed"):
            revoked += 1
    crowded = await session.scalars(
        select(UserSession.user_id)
        .where(*live)
        .group_by(UserSession.user_id)
        .having(func.count() > policy.max_sessions)
    )
    for user_id in list(crowded):
        revoked += await revoke_beyond_limit(session, user_id=user_id, max_sessions=policy.max_sessions)
    return revoked
