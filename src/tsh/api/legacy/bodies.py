"""Request models generated from the mapped columns: one rule for every resource.

Strict like every write (README "Writes"): unknown fields are rejected, strings keep their column
length, NOT NULL columns without a default are required on create, everything is optional on
update. `choices` narrows a column to the values a resource accepts (e.g. status → "closed").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, String, TypeDecorator, inspect
from sqlalchemy.sql.schema import Column

from tsh.platform.http.dates import DateIn, DateTimeIn
from tsh.platform.http.ids import RowIdIn

SYSTEM = frozenset({"id", "created_at", "updated_at", "version"})
MONEY_MAX = Decimal("1e15")


class _Strict(BaseModel):
    # strict: a JSON body's integers are numbers (not "1", not true), booleans are true/false,
    # strings are strings; decimals and dates still come as JSON strings.
    model_config = ConfigDict(extra="forbid", strict=True)


def python_type(column: Column[Any]) -> Any:
    """The Python type a column holds (a TypeDecorator such as Money answers for its impl)."""
    col_type: Any = column.type
    if isinstance(col_type, TypeDecorator):
        col_type = col_type.impl
    if isinstance(col_type, JSON):
        return list[Any] | dict[str, Any]
    try:
        kind: Any = col_type.python_type
    except NotImplementedError:
        return Any
    if kind is dt.datetime:
        return DateTimeIn
    return DateIn if kind is dt.date else kind


def _field(column: Column[Any], *, required: bool, choice: Sequence[Any] | None) -> tuple[Any, Any]:
    kind = Literal[tuple(choice)] if choice else python_type(column)
    constraints: dict[str, Any] = {}
    if isinstance(column.type, String) and column.type.length and not choice:
        constraints["max_length"] = column.type.length
    if kind is Decimal:
        # Finite (pydantic refuses NaN/Infinity), within the column: nothing the database rounds
        # or overflows on, so an invalid amount is a 422 and never a stored NaN or a 500.
        scale = getattr(getattr(column.type, "impl", column.type), "scale", None)
        constraints.update(ge=-MONEY_MAX, le=MONEY_MAX, decimal_places=6 if scale is None else scale)
        kind = Annotated[Decimal, BeforeValidator(_decimal_input)]
    elif column.foreign_keys:
        kind = RowIdIn  # the one id rule (tsh.platform.http.ids)
    elif kind is int:
        constraints.update(ge=-(2**31), le=2**31 - 1)
    nullable = bool(column.nullable)
    annotation = (kind | None) if nullable else kind
    if required:
        return annotation, Field(..., **constraints)
    return annotation, Field(None, **constraints)


def _decimal_input(value: Any) -> Any:
    """A decimal from a JSON number or string (a float through its text, so 0.1 stays 0.1)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise PydanticCustomError("decimal_type", "must be a decimal number or string")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PydanticCustomError("decimal_parsing", "must be a decimal number") from None
    if not number.is_finite():
        raise PydanticCustomError("finite_number", "must be a finite number")
    return number


def _required_on_create(column: Column[Any]) -> bool:
    return not column.nullable and column.default is None and column.server_default is None


@cache
def body_model(
    model: type[Any],
    fields: tuple[str, ...],
    mode: Literal["create", "update"],
    choices: tuple[tuple[str, tuple[Any, ...]], ...],
) -> type[BaseModel]:
    mapper = inspect(model)
    by_name: Mapping[str, tuple[Any, ...]] = dict(choices)
    spec: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        if attr.key in SYSTEM or attr.key not in fields:
            continue
        column = attr.columns[0]
        required = mode == "create" and _required_on_create(column)
        spec[attr.key] = _field(column, required=required, choice=by_name.get(attr.key))
    name = f"{model.__name__}{mode.title()}Body"
    return create_model(name, __base__=_Strict, **spec)


def writable_columns(model: type[Any]) -> tuple[str, ...]:
    return tuple(a.key for a in inspect(model).column_attrs if a.key not in SYSTEM)
