"""Request models generated from the mapped columns: one rule for every resource.

Strict like every write (README "Writes"): unknown fields are rejected, strings keep their column
length, NOT NULL columns without a default are required on create, everything is optional on
update. `choices` narrows a column to the values a resource accepts (e.g. status → "closed").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model
from sqlalchemy import JSON, String, inspect
from sqlalchemy.sql.schema import Column

SYSTEM = frozenset({"id", "created_at", "updated_at", "version"})
MONEY_MAX = Decimal("1e15")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _python_type(column: Column[Any]) -> Any:
    if isinstance(column.type, JSON):
        return list[Any] | dict[str, Any]
    try:
        kind: Any = column.type.python_type
    except NotImplementedError:
        return Any
    return AwareDatetime if kind is dt.datetime else kind


def _field(column: Column[Any], *, required: bool, choice: Sequence[Any] | None) -> tuple[Any, Any]:
    kind = Literal[tuple(choice)] if choice else _python_type(column)
    constraints: dict[str, Any] = {}
    if isinstance(column.type, String) and column.type.length and not choice:
        constraints["max_length"] = column.type.length
    if kind is Decimal:
        constraints.update(ge=-MONEY_MAX, le=MONEY_MAX, decimal_places=6)
    if kind is int and not column.foreign_keys:
        constraints.update(ge=-(2**31), le=2**31 - 1)
    if column.foreign_keys:
        constraints["gt"] = 0
    nullable = bool(column.nullable)
    annotation = (kind | None) if nullable else kind
    if required:
        return annotation, Field(..., **constraints)
    return annotation, Field(None, **constraints)


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
