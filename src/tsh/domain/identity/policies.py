"""Security policies (SEC-19/SEC-20): the stored `security_policies` rows over built-in defaults.

DEFAULT_POLICIES is the canonical shape of each section's `values`; SEC-19 shows it and SEC-20
replaces one section with the same keys. A missing row or key falls back to the default, and a
value that is not a positive integer is ignored, so a bad edit can never disable a protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.identity.models import SecurityPolicy
from tsh.platform.auth.passwords import MIN_LENGTH

DEFAULT_POLICIES: dict[str, dict[str, Any]] = {
    # `history`: a new password may not equal the current one or the ones before it (last 5).
    "password": {"min_length": MIN_LENGTH, "require_letter": True, "require_digit": True, "history": 5},
    # `ip_threshold` is far above the account threshold: many people share one address (NAT).
    "lockout": {"threshold": 5, "window_minutes": 15, "duration_minutes": 15, "ip_threshold": 100},
    # Empty TTLs mean "the server configuration" (TSH_ACCESS_TOKEN_TTL_S, TSH_REFRESH_TOKEN_TTL_S).
    # `idle_timeout_minutes`: a session not refreshed for this long is dead (refresh refused).
    # `max_sessions_per_user`: opening one more revokes the oldest.
    "session": {
        "access_token_ttl_minutes": None,
        "refresh_token_ttl_days": None,
        "idle_timeout_minutes": 7 * 24 * 60,
        "max_sessions_per_user": 10,
    },
}


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    threshold: int
    window: timedelta
    duration: timedelta
    ip_threshold: int


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    access_ttl_s: int
    refresh_ttl_s: int
    idle_s: int
    max_sessions: int


async def load_section(session: AsyncSession, section: str) -> dict[str, Any]:
    stored = await session.scalar(select(SecurityPolicy.values).where(SecurityPolicy.section == section))
    return {**DEFAULT_POLICIES[section], **(stored or {})}


def _positive(values: dict[str, Any], key: str) -> int | None:
    value = values.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _default_int(section: str, key: str) -> int:
    value = DEFAULT_POLICIES[section][key]
    assert isinstance(value, int)
    return value


async def lockout_policy(session: AsyncSession) -> LockoutPolicy:
    values = await load_section(session, "lockout")

    def get(key: str) -> int:
        return _positive(values, key) or _default_int("lockout", key)

    return LockoutPolicy(
        threshold=get("threshold"),
        window=timedelta(minutes=get("window_minutes")),
        duration=timedelta(minutes=get("duration_minutes")),
        ip_threshold=get("ip_threshold"),
    )


async def session_policy(session: AsyncSession, settings: Settings) -> SessionPolicy:
    """The policy may only shorten the access-token lifetime below the configured one (≤ 15 min)."""
    values = await load_section(session, "session")
    access_min = _positive(values, "access_token_ttl_minutes")
    refresh_days = _positive(values, "refresh_token_ttl_days")
    access = settings.access_token_ttl_s
    if access_min is not None:
        access = min(access, access_min * 60)
    refresh = settings.refresh_token_ttl_s if refresh_days is None else refresh_days * 86400
    idle = _positive(values, "idle_timeout_minutes") or _default_int("session", "idle_timeout_minutes")
    most = _positive(values, "max_sessions_per_user") or _default_int("session", "max_sessions_per_user")
    return SessionPolicy(access_ttl_s=access, refresh_ttl_s=refresh, idle_s=idle * 60, max_sessions=most)


async def password_min_length(session: AsyncSession) -> int:
    values = await load_section(session, "password")
    return _positive(values, "min_length") or MIN_LENGTH


async def password_history_depth(session: AsyncSession) -> int:
    """How many of the latest passwords (the current one included) a new one may not repeat."""
    values = await load_section(session, "password")
    value = values.get("history")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return _default_int("password", "history")
