"""What every generator shares: the profile (sizes), the clock, the seeded RNG, ids and the writer."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tsh.seed.bulk import BulkWriter, IdAllocator

TZ = ZoneInfo("Asia/Baghdad")
UTC = dt.UTC
SEED = 20_261_126
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    products: int
    extra_salespeople: int
    retail_per_salesperson: int
    wholesale_customers: int
    consumers: int
    partners: int
    partner_customers: int
    orders: int
    pos_sales_per_shift: int
    visits_per_day: int
    extra_employees: int
    # Daily summary entries per branch instead of one entry per document (see ledger.py).
    summary_ledger: bool
    flush_rows: int


PROFILES: dict[str, Profile] = {
    "demo": Profile(
        name="demo",
        products=500,
        extra_salespeople=10,
        retail_per_salesperson=14,
        wholesale_customers=30,
        consumers=70,
        partners=8,
        partner_customers=30,
        orders=5_000,
        pos_sales_per_shift=4,
        visits_per_day=4,
        extra_employees=18,
        summary_ledger=False,
        flush_rows=400_000,
    ),
    "large": Profile(
        name="large",
        products=20_000,
        extra_salespeople=48,
        retail_per_salesperson=1_200,
        wholesale_customers=5_000,
        consumers=30_000,
        partners=400,
        partner_customers=5_000,
        orders=1_000_000,
        pos_sales_per_shift=60,
        visits_per_day=8,
        extra_employees=250,
        summary_ledger=True,
        flush_rows=150_000,
    ),
}


def money(value: Decimal | int | float | str, currency: str = "IQD") -> Decimal:
    """Half-up to whole dinars (IQD) or cents (USD), written with two decimals."""
    step = Decimal("1") if currency == "IQD" else Decimal("0.01")
    return Decimal(value).quantize(step, rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


ZERO = Decimal("0.00")


class Weighted:
    """Fast repeated weighted choice from a fixed population (cumulative weights + bisect)."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items: list[Any] = list(items)
        self.cum: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]

    def pick_distinct(self, rng: random.Random, k: int) -> list[Any]:
        chosen: list[Any] = []
        seen: set[int] = set()
        tries = 0
        while len(chosen) < k and tries < k * 8:
            tries += 1
            i = bisect.bisect_right(self.cum, rng.random() * self.total)
            if i not in seen:
                seen.add(i)
                chosen.append(self.items[i])
        return chosen


@dataclass
class SeedContext:
    profile: Profile
    now: dt.datetime
    rng: random.Random
    ids: IdAllocator
    writer: BulkWriter
    log: Callable[[str], None]
    # Filled by the generators as they go; later generators read what earlier ones made.
    refs: dict[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(TZ).date()

    @property
    def history_start(self) -> dt.date:
        return self.today - dt.timedelta(days=365)

    def at(self, day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
        """A Baghdad wall-clock moment as an aware UTC datetime."""
        return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ).astimezone(UTC)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(TZ).date()

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        span = (end - start).total_seconds()
        return start + dt.timedelta(seconds=int(self.rng.random() * max(span, 0)))


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of every calendar month from `first`'s month to `last`'s month."""
    out: list[dt.date] = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)
    return nxt - dt.timedelta(days=1)


def ean13(stem12: str) -> str:
    """A 13-digit EAN with its check digit."""
    digits = [int(c) for c in stem12]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return stem12 + str((10 - total % 10) % 10)


def number(prefix: str, day: dt.date, ident: int) -> str:
    """Document number in the services' shape (`SO-261126-00000004D2`), deterministic from the id."""
    return f"{prefix}-{day:%y%m%d}-{ident:010X}"
