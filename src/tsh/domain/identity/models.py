"""Tables of the identity & security context (domain.md §1).

Other contexts are referenced by table name only (`branches`, `customers`, `partners`), so this
module imports no other context. Relationships are few and `lazy="raise"`: async code must say what
it loads, and an accidental lazy load fails loudly in tests instead of blocking in production.
IdempotencyRecord lives in `tsh.platform.idempotency`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.domain.apps import APPS
from tsh.platform.db.base import Base, JsonType, TimestampMixin

LANGUAGES = ("ar", "en")
USER_STATUSES = ("active", "disabled")
SCOPES = ("own", "branch", "all")
OVERRIDE_EFFECTS = ("grant", "deny")
PLATFORMS = ("android", "ios")
LOGIN_RESULTS = ("success", "bad_credentials", "locked", "disabled", "rate_limited")
LOCKOUT_KINDS = ("account", "ip")
SEVERITIES = ("low", "medium", "high", "critical")
THREAT_TYPES = (
    "brute_force", "credential_stuffing", "token_reuse",
    "impossible_travel", "privilege_probe", "mass_export",
)  # fmt: skip
THREAT_STATUSES = ("open", "investigating", "resolved", "false_positive")
AUDIT_DECISIONS = ("allowed", "denied")
POLICY_SECTIONS = ("password", "lockout", "session")
PASSWORD_TOKEN_PURPOSES = ("reset", "setup")

# Long enough for an IPv6 address with a zone; CIDR adds "/128".
IP_LEN = 64


def one_of(column: str, values: Iterable[str], name: str) -> CheckConstraint:
    """An enum as a CHECK constraint: portable across SQLite and PostgreSQL, no ALTER TYPE later."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class Role(TimestampMixin, Base):
    """One of the 15 fixed roles (tsh.domain.identity.rbac); only its permission set changes."""

    __tablename__ = "roles"

    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    default_scope: Mapped[str] = mapped_column(String(8), nullable=False)

    __table_args__ = (one_of("default_scope", SCOPES, "default_scope"),)


class Permission(TimestampMixin, Base):
    __tablename__ = "permissions"

    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    module: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")


class RolePermission(TimestampMixin, Base):
    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), nullable=False)
    permission_id: Mapped[int] = mapped_column(
        ForeignKey("permissions.id", ondelete="CASCADE"), nullable=False
    )

    __table_args__ = (Index("uq_role_permissions_role_permission", "role_id", "permission_id", unique=True),)


class User(TimestampMixin, Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Stored lower-cased (normalise_email) so the unique index is case-insensitive on every back end.
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    # Empty until the setup link is used (ADM-04, HR-05) or after an admin reset (ADM-07).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), nullable=False)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="en")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    # Bumped by every role, override or role-permission change: access tokens carry it as `pv`.
    permission_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    last_login_at: Mapped[datetime | None]

    role: Mapped[Role] = relationship("Role", lazy="raise")

    __table_args__ = (
        one_of("language", LANGUAGES, "language"),
        one_of("status", USER_STATUSES, "status"),
        Index("uq_users_email", "email", unique=True),
        Index("ix_users_phone", "phone"),
        Index("ix_users_role_id", "role_id"),
        Index("ix_users_branch_id", "branch_id"),
        Index("ix_users_customer_id", "customer_id"),
        Index("ix_users_partner_id", "partner_id"),
    )


class UserPermissionOverride(TimestampMixin, Base):
    """A grant or denial on top of the role; a denial beats a role grant."""

    __tablename__ = "user_permission_overrides"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    permission_id: Mapped[int] = mapped_column(ForeignKey("permissions.id"), nullable=False)
    effect: Mapped[str] = mapped_column(String(8), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        one_of("effect", OVERRIDE_EFFECTS, "effect"),
        Index("uq_user_permission_overrides_user_permission", "user_id", "permission_id", unique=True),
    )


class UserSession(TimestampMixin, Base):
    """A signed-in device: one session is one refresh-token family.

    Only the hash of the current refresh token is kept here. Consumed tokens move to
    `refresh_tokens` (ConsumedRefreshToken) so a replayed one is found by its hash alone.
    """

    __tablename__ = "sessions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    app: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(128))
    device_name: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(IP_LEN))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    push_token: Mapped[str | None] = mapped_column(String(512))
    platform: Mapped[str | None] = mapped_column(String(8))
    refresh_token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    refresh_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    last_seen_at: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship("User", lazy="raise")

    __table_args__ = (
        one_of("app", APPS, "app"),
        one_of("platform", PLATFORMS, "platform"),
        Index("uq_sessions_refresh_token_hash", "refresh_token_hash", unique=True),
        # "Active sessions of a user" (logout all, revocation, SEC-11) and "of an IP" (SEC-09).
        Index("ix_sessions_user_id_revoked_at", "user_id", "revoked_at"),
        Index("ix_sessions_ip", "ip"),
    )


