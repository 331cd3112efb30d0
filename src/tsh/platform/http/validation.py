"""Turn validation failures into `details` entries without echoing the input back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from tsh.platform.errors import AppError

M = TypeVar("M", bound=BaseModel)
_SOURCES = {"body", "query", "path", "header", "cookie"}


def field_path(loc: Sequence[Any]) -> str:
    parts = [p for p in loc if p not in _SOURCES] if len(loc) > 1 else list(loc)
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def _issue(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required"
    # Pydantic messages describe the rule ("Input should be greater than 0"), not the input.
    return str(err.get("msg", "invalid"))


def details_from(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [{"field": field_path(e.get("loc", ())), "issue": _issue(e)} for e in errors]


BUSINESS_CODE_PREFIX = "code:"


def validation_error(errors: Iterable[Mapping[str, Any]]) -> AppError:
    """422 VALIDATION_ERROR, or the contract's specific code (e.g. INVALID_AMOUNT) when a
    validator raised `PydanticCustomError("code:INVALID_AMOUNT", ...)`."""
    error_list = list(errors)
    code = "VALIDATION_ERROR"
    for err in error_list:
        kind = str(err.get("type", ""))
        if kind.startswith(BUSINESS_CODE_PREFIX):
            code = kind[len(BUSINESS_CODE_PREFIX) :]
            break
    return AppError("The request is invalid", code=code, status=422, details=details_from(error_list))


def _nul_fields(value: Any, loc: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where a NUL character sits in a JSON value (keys included)."""
    if isinstance(value, str):
        return [loc] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            found += [(*loc, key)] if "\x00" in key else _nul_fields(item, (*loc, key))
        return found
    if isinstance(value, list):
        return [hit for i, item in enumerate(value) for hit in _nul_fields(item, (*loc, i))]
    return []


def refuse_nul(locations: list[tuple[Any, ...]]) -> None:
    """A NUL character in any string is 422 on both back ends: PostgreSQL cannot store it in text
    and no field of the contract has a use for one, so it is refused rather than silently dropped."""
    if locations:
        raise validation_error(
            [{"loc": loc, "msg": "must not contain NUL characters", "type": "nul"} for loc in locations]
        )


def no_nul(value: Any) -> Any:
    """A before-validator for models that FastAPI parses itself (the /api/auth bodies)."""
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul", "must not contain NUL characters")
    return value


def parse_json_body(model: type[M], raw: bytes) -> M:
    if not raw.strip():
        raw = b"{}"
    if b"\\u0000" in raw:  # the only way a NUL can sit in valid JSON text
        with contextlib.suppress(orjson.JSONDecodeError):  # MALFORMED_REQUEST below
            refuse_nul(_nul_fields(orjson.loads(raw)))
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        if any(e.get("type") == "json_invalid" for e in errors):
            raise AppError(
                "The request body is not valid JSON", code="MALFORMED_REQUEST", status=400
            ) from None
        raise validation_error(errors) from None


def parse_params(model: type[M], params: Mapping[str, Any]) -> M:
    refuse_nul(_nul_fields(dict(params)))
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise validation_error(exc.errors(include_input=False, include_url=False)) from None
