"""Concurrent postings and matches keep the ledger's invariants (meaningful on PostgreSQL, where
the requests really overlap; on SQLite they serialise on the write lock)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from tests.bff.accounting.conftest import ACCOUNTANT, Books
from tsh.domain.accounting.models import BankAccount, BankMatch, JournalEntry
from tsh.domain.shared import business_today


async def test_concurrent_manual_entries_get_distinct_numbers_and_balance(books: Books) -> None:
    rent = await books.api_account_by_code("5320")
    cash = (await books.account("cash_iqd")).id
    before = await books.base_sums(rent)

    async def post(i: int) -> int:
        body = {
            "date": str(business_today()),
            "memo": f"concurrent {i}",
            "currency": "IQD",
            "lines": [
                {"account_id": rent, "debit": str(100 + i)},
                {"account_id": cash, "credit": str(100 + i)},
            ],
        }
        r = await books.acc.send(ACCOUNTANT, "POST", "/journal-entries", body)
        assert r.status_code == 201, r.text
        return int(r.json()["data"]["id"])

    ids = await asyncio.gather(*(post(i) for i in range(8)))
    async with books.api.db() as s:
        numbers = list(await s.scalars(select(JournalEntry.number).where(JournalEntry.id.in_(ids))))
    assert len(set(numbers)) == 8
    assert await books.base_sums(rent) == (before[0] + sum(100 + i for i in range(8)), before[1])
    await books.assert_sound()


async def test_the_same_statement_line_is_matched_once_under_a_race(books: Books) -> None:
    account = await books.account("bank_iqd")
    async with books.api.db() as s:
        bank = (await s.execute(select(BankAccount).where(BankAccount.account_id == account.id))).scalar_one()
    ws = await books.acc.data(ACCOUNTANT, f"/bank-accounts/{bank.id}/reconciliation", limit=50)
    pick = next(s for s in ws["suggestions"] if s["score"] >= 80)
    body = {"statement_line_ids": [pick["statement_line_id"]], "journal_line_ids": [pick["journal_line_id"]]}
    before = await books.api.count(BankMatch)
    results = await asyncio.gather(
        *(books.acc.send(ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/matches", body) for _ in range(4))
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409], [r.text for r in results]
    assert await books.api.count(BankMatch) == before + 1
    created = next(r.json()["data"] for r in results if r.status_code == 201)
    r = await books.acc.send(ACCOUNTANT, "DELETE", f"/bank-matches/{created['id']}")
    assert r.status_code == 200