class ConsumedRefreshToken(TimestampMixin, Base):
    """A refresh token that has been rotated away; presenting it again is token theft.

    Why a table rather than a column on the session: the refresh token is opaque, so the only way
    to tell "reused" from "never issued" is to find the session from the token's hash. A unique
    index on consumed hashes gives that in one point lookup for every ancestor of the family (not
    only the previous token), while the session row keeps one current hash. Rows can be pruned
    once their session has expired.
    """

    __tablename__ = "refresh_tokens"

    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    generation: Mapped[int] = mapped_column(Integer, nullable=False)
    consumed_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (Index("uq_refresh_tokens_token_hash", "token_hash", unique=True),)


class PasswordResetToken(TimestampMixin, Base):
    """A one-time reset or setup link (24 h). Only the SHA-256 of the token is stored."""

    __tablename__ = "password_reset_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    purpose: Mapped[str] = mapped_column(String(8), nullable=False, default="reset")
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    used_at: Mapped[datetime | None]

    __table_args__ = (
        one_of("purpose", PASSWORD_TOKEN_PURPOSES, "purpose"),
        Index("uq_password_reset_tokens_token_hash", "token_hash", unique=True),
    )


class PasswordHistory(TimestampMixin, Base):
    """Hashes of a user's earlier passwords (the policy refuses repeating the last N, SEC-19).

    Only Argon2 hashes, written when a password is replaced; the newest N are ever read."""

    __tablename__ = "password_history"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)

    __table_args__ = (Index("ix_password_history_user_id_created_at", "user_id", "created_at"),)


class LoginAttempt(TimestampMixin, Base):
    """Append-only. Passwords are never stored, not even wrong ones."""

    __tablename__ = "login_attempts"

    at: Mapped[datetime] = mapped_column(nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ip: Mapped[str | None] = mapped_column(String(IP_LEN))
    app: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(16), nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(512))

    __table_args__ = (
        one_of("result", LOGIN_RESULTS, "result"),
        Index("ix_login_attempts_at", "at"),
        # Failure counting for the lockout policy walks these two by time.
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
        Index("ix_login_attempts_user_id", "user_id"),
    )


class Lockout(TimestampMixin, Base):
    """An account or IP refused at login until `until` (or until lifted, SEC-07).

    Account lockouts are keyed by the e-mail tried and carry the user when one exists, so an
    unknown address locks exactly like a real one and the 429 reveals nothing about accounts.
    """

    __tablename__ = "lockouts"

    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(IP_LEN))
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_at: Mapped[datetime] = mapped_column(nullable=False)
    until: Mapped[datetime] = mapped_column(nullable=False)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None]

    __table_args__ = (
        one_of("kind", LOCKOUT_KINDS, "kind"),
        CheckConstraint("email IS NOT NULL OR ip IS NOT NULL", name="target"),
        Index("ix_lockouts_email_locked_at", "email", "locked_at"),
        Index("ix_lockouts_ip_locked_at", "ip", "locked_at"),
        Index("ix_lockouts_user_id", "user_id"),
        Index("ix_lockouts_until", "until"),
    )


class BlockedIp(TimestampMixin, Base):
    """An IP or CIDR range refused on every API. Lifting keeps the row (SEC-08 shows history)."""

    __tablename__ = "blocked_ips"

    cidr: Mapped[str] = mapped_column(String(IP_LEN), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime | None]
    hits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lift_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_blocked_ips_lifted_at", "lifted_at"),)


class Threat(TimestampMixin, Base):
    __tablename__ = "threats"

    type: Mapped[str] = mapped_column(String(24), nullable=False)
    severity: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ips: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    first_seen: Mapped[datetime] = mapped_column(nullable=False)
    last_seen: Mapped[datetime] = mapped_column(nullable=False)
    event_count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # [{"by": user id, "at": ISO time, "text": ...}], appended by SEC-04.
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False, default=list)
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        one_of("type", THREAT_TYPES, "type"),
        one_of("severity", SEVERITIES, "severity"),
        one_of("status", THREAT_STATUSES, "status"),
        Index("ix_threats_status_last_seen", "status", "last_seen"),
        Index("ix_threats_user_id", "user_id"),
    )


