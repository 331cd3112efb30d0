"""One generic serialiser for the legacy API: every column of a row, minus secrets.

Decimal becomes a string (exact), datetimes ISO 8601 with offset (UTC), dates and times ISO;
JSON columns pass through. Used for every record and every nested record.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

# Columns never sent, whatever the table: credentials, token material, storage internals.
DENY = frozenset(
    {"password_hash", "refresh_token_hash", "token_hash", "request_hash", "response_body", "storage_key"}
)

Record = dict[str, Any]


def wire_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


def column_names(model: type[Any]) -> list[str]:
    """Attribute names of the mapped columns of `model`, secrets excluded."""
    names = [attr.key for attr in inspect(model).column_attrs if attr.key not in DENY]
    return sorted(names, key=lambda n: n != "id")  # id first, then the declared order


def to_dict(obj: Any) -> Record:
    return {name: wire_value(getattr(obj, name)) for name in column_names(type(obj))}
