"""The one id rule of both back ends: a row id is ASCII digits naming 1..2^31-1.

Every id column is a 32-bit integer, so a bigger number names no row; a full-width digit or a
sign is no id at all. A path id that breaks the rule is 404 (there is no such resource); a query
or body id that breaks it is 422 VALIDATION_ERROR (the request itself is wrong). `RowIdIn` is the
pydantic type of query and body ids: JSON bodies take an integer (not "1", not true), query
strings take ASCII digits only.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from tsh.platform.errors import NotFound

MAX_ROW_ID = 2**31 - 1


def path_row_id(raw: str) -> int:
    """The id of a `{id}` path segment, or 404."""
    if not (raw.isascii() and raw.isdigit() and raw[0] != "0" and len(raw) <= 10):
        raise NotFound()
    value = int(raw)
    if value > MAX_ROW_ID:
        raise NotFound()
    return value


def _id_input(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "must be an integer id")
    if isinstance(value, str):
        # Query strings arrive as text (python mode); a JSON body must send a number.
        if info.mode == "json" or not (value.isascii() and value.isdigit() and len(value) <= 10):
            raise PydanticCustomError("int_type", "must be an integer id")
        return int(value)
    if not isinstance(value, int):
        raise PydanticCustomError("int_type", "must be an integer id")
    return value


# The bounds come before the validator so that the JSON schema shows them as `minimum`/`maximum`
# (the other order rendered pydantic's own `gt`/`le`, which no JSON Schema tool knows); the
# before-validator still runs first.
RowIdIn = Annotated[int, Field(ge=1, le=MAX_ROW_ID), BeforeValidator(_id_input)]
