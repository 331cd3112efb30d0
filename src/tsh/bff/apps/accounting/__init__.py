"""Accounting app (apps/accounting.md, 30 endpoints): accountants keep the general ledger in IQD
(base) and USD; branch managers read their branch's statements.

Handlers parse, call the services and queries of `tsh.domain.accounting` with `call.actor` and
shape; scope (`branch` filters journal lines by their branch) is applied by the queries.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tsh.bff.schemas import MAX_AMOUNT, DecimalIn
from tsh.bff.spec import BffApp

app = BffApp("accounting")
ACCOUNTANT = ("accountant",)
READERS = ("accountant", "branch_manager")
# accountant: all; branch_manager: branch (admin: all).
ALL_OR_BRANCH = {"accountant": "all", "branch_manager": "branch"}


# An amount in a body without its own currency (journal lines take the entry's): a decimal
# string, never a float, 0 allowed (the other side of the line).
Amount = Annotated[DecimalIn, Field(ge=0, le=MAX_AMOUNT)]


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
