"""The identity context's commands and queries, in one import.

Every function takes the caller's AsyncSession and never commits: the caller's unit of work
does, and publishes the events the functions emit. Login and refresh *return* a `Rejection` for
refusals whose bookkeeping must survive (see `results`); everything else raises.
"""

from __future__ import annotations

from tsh.domain.identity.accounts import (
    check_new_password,
    issue_password_token,
    me,
    normalise_phone,
    register,
    request_password_reset,
    reset_password,
)
from tsh.domain.identity.audit import raise_threat, record_audit, record_security_event
from tsh.domain.identity.login import (
    BlockedRange,
    active_blocked_ranges,
    count_block_hit,
    ip_blocked,
    login,
    matching_block,
    normalise_email,
    record_rate_limited_login,
)
from tsh.domain.identity.password_history import refuse_reused_password, replace_password
from tsh.domain.identity.principal import load_permissions, resolve_principal
from tsh.domain.identity.results import Rejection, TokenPair, accepted
from tsh.domain.identity.sessions import logout, open_session, refresh, revoke_session, revoke_user_sessions

__all__ = [
    "BlockedRange",
    "Rejection",
    "TokenPair",
    "accepted",
    "active_blocked_ranges",
    "check_new_password",
    "count_block_hit",
    "ip_blocked",
    "issue_password_token",
    "load_permissions",
    "login",
    "logout",
    "matching_block",
    "me",
    "normalise_email",
    "normalise_phone",
    "open_session",
    "raise_threat",
    "record_audit",
    "record_rate_limited_login",
    "record_security_event",
    "refresh",
    "refuse_reused_password",
    "register",
    "replace_password",
    "request_password_reset",
    "reset_password",
    "resolve_principal",
    "revoke_session",
    "revoke_user_sessions",
]
