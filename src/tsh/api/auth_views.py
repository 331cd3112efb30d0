"""Models of the `data` that /api/auth answers (core.md §1), for the OpenAPI document and the
tests; the routes keep building plain dicts inside the envelope."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tsh.domain.apps import AppName

Id = int


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthTokenUser(_View):
    id: Id = Field(ge=1)
    name: str
    role: str = Field(examples=["salesperson"])
    branch_id: Id | None


class AuthTokens(_View):
    """Login, refresh and register: an access token (JWT) and a single-use refresh token."""

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="seconds", examples=[900])
    refresh_expires_in: int = Field(description="seconds", examples=[2592000])
    user: AuthTokenUser


class AuthLoggedOut(_View):
    sessions_revoked: int


class AuthBranch(_View):
    id: Id
    name: str


class AuthMeUser(_View):
    id: Id
    name: str
    email: str
    phone: str | None
    role: str
    branch: AuthBranch | None
    language: Literal["ar", "en"]


class AuthLinks(_View):
    employee_id: Id | None
    customer_id: Id | None
    partner_id: Id | None
    technician_id: Id | None


class AuthSession(_View):
    id: Id
    app: AppName | None
    created_at: AwareDatetime
    expires_at: AwareDatetime


class AuthMe(_View):
    """GET /api/auth/me: the caller, their permission codes, linked records and session."""

    user: AuthMeUser
    permissions: list[str]
    links: AuthLinks
    session: AuthSession


class AuthEmpty(_View):
    """An answer with nothing to say (password reset request and reset)."""
