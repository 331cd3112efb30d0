"""Keyset paging and shaping helpers shared by the security screens (SEC-02/05/06/08/11/14).

Every security list is ordered newest first by (time, id); a cursor is that pair of the last row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from tsh.platform.errors import Invalid, field_error


def position(at: datetime | str, row_id: int) -> dict[str, Any]:
    """The keyset position of a row ordered by (time desc, id desc); `at` may be its ISO text."""
    return {"t": at if isinstance(at, str) else at.isoformat(), "i": row_id}


def older_than(at_column: Any, id_column: Any, after: dict[str, Any] | None) -> ColumnElement[bool] | None:
    """The WHERE clause "after this position" for (time desc, id desc); None on the first page.

    422 for a cursor of another list (a signed cursor whose shape does not match)."""
    if after is None:
        return None
    try:
        at, row_id = datetime.fromisoformat(after["t"]), int(after["i"])
    except (KeyError, TypeError, ValueError):
        raise Invalid(
            "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
        ) from None
    return or_(at_column < at, and_(at_column == at, id_column < row_id))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
