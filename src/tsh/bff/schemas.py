"""Input models shared by the BFF endpoints: strict bodies and queries, money, geo, paging."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Annotated, Any, ClassVar, get_args, get_origin

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tsh.domain.money import Currency, has_valid_places
from tsh.platform.errors import Invalid
from tsh.platform.http.dates import ISO_TEXT
from tsh.platform.http.dates import DateIn as DateIn  # re-exported: the input types live here
from tsh.platform.http.dates import DateTimeIn as DateTimeIn
from tsh.platform.http.ids import RowIdIn

MAX_AMOUNT = Decimal("1000000000000")  # 10^12: above any real order, below NUMERIC(18, 2)


def _iso_only(annotation: Any, metadata: Iterable[Any] = ()) -> bool:
    """Whether every date or time inside `annotation` is a DateIn / DateTimeIn."""
    if any(m is ISO_TEXT for m in metadata):
        return True
    if get_origin(annotation) is Annotated:
        return _iso_only(get_args(annotation)[0], annotation.__metadata__)
    if isinstance(annotation, type) and issubclass(annotation, dt.date | AwareDatetime):
        return False
    return all(_iso_only(arg) for arg in get_args(annotation))


class _Input(BaseModel):
    """Every body and query: a date or time field must be DateIn / DateTimeIn (checked when the
    class is defined, so an endpoint added later cannot forget it)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, field in cls.model_fields.items():
            if not _iso_only(field.annotation, field.metadata):
                raise TypeError(
                    f"{cls.__qualname__}.{name}: dates and times of inputs are DateIn / DateTimeIn"
                )


class Body(_Input):
    """Request bodies: unknown fields are refused (422), strings are stripped, and scalars are
    strict (a quantity is a JSON integer: "1", true or 1.0 are 422; a string is a JSON string)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class Query(_Input):
    """Query parameters: unknown parameters are refused (422)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=2000)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{7,15}$")]
Id = RowIdIn  # the one id rule of both back ends (tsh.platform.http.ids)
Qty = Annotated[int, Strict(), Field(gt=0, le=100_000)]


def _decimal_text(value: Any) -> Any:
    # A JSON float has already lost digits (0.1 + 0.2); amounts, rates and percentages travel as
    # decimal strings or integers. bool is an int in Python and never a number here.
    if isinstance(value, float | bool):
        raise ValueError('a decimal string such as "12.50"')
    return value


# A decimal in a strict body: from a string or an integer, never a float; finite.
DecimalIn = Annotated[Decimal, Strict(False), BeforeValidator(_decimal_text), Field(allow_inf_nan=False)]
Pct = Annotated[DecimalIn, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


def _amount_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("code:INVALID_AMOUNT", message)


class Money(BaseModel):
    """A money input: {"amount": "<decimal string>", "currency": "IQD" | "USD"}, greater than 0."""

    model_config = ConfigDict(extra="forbid")
    validation_codes: ClassVar[tuple[str, ...]] = ("INVALID_AMOUNT",)
    allow_zero: ClassVar[bool] = False
    amount: Decimal
    currency: Currency

    @field_validator("amount", mode="before")
    @classmethod
    def _no_floats(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise _amount_error("amount must be a decimal string")
        return value

    @model_validator(mode="after")
    def _check(self) -> Money:
        if not self.amount.is_finite() or self.amount.copy_abs() > MAX_AMOUNT:
            raise _amount_error("amount is out of range")
        if not has_valid_places(self.amount, self.currency):
            raise _amount_error("IQD has no fractional dinars; USD has at most 2 decimals")
        if self.amount < 0 or (self.amount == 0 and not self.allow_zero):
            raise _amount_error("amount must be greater than 0")
        return self


class MoneyNonNegative(Money):
    """A money input that may be 0 (`money ≥ 0` in the tables)."""

    allow_zero: ClassVar[bool] = True


class Geo(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    accuracy_m: float = Field(ge=0, le=100_000)


class Page(Query):
    """Cursor paging (core.md §0): `limit` 1..100 (default 20), `cursor` only as the server issued it."""

    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=20, ge=1, le=100)


# Cursors are signed so a client cannot forge one (a cursor the server did not issue is a 422),
# and the signature covers the list that issued it: the endpoint id and its filters (path ids and
# query parameters other than cursor and limit). A cursor sent to another list, or to the same list
# with other filters, fails the check and is a 422 VALIDATION_ERROR, never a position that list
# cannot read. The runtime names the list around each screen call (`cursor_list`).
_CURSOR_KEY = hashlib.sha256(b"tsh-cursor-v1").digest()
_CURSOR_LIST: ContextVar[bytes] = ContextVar("tsh_cursor_list", default=b"")


def set_cursor_key(secret: str) -> None:
    global _CURSOR_KEY
    _CURSOR_KEY = hashlib.sha256(b"tsh-cursor-v1:" + secret.encode()).digest()


@contextmanager
def cursor_list(endpoint_id: str, filters: dict[str, Any]) -> Iterator[None]:
    """Cursors encoded or decoded inside belong to this list and these filters."""
    token = _CURSOR_LIST.set(endpoint_id.encode() + b"|" + orjson.dumps(filters, option=orjson.OPT_SORT_KEYS))
    try:
        yield
    finally:
        _CURSOR_LIST.reset(token)


def _signature(payload: bytes) -> bytes:
    return hmac.new(_CURSOR_KEY, _CURSOR_LIST.get() + b"\n" + payload, hashlib.sha256).digest()[:12]


def encode_cursor(position: dict[str, Any]) -> str:
    payload = orjson.dumps(position, default=str)
    return base64.urlsafe_b64encode(_signature(payload) + payload).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sig, payload = raw[:12], raw[12:]
        if not hmac.compare_digest(sig, _signature(payload)):
            raise ValueError("bad signature")
        position = orjson.loads(payload)
        if not isinstance(position, dict):
            raise ValueError("bad cursor")
        return position
    except (ValueError, orjson.JSONDecodeError):
        raise Invalid(
            "The cursor is not valid",
            details=[{"field": "cursor", "issue": "not issued by this list with these filters"}],
        ) from None


def page(items: list[Any], limit: int, position_of: Any) -> dict[str, Any]:
    """Build `{items, next_cursor}` from up to limit+1 fetched rows.

    `position_of(last_item)` returns the keyset position to continue after.
    """
    has_more = len(items) > limit
    shown = items[:limit]
    return {
        "items": shown,
        "next_cursor": encode_cursor(position_of(shown[-1])) if has_more and shown else None,
    }
