"""Helpers every bounded context uses and none owns: business dates, document numbers, distances.

Imports nothing of the contexts (an import-linter contract holds it), so any context may use it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import secrets
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Baghdad")
EARTH_RADIUS_M = 6_371_000.0


def business_today(now: dt.datetime | None = None) -> dt.date:
    """The business date (Asia/Baghdad) of `now` (default: the current instant)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(BUSINESS_TZ).date()


def day_start_utc(day: dt.date) -> dt.datetime:
    """The UTC instant at which the Baghdad business date `day` starts."""
    return dt.datetime.combine(day, dt.time.min, BUSINESS_TZ).astimezone(dt.UTC)


def new_number(prefix: str, day: dt.date | None = None) -> str:
    """A document number such as `SO-261126-3F9A0C1B2D`: readable date plus 40 random bits.

    Random rather than sequential so that placing a document needs one INSERT and no shared
    counter row (no hot lock between concurrent orders); the unique index is the backstop.
    """
    return f"{prefix}-{(day or business_today()):%y%m%d}-{secrets.token_hex(5).upper()}"


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
