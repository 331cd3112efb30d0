"""The one date rule of both back ends: a date or time input is ISO 8601 text.

Pydantic also reads a number of seconds since 1970 from a string, so `?to=0` was 1970-01-01 and
`"device_time": "1700000000"` a time in 2023, although the schema says `format: date`. `DateIn`
and `DateTimeIn` refuse that (422 at the field) and keep everything ISO 8601 that pydantic reads.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Strict
from pydantic_core import PydanticCustomError

_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE_START.match(value.strip()):
        raise PydanticCustomError("date_type", "must be an ISO 8601 date such as 2026-12-01")
    return value


ISO_TEXT = BeforeValidator(_iso_text)
# Not strict in a strict body: strict mode refuses a date given as text once a validator has run
# (and a JSON body has no other way to carry one); the validator above is the strictness instead.
DateIn = Annotated[dt.date, Strict(False), ISO_TEXT]
DateTimeIn = Annotated[AwareDatetime, Strict(False), ISO_TEXT]