class SecurityEvent(TimestampMixin, Base):
    """Append-only. `type` is an open list (login_failed, lockout, refresh_reuse, …), so unchecked."""

    __tablename__ = "security_events"

    at: Mapped[datetime] = mapped_column(nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    severity: Mapped[str] = mapped_column(String(8), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    ip: Mapped[str | None] = mapped_column(String(IP_LEN))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)
    threat_id: Mapped[int | None] = mapped_column(ForeignKey("threats.id"))

    __table_args__ = (
        one_of("severity", SEVERITIES, "severity"),
        Index("ix_security_events_at", "at"),
        Index("ix_security_events_type_at", "type", "at"),
        Index("ix_security_events_user_id", "user_id"),
        Index("ix_security_events_threat_id", "threat_id"),
    )


class AuditLog(TimestampMixin, Base):
    """Append-only: the admin "activity log" and the security "audit trail"."""

    __tablename__ = "audit_logs"

    at: Mapped[datetime] = mapped_column(nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    app: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_type: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[int | None]
    decision: Mapped[str] = mapped_column(String(8), nullable=False, default="allowed")
    reason: Mapped[str | None] = mapped_column(String(500))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    ip: Mapped[str | None] = mapped_column(String(IP_LEN))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # When the phone made the change, for writes queued offline (mobile.md §2, the outbox): `at`
    # stays the server's time, which business rules use.
    client_at: Mapped[datetime | None]

    __table_args__ = (
        one_of("decision", AUDIT_DECISIONS, "decision"),
        Index("ix_audit_logs_at", "at"),
        Index("ix_audit_logs_actor_id_at", "actor_id", "at"),
        Index("ix_audit_logs_entity", "entity_type", "entity_id"),
        Index("ix_audit_logs_decision_at", "decision", "at"),
    )


class SecurityPolicy(TimestampMixin, Base):
    """One row per section; a missing row means the defaults of tsh.domain.identity.policies."""

    __tablename__ = "security_policies"

    section: Mapped[str] = mapped_column(String(16), nullable=False)
    values: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        one_of("section", POLICY_SECTIONS, "section"),
        Index("uq_security_policies_section", "section", unique=True),
    )


class Media(TimestampMixin, Base):
    __tablename__ = "media"

    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    url: Mapped[str] = mapped_column(String(1024), nullable=False)


class ApiRequestLog(TimestampMixin, Base):
    """Append-only, kept 31 days; the source of ADM-24 (usage per app and endpoint, distinct users)."""

    __tablename__ = "api_request_logs"

    at: Mapped[datetime] = mapped_column(nullable=False)
    app: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    route: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False)
    cached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        Index("ix_api_request_logs_at", "at"),
        Index("ix_api_request_logs_app_at", "app", "at"),
    )


NOTIFICATION_CHANNELS = ("email", "sms")
NOTIFICATION_STATUSES = ("pending", "sent", "failed")


class Notification(TimestampMixin, Base):
    """Outbox of messages to people (setup and reset links, …), written in the action's transaction.

    No mail or SMS provider is reachable from here: a sender delivers `pending` rows when one is
    configured; until then they stay pending and the admin passes the link on by hand. The link
    itself is never stored (only its token's hash, in password_reset_tokens).
    """

    __tablename__ = "notifications"

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="pending")
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        one_of("channel", NOTIFICATION_CHANNELS, "channel"),
        one_of("status", NOTIFICATION_STATUSES, "status"),
        Index("ix_notifications_status_created_at", "status", "created_at"),
        Index("ix_notifications_user_id", "user_id"),
    )


class RequestRollup(TimestampMixin, Base):
    """One minute of one route's calls of one status class, as counted by one server instance.

    `b0`..`b9` are the latency histogram (tsh.platform.requestlog.BUCKETS_MS), so sums over any
    window stay in SQL. Several instances write their own rows; readers add them up.
    """

    __tablename__ = "request_rollups"

    minute: Mapped[datetime] = mapped_column(nullable=False)
    instance: Mapped[str] = mapped_column(String(16), nullable=False)
    app: Mapped[str] = mapped_column(String(16), nullable=False)
    route: Mapped[str] = mapped_column(String(255), nullable=False)
    status_class: Mapped[str] = mapped_column(String(3), nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cached: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    latency_sum_ms: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    b0: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b1: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b2: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b3: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b4: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b5: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b6: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b7: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b8: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    b9: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (
        Index("uq_request_rollups_key", "minute", "instance", "app", "route", "status_class", unique=True),
        Index("ix_request_rollups_app_minute", "app", "minute"),
    )


class RequestUserDay(TimestampMixin, Base):
    """A user who called a route on a day: ADM-24's distinct users without one row per request."""

    __tablename__ = "request_user_days"

    day: Mapped[date] = mapped_column(nullable=False)
    app: Mapped[str] = mapped_column(String(16), nullable=False)
    route: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        Index("uq_request_user_days_key", "day", "app", "route", "user_id", unique=True),
        Index("ix_request_user_days_app_day", "app", "day"),
    )
