"""Accounting app (apps/accounting.md, 30 endpoints): accountants keep the general ledger in IQD
(base) and USD; branch managers read their branch's statements.

Handlers parse, call the services and queries of `tsh.domain.accounting` with `call.actor` and
shape; scope (`branch` filters journal lines by their branch) is applied by the queries.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from tsh.bff.schemas import MAX_AMOUNT
from tsh.bff.spec import BffApp

app = BffApp("accounting")
ACCOUNTANT = ("accountant",)
READERS = ("accountant", "branch_manager")
# accountant: all; branch_manager: branch (admin: all).
ALL_OR_BRANCH = {"accountant": "all", "branch_manager": "branch"}


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("amounts are decimal strings")
    return value


# An amount in a body without its own currency (journal lines take the entry's): a decimal
# string, never a float, 0 allowed (the other side of the line).
Amount = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]


from tsh.bff.apps.accounting import (  # noqa: E402  (the modules register on `app`)
    bank,
    ledger,
    receivables,
    reports,
    setup,
    tax,
)

__all__ = [
    "ACCOUNTANT",
    "ALL_OR_BRANCH",
    "READERS",
    "Amount",
    "app",
    "bank",
    "ledger",
    "receivables",
    "reports",
    "setup",
    "tax",
]
