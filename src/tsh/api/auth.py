"""/api/auth (core.md §1): login, refresh, logout, me, register, password reset.

Login and refresh run their own unit of work instead of WriteSession: some refusals must commit
bookkeeping (failed attempt, lockout, revoked token family) before the error goes out, so the
service returns a `Rejection`, the unit of work commits, and `accepted()` raises it afterwards.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response

from tsh.api.auth_views import AuthEmpty, AuthLoggedOut, AuthMe, AuthTokens
from tsh.api.deps import AppCtx, CurrentPrincipal, WriteSession, client_ip, envelope
from tsh.domain.actor import Actor
from tsh.domain.apps import AppName
from tsh.domain.identity.service import (
    accepted,
    login,
    logout,
    me,
    normalise_email,
    record_rate_limited_login,
    refresh,
    register,
    request_password_reset,
    reset_password,
)
from tsh.platform.auth.passwords import MAX_LENGTH as PASSWORD_MAX
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import RateLimited
from tsh.platform.http.validation import no_nul

router = APIRouter(prefix="/api/auth", tags=["auth"])
# The operations a caller without a token may use (the OpenAPI document marks the rest as bearer).
PUBLIC_PATHS = tuple(
    f"/api/auth/{name}"
    for name in ("login", "refresh", "register", "password-reset-requests", "password-resets")
)

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+?[0-9][0-9 \-]{5,18}[0-9]$"
# The documented `data` of each route's success (path, method, status, model): main.py writes the
# envelope around it into the OpenAPI document; tests validate the answers against it.
SUCCESSES: tuple[tuple[str, str, int, type[BaseModel]], ...] = (
    ("/api/auth/login", "POST", 200, AuthTokens),
    ("/api/auth/refresh", "POST", 200, AuthTokens),
    ("/api/auth/logout", "POST", 200, AuthLoggedOut),
    ("/api/auth/me", "GET", 200, AuthMe),
    ("/api/auth/register", "POST", 201, AuthTokens),
    ("/api/auth/password-reset-requests", "POST", 202, AuthEmpty),
    ("/api/auth/password-resets", "POST", 200, AuthEmpty),
)
# Tokens, and the answers that carry them, must never be stored by a proxy or the app's HTTP cache.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A NUL in any string is 422, as in every other body (tsh.platform.http.validation).
    _no_nul = field_validator("*", mode="before")(no_nul)


class LoginBody(_Body):
    # No e-mail format check: a malformed address is just another unknown account (401).
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    app: AppName | None = None
    device_id: str | None = Field(default=None, max_length=128)
    device_name: str | None = Field(default=None, max_length=128)


class RefreshBody(_Body):
    refresh_token: str = Field(min_length=1, max_length=512)


class LogoutBody(_Body):
    all_sessions: bool = False


class RegisterBody(_Body):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=PHONE_PATTERN, max_length=32)
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    # Only a length cap here: the policy (422 WEAK_PASSWORD) is the service's business rule.
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    language: Literal["ar", "en"] | None = None
    device_id: str | None = Field(default=None, max_length=128)
    device_name: str | None = Field(default=None, max_length=128)


class PasswordResetRequestBody(_Body):
    email: str = Field(min_length=1, max_length=254)


class PasswordResetBody(_Body):
    token: str = Field(min_length=1, max_length=512)
    new_password: str = Field(min_length=1, max_length=PASSWORD_MAX)


def _user_agent(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[:512] if agent else None


def _private(response: Response) -> Response:
    response.headers.update(NO_STORE)
    return response


@router.post(
    "/login",
    summary="Log in and open a session",
    responses={401: {"description": "INVALID_CREDENTIALS (or a disabled account)"}},
)
async def login_route(request: Request, body: LoginBody, ctx: AppCtx) -> Response:
    ip, agent = client_ip(request), _user_agent(request)
    try:
        await ctx.limiter.hit(f"login:ip:{ip}", ctx.settings.rate_limit_login_ip)
        await ctx.limiter.hit(
            f"login:account:{normalise_email(body.email)}", ctx.settings.rate_limit_login_account
        )
    except RateLimited:
        async with unit_of_work(ctx.db, ctx.bus) as session:
            record_rate_limited_login(session, email=body.email, ip=ip, app=body.app, user_agent=agent)
        raise
    async with unit_of_work(ctx.db, ctx.bus) as session:
        outcome = await login(
            session,
            ctx.settings,
            email=body.email,
            password=body.password,
            app=body.app,
            device_id=body.device_id,
            device_name=body.device_name,
            ip=ip,
            user_agent=agent,
        )
    # Committed (attempt, lockout, events) whatever the outcome; a refusal is raised only now.
    return _private(envelope(request, accepted(outcome).as_data()))


@router.post(
    "/refresh",
    summary="Rotate the refresh token and get a new access token",
    responses={401: {"description": "INVALID_TOKEN: unknown, expired, reused or revoked"}},
)
async def refresh_route(request: Request, body: RefreshBody, ctx: AppCtx) -> Response:
    ip = client_ip(request)
    await ctx.limiter.hit(f"refresh:ip:{ip}", ctx.settings.rate_limit_login_ip)
    async with unit_of_work(ctx.db, ctx.bus) as session:
        outcome = await refresh(
            session, ctx.settings, refresh_token=body.refresh_token, ip=ip, user_agent=_user_agent(request)
        )
    # A replayed token's family revocation is committed before 401 REFRESH_TOKEN_REUSED goes out.
    return _private(envelope(request, accepted(outcome).as_data()))


@router.post("/logout", summary="Revoke the calling session, or every session of the user")
async def logout_route(
    request: Request, principal: CurrentPrincipal, session: WriteSession, body: LogoutBody | None = None
) -> Response:
    revoked = await logout(
        session,
        user_id=principal.user_id,
        session_id=principal.session_id,
        all_sessions=body.all_sessions if body else False,
    )
    return envelope(request, {"sessions_revoked": revoked})


@router.get("/me", summary="The caller: profile, permissions, linked records, session")
async def me_route(request: Request, principal: CurrentPrincipal, ctx: AppCtx) -> Response:
    # The primary, not a replica: the app calls this right after login or a profile change.
    async with ctx.db.session() as session:
        # /me has no endpoint scope of its own: the caller only ever reads itself.
        data = await me(session, Actor.of(principal, "own"), session_id=principal.session_id)
    return _private(envelope(request, data))


@router.post("/register", status_code=201, summary="Consumer self sign-up")
async def register_route(
    request: Request, body: RegisterBody, ctx: AppCtx, session: WriteSession
) -> Response:
    ip = client_ip(request)
    await ctx.limiter.hit(f"register:ip:{ip}", ctx.settings.rate_limit_login_ip)
    await ctx.limiter.hit(
        f"register:account:{normalise_email(body.email)}", ctx.settings.rate_limit_login_account
    )
    pair = await register(
        session,
        ctx.settings,
        name=body.name,
        phone=body.phone,
        email=body.email,
        password=body.password,
        language=body.language,
        device_id=body.device_id,
        device_name=body.device_name,
        ip=ip,
        user_agent=_user_agent(request),
    )
    return _private(envelope(request, pair.as_data(), status=201))


@router.post("/password-reset-requests", status_code=202, summary="Send a one-time password reset link")
async def password_reset_request_route(
    request: Request, body: PasswordResetRequestBody, ctx: AppCtx, session: WriteSession
) -> Response:
    await ctx.limiter.hit(f"password-reset:ip:{client_ip(request)}", ctx.settings.rate_limit_login_ip)
    await ctx.limiter.hit(
        f"password-reset:account:{normalise_email(body.email)}", ctx.settings.rate_limit_login_account
    )
    # The token goes to the mail sender once one exists; never into the response (same 202 for all).
    await request_password_reset(session, email=body.email)
    return envelope(request, {}, status=202)


@router.post("/password-resets", summary="Set a new password from a reset or setup link")
async def password_reset_route(
    request: Request, body: PasswordResetBody, ctx: AppCtx, session: WriteSession
) -> Response:
    await ctx.limiter.hit(f"password-reset:ip:{client_ip(request)}", ctx.settings.rate_limit_login_ip)
    await reset_password(session, token=body.token, new_password=body.new_password)
    return envelope(request, {})
