"""Helpers of the accounting tests: the app client, ledger reads and the ledger invariants.

Tests post their own entries (dated today, in the open current period) and compare figures
before and after, so they hold whatever order they run in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.http import Api, demo
from tsh.domain.accounting import posting
from tsh.domain.accounting.models import Account, AccountBalance, JournalEntry, JournalLine

ACCOUNTANT, ADMIN = demo("accountant"), demo("admin")
BM1, BM2 = demo("branch_manager", 1), demo("branch_manager", 2)
CASHIER, SALESPERSON, CONSUMER = demo("cashier"), demo("salesperson"), demo("consumer")
CENT = Decimal("0.01")


def iqd(x: Any) -> dict[str, str]:
    return {"amount": str(Decimal(x).quantize(CENT)), "currency": "IQD"}


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


class Books:
    """Reads of the ledger the tests compare screens with."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.acc = api.app("accounting")

    async def account(self, system_key: str) -> Account:
        async with self.api.db() as s:
            return (await s.execute(select(Account).where(Account.system_key == system_key))).scalar_one()

    async def header(self) -> Account:
        """A non-postable expense header (takes children, no lines)."""
        async with self.api.db() as s:
            return (
                await s.scalars(
                    select(Account)
                    .where(
                        Account.type == "expense",
                        Account.is_postable.is_(False),
                        Account.parent_id.isnot(None),
                    )
                    .order_by(Account.code)
                )
            ).first()  # type: ignore[return-value]

    async def base_sums(self, account_id: int, *where: Any) -> tuple[Decimal, Decimal]:
        async with self.api.db() as s:
            d, c = (
                await s.execute(
                    select(func.sum(JournalLine.base_debit), func.sum(JournalLine.base_credit))
                    .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                    .where(JournalLine.account_id == account_id, *where)
                )
            ).one()
        return Decimal(str(d or 0)).quantize(CENT), Decimal(str(c or 0)).quantize(CENT)

    async def entries(self) -> int:
        return await self.api.count(JournalEntry)

    async def lines(self) -> int:
        return await self.api.count(JournalLine)

    async def assert_sound(self) -> None:
        """Every entry balances in currency and base, the ledger sums to zero, and the balances
        read model holds exactly the sums of the lines."""
        async with self.api.db() as s:
            assert await posting.trial_balance(s) == 0
            assert await posting.unbalanced_entries(s) == []
            kept = {
                a: (Decimal(str(d)).quantize(CENT), Decimal(str(c)).quantize(CENT))
                for a, d, c in await s.execute(
                    select(
                        AccountBalance.account_id,
                        func.sum(AccountBalance.base_debit),
                        func.sum(AccountBalance.base_credit),
                    ).group_by(AccountBalance.account_id)
                )
            }
            lines = {
                a: (Decimal(str(d)).quantize(CENT), Decimal(str(c)).quantize(CENT))
                for a, d, c in await s.execute(
                    select(
                        JournalLine.account_id,
                        func.sum(JournalLine.base_debit),
                        func.sum(JournalLine.base_credit),
                    ).group_by(JournalLine.account_id)
                )
            }
            assert kept == lines

    async def post(self, lines: list[dict[str, Any]], **body: Any) -> dict[str, Any]:
        from tsh.domain.shared import business_today

        payload = {
            "date": str(business_today()),
            "memo": "test entry",
            "currency": "IQD",
            "lines": lines,
            **body,
        }
        r = await self.acc.send(ACCOUNTANT, "POST", "/journal-entries", payload)
        assert r.status_code == 201, r.text
        return r.json()["data"]

    async def rent_paid(self, value: int, **line: Any) -> dict[str, Any]:
        """A manual entry: rent expense paid from the IQD till."""
        rent = await self.api_account_by_code("5320")
        cash = await self.account("cash_iqd")
        return await self.post(
            [
                {"account_id": rent, "debit": str(value), **line},
                {"account_id": cash.id, "credit": str(value), **line},
            ]
        )

    async def api_account_by_code(self, code: str) -> int:
        async with self.api.db() as s:
            return (await s.execute(select(Account.id).where(Account.code == code))).scalar_one()


@pytest.fixture
def books(api: Api) -> Books:
    return Books(api)
