"""Errors with stable codes. Domain services raise these; one handler turns them into the envelope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


# -- the catalogue of error codes ----------------------------------------------------------------
# Every `error_code` a response may carry is declared once with its HTTP status(es) and meaning:
# the platform's own codes below, the business codes in `tsh.domain.error_codes`. The OpenAPI
# document and docs/endpoints.md list them per endpoint; the test suite refuses a code that is
# raised but not declared.


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    statuses: tuple[int, ...]
    meaning: str

    @property
    def status(self) -> int:
        return self.statuses[0]


ERROR_CODES: dict[str, ErrorCode] = {}


def declare_errors(*entries: tuple[int | tuple[int, ...], str, str]) -> None:
    """Declare `(status or statuses, CODE, one-line meaning)` entries; a code is declared once."""
    for status, code, meaning in entries:
        if code in ERROR_CODES:
            raise ValueError(f"error code {code} is declared twice")
        statuses = (status,) if isinstance(status, int) else tuple(status)
        ERROR_CODES[code] = ErrorCode(code, statuses, meaning)


declare_errors(
    (400, "MALFORMED_REQUEST", "the body is not valid JSON"),
    (400, "IDEMPOTENCY_KEY_REQUIRED", "this action needs an Idempotency-Key header"),
    (400, "BAD_REQUEST", "the request cannot be served as sent"),
    (401, "AUTH_REQUIRED", "no bearer token was sent"),
    (401, "INVALID_TOKEN", "the token is malformed, forged, of the wrong type or for another audience"),
    (401, "TOKEN_EXPIRED", "the access token expired or the permissions changed: refresh it"),
    (401, "SESSION_REVOKED", "the session was revoked or expired, or the user disabled"),
    (403, "FORBIDDEN", "the caller's role may not use this function"),
    (403, "IP_BLOCKED", "requests from this address are blocked"),
    (404, "NOT_FOUND", "no such route or record (also another owner's record)"),
    (
        (405, 422),
        "METHOD_NOT_ALLOWED",
        "the path does not take this method (405); a rule excludes the method (422)",
    ),
    (409, "CONFLICT", "a conflict with the current state"),
    (409, "REQUEST_IN_PROGRESS", "the first request with this Idempotency-Key is still running"),
    (413, "PAYLOAD_TOO_LARGE", "the body is larger than 1 MiB"),
    (422, "VALIDATION_ERROR", "a field or parameter breaks the schema; `details` names each"),
    (422, "IDEMPOTENCY_KEY_REUSED", "the Idempotency-Key was used with another body or endpoint"),
    (426, "UPGRADE_REQUIRED", "this version of the app is below its minimum; `details` names it"),
    (429, "RATE_LIMITED", "too many requests; retry after Retry-After seconds"),
    (500, "INTERNAL_ERROR", "an unexpected server error; the request id identifies it in the logs"),
    (503, "SERVICE_UNAVAILABLE", "the database is unavailable or the pool is exhausted; retry"),
)

# Codes any endpoint may answer through the one mechanism, whatever its own rules.
GENERIC_ERRORS: frozenset[str] = frozenset(
    {
        "MALFORMED_REQUEST",
        "AUTH_REQUIRED",
        "INVALID_TOKEN",
        "TOKEN_EXPIRED",
        "SESSION_REVOKED",
        "FORBIDDEN",
        "IP_BLOCKED",
        "NOT_FOUND",
        "METHOD_NOT_ALLOWED",
        "PAYLOAD_TOO_LARGE",
        "VALIDATION_ERROR",
        "RATE_LIMITED",
        "UPGRADE_REQUIRED",
        "INTERNAL_ERROR",
        "SERVICE_UNAVAILABLE",
    }
)
IDEMPOTENCY_ERRORS: frozenset[str] = frozenset(
    {"IDEMPOTENCY_KEY_REQUIRED", "IDEMPOTENCY_KEY_REUSED", "REQUEST_IN_PROGRESS"}
)
