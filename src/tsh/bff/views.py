"""Response models: the documented shape of `data` in each endpoint's success envelope.

A declaration names its model (`response=`); the OpenAPI document and the generated clients are
built from it, and the test suite validates every response against it (`extra="forbid"`: a field
the model does not document is a contract violation). Handlers keep returning plain dicts, so a
cache hit is served as stored bytes and never re-validated.

Money is `{"amount": "<decimal string, 2 places>", "currency": "IQD" | "USD"}`; times are ISO 8601
with offset; dates `YYYY-MM-DD`; ids positive integers; lists `{items, next_cursor}`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

T = TypeVar("T")

Currency = Literal["IQD", "USD"]
Decimal2 = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["1250000.00"])]
DecimalText = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["5.00"])]
Timestamp = AwareDatetime
Date = dt.date
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
# A product's specification sheet as catalogued: a label and a text, a count or a yes/no.
ProductSpecs = dict[str, str | int | float | bool]


class View(BaseModel):
    """Base of every response model: undocumented fields are refused in tests."""

    model_config = ConfigDict(extra="forbid")


class MoneyOut(View):
    amount: Decimal2
    currency: Currency


class Page(View, Generic[T]):
    """A paginated list (core.md §0): `next_cursor` is opaque, null on the last page."""

    items: list[T]
    next_cursor: str | None


class Named(View):
    id: RowId
    name: str


class MoneyByCurrency(View):
    """One amount per drawer currency (both always present; zero when unused)."""

    IQD: MoneyOut
    USD: MoneyOut


# Enumerations shared by several apps (the domain's CHECK-constrained values).
OrderStatus = Literal["pending", "confirmed", "shipped", "delivered", "cancelled"]
OrderPaymentStatus = Literal["unpaid", "partial", "paid", "refunded"]
InvoiceStatus = Literal["open", "partial", "paid", "void"]
PaymentMethod = Literal["cash", "card", "zain_cash", "fastpay", "cheque", "bank_transfer"]
OrderPaymentMethod = Literal["cash_on_delivery", "zain_cash", "fastpay", "card"]
PaymentTerms = Literal["cash_on_delivery", "online", "cash", "credit", "prepaid"]
DeliveryOption = Literal["standard", "express", "pickup"]
RefundMethod = Literal["cash", "original", "credit_note", "bank_transfer"]
