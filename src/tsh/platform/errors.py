"""Errors with stable codes. Domain services raise these; one handler turns them into the envelope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class AppError(Exception):
    status: int = 400
    code: str = "BAD_REQUEST"
    message: str = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.details = list(details) if details else None
        self.headers = dict(headers) if headers else None
        super().__init__(self.message)


class NotFound(AppError):
    status, code, message = 404, "NOT_FOUND", "Not found"


class Forbidden(AppError):
    status, code, message = 403, "FORBIDDEN", "Your role may not use this function"


class Unauthorized(AppError):
    status, code, message = 401, "AUTH_REQUIRED", "Authentication required"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"WWW-Authenticate": "Bearer"})


class Conflict(AppError):
    status, code, message = 409, "CONFLICT", "Conflict with the current state"


class Invalid(AppError):
    """422 for a request that is invalid in itself (a business-rule code, or VALIDATION_ERROR)."""

    status, code, message = 422, "VALIDATION_ERROR", "The request is invalid"


class RateLimited(AppError):
    status, code, message = 429, "RATE_LIMITED", "Too many requests"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(headers={"Retry-After": str(max(1, retry_after_s))})


class ServiceUnavailable(AppError):
    status, code, message = 503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable"


def field_error(field: str, issue: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "issue": issue, **extra}
