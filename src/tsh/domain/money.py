"""Money: Decimal end to end, rounded half-up per line (whole dinars for IQD, cents for USD)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

Currency = Literal["IQD", "USD"]
CURRENCIES: tuple[str, ...] = ("IQD", "USD")
BASE_CURRENCY = "IQD"
ZERO = Decimal("0.00")
_STEP = {"IQD": Decimal("1"), "USD": Decimal("0.01")}
CENT = Decimal("0.01")


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's unit, then written with exactly two decimals."""
    return amount.quantize(_STEP[currency], rounding=ROUND_HALF_UP).quantize(CENT)


def wire(amount: Decimal | None, currency: str) -> dict[str, Any] | None:
    """The API's money shape: {"amount": "1250000.00", "currency": "IQD"}."""
    if amount is None:
        return None
    return {"amount": str(Decimal(amount).quantize(CENT)), "currency": currency}


def has_valid_places(amount: Decimal, currency: str) -> bool:
    """IQD carries no fractional dinars (a .00 fraction is fine); USD at most 2 decimals."""
    return amount == amount.quantize(_STEP[currency])


def to_base(amount: Decimal, currency: str, rate_iqd_per_usd: Decimal) -> Decimal:
    if currency == BASE_CURRENCY:
        return round_money(amount, BASE_CURRENCY)
    return round_money(amount * rate_iqd_per_usd, BASE_CURRENCY)


def convert(amount: Decimal, from_currency: str, to_currency: str, rate_iqd_per_usd: Decimal) -> Decimal:
    if from_currency == to_currency:
        return amount
    if from_currency == "USD":
        return round_money(amount * rate_iqd_per_usd, to_currency)
    return round_money(amount / rate_iqd_per_usd, to_currency)
