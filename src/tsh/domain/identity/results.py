"""What the session commands answer: a token pair, or a refusal whose bookkeeping must be kept.

Login and refresh refuse some requests only after writing something that has to survive the
refusal (the failed LoginAttempt, a lockout, the revocation of a family whose refresh token was
replayed). Raising inside the unit of work would roll that back, so those commands *return* a
`Rejection` instead: the caller lets its unit of work commit, then raises `rejection.error`
(`accepted()` does exactly that). Refusals with nothing to keep are raised directly as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from tsh.platform.errors import AppError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Rejection:
    error: AppError


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    session_id: int
    user_id: int
    user_name: str
    role: str
    branch_id: int | None

    def as_data(self) -> dict[str, Any]:
        """The `data` of the login, refresh and register responses (core.md §1)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_expires_in": self.refresh_expires_in,
            "user": {
                "id": self.user_id,
                "name": self.user_name,
                "role": self.role,
                "branch_id": self.branch_id,
            },
        }


def accepted(outcome: T | Rejection) -> T:
    """The result, or raise the refusal. Call it after the unit of work has committed."""
    if isinstance(outcome, Rejection):
        raise outcome.error
    return outcome
