"""ACC-17..22: bank accounts, statement import with auto-match, workspace, matches, undo, closure."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from tests.bff.accounting.conftest import ACCOUNTANT, BM1, Books, amount
from tsh.domain.accounting.models import BankAccount, BankMatch, JournalEntry, Reconciliation, StatementLine
from tsh.domain.shared import business_today


async def _bank(books: Books, key: str) -> BankAccount:
    account = await books.account(key)
    async with books.api.db() as s:
        return (await s.execute(select(BankAccount).where(BankAccount.account_id == account.id))).scalar_one()


async def _snapshot(books: Books) -> tuple[int, ...]:
    return (
        await books.api.count(StatementLine),
        await books.api.count(StatementLine, StatementLine.match_id.isnot(None)),
        await books.api.count(BankMatch),
        await books.api.count(Reconciliation),
        await books.entries(),
    )


async def _deposit(
    books: Books, key: str, value: str, on: dt.date, reference: str, currency: str
) -> dict[str, Any]:
    bank = await books.account(key)
    equity = await books.account("owner_equity")
    return await books.post(
        [{"account_id": bank.id, "debit": value}, {"account_id": equity.id, "credit": value}],
        date=str(on),
        currency=currency,
        reference=reference,
    )


async def test_bank_accounts_list(books: Books) -> None:
    data = await books.acc.data(ACCOUNTANT, "/bank-accounts")
    rafidain = await _bank(books, "bank_iqd")
    row = next(b for b in data["items"] if b["id"] == rafidain.id)
    assert row["kind"] == "bank" and row["currency"] == "IQD" and row["bank_name"]
    assert row["unmatched_statement_lines"] == await books.api.count(
        StatementLine, StatementLine.bank_account_id == rafidain.id, StatementLine.match_id.is_(None)
    )
    d, c = await books.base_sums(rafidain.account_id, JournalEntry.date <= business_today())
    assert amount(row["book_balance"]) == d - c
    assert {b["kind"] for b in data["items"]} == {"bank", "cash"}
    # The demo books: the IQD statement partly matched under a closed reconciliation, the USD
    # statement imported and auto-matched.
    assert row["last_reconciliation"] is not None and row["last_statement_balance"] is not None
    assert await books.api.count(BankMatch, BankMatch.bank_account_id == rafidain.id) > 0
    trade = await _bank(books, "bank_usd")
    assert await books.api.count(StatementLine, StatementLine.bank_account_id == trade.id) > 0
    assert (await books.acc.get(BM1, "/bank-accounts")).status_code == 403


async def test_workspace_suggests_and_a_match_takes_both_lines_out(books: Books) -> None:
    bank = await _bank(books, "bank_iqd")
    ws = await books.acc.data(ACCOUNTANT, f"/bank-accounts/{bank.id}/reconciliation", limit=50)
    assert ws["items"] and ws["book_lines"]
    best = next(s for s in ws["suggestions"] if s["score"] >= 80)
    st = next(i for i in ws["items"] if i["id"] == best["statement_line_id"])
    book = next(b for b in ws["book_lines"] if b["id"] == best["journal_line_id"])
    assert st["amount"] == book["amount"]
    before = await _snapshot(books)
    body = {"statement_line_ids": [st["id"]], "journal_line_ids": [book["id"]]}
    r = await books.acc.send(ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/matches", body)
    assert r.status_code == 201, r.text
    match = r.json()["data"]
    async with books.api.db() as s:
        assert (await s.get(StatementLine, st["id"])).match_id == match["id"]  # type: ignore[union-attr]
    after = (await books.acc.get(ACCOUNTANT, f"/bank-accounts/{bank.id}/reconciliation", limit=50)).json()
    assert after["metadata"]["cached"] is False
    assert st["id"] not in [i["id"] for i in after["data"]["items"]]
    assert book["id"] not in [b["id"] for b in after["data"]["book_lines"]]
    assert after["data"]["matched_lines"] == ws["matched_lines"] + 1
    # The same lines again: 409, nothing changes.
    snap = await _snapshot(books)
    r = await books.acc.send(ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/matches", body)
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_MATCHED"
    assert await _snapshot(books) == snap
    assert snap[2] == before[2] + 1
    # Lines of another bank account are a 404.
    usd = await _bank(books, "bank_usd")
    r = await books.acc.send(ACCOUNTANT, "POST", f"/bank-accounts/{usd.id}/matches", body)
    assert r.status_code == 404
    # Undo: both lines are open again.
    r = await books.acc.send(ACCOUNTANT, "DELETE", f"/bank-matches/{match['id']}")
    assert r.status_code == 200 and r.json()["data"]["reversal_entry_id"] is None
    assert await _snapshot(books) == before


async def test_bank_fee_is_booked_as_the_difference_and_reversed_on_undo(books: Books) -> None:
    bank = await _bank(books, "bank_iqd")
    async with books.api.db() as s:
        fee = (
            await s.scalars(
                select(StatementLine).where(
                    StatementLine.bank_account_id == bank.id,
                    StatementLine.match_id.is_(None),
                    StatementLine.description == "Monthly account maintenance fee",
                )
            )
        ).first()
    assert fee is not None
    charges = await books.account("bank_charges")
    before = await _snapshot(books)
    r = await books.acc.send(
        ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/matches", {"statement_line_ids": [fee.id]}
    )
    assert r.status_code == 422 and r.json()["error_code"] == "AMOUNT_MISMATCH"
    assert await _snapshot(books) == before
    charged = await books.base_sums(charges.id)
    body = {"statement_line_ids": [fee.id], "difference_account_id": charges.id}
    r = await books.acc.send(ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/matches", body)
    assert r.status_code == 201, r.text
    match = r.json()["data"]
    assert match["difference_entry_id"] and len(match["journal_line_ids"]) == 1
    assert await books.base_sums(charges.id) == (charged[0] + 25_000, charged[1])
    await books.assert_sound()
    r = await books.acc.send(ACCOUNTANT, "DELETE", f"/bank-matches/{match['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["reversal_entry_id"]
    assert await books.base_sums(charges.id) == (charged[0] + 25_000, charged[1] + 25_000)
    async with books.api.db() as s:
        assert (await s.get(StatementLine, fee.id)).match_id is None  # type: ignore[union-attr]
        assert (await s.get(JournalEntry, match["difference_entry_id"])).status == "reversed"  # type: ignore[union-attr]
    assert (await books.acc.send(ACCOUNTANT, "DELETE", f"/bank-matches/{match['id']}")).status_code == 404
    await books.assert_sound()


async def test_import_auto_matches_skips_duplicates_and_refuses_other_currencies(books: Books) -> None:
    bank = await _bank(books, "bank_iqd")
    today = business_today()
    ref = f"DEP-{uuid.uuid4().hex[:8]}"
    entry = await _deposit(books, "bank_iqd", "150000", today, ref, "IQD")

    def st(value: str, text: str, reference: str) -> dict[str, Any]:
        amount = {"amount": value, "currency": "IQD"}
        return {"date": str(today), "amount": amount, "description": text, "reference": reference}

    lines = [st("150000", f"Deposit {ref}", ref), st("-1234", "Card fee", f"F-{ref}")]
    r = await books.acc.send(
        ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/statement-lines", {"lines": lines}
    )
    assert r.status_code == 201, r.text
    result = r.json()["data"]
    assert (result["imported"], result["skipped"], result["auto_matched"]) == (2, 0, 1)
    async with books.api.db() as s:
        rows = list(await s.scalars(select(StatementLine).where(StatementLine.id.in_(result["line_ids"]))))
    assert sorted(r.match_id is not None for r in rows) == [False, True]
    before = await _snapshot(books)
    r = await books.acc.send(
        ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/statement-lines", {"lines": lines}
    )
    assert r.status_code == 201 and r.json()["data"]["skipped"] == 2 and r.json()["data"]["imported"] == 0
    bad = [{**lines[0], "amount": {"amount": "10", "currency": "USD"}, "reference": "X"}]
    r = await books.acc.send(ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/statement-lines", {"lines": bad})
    assert r.status_code == 422 and r.json()["error_code"] == "CURRENCY_MISMATCH"
    r = await books.acc.send(ACCOUNTANT, "POST", "/bank-accounts/999999/statement-lines", {"lines": lines})
    assert r.status_code == 404
    assert (
        await books.acc.send(ACCOUNTANT, "POST", f"/bank-accounts/{bank.id}/statement-lines", {"lines": []})
    ).status_code == 422
    assert await _snapshot(books) == before
    assert entry["reference"] == ref


async def test_reconciliation_closes_only_when_it_ties_out(books: Books) -> None:
    usd = await _bank(books, "bank_usd")
    on = business_today() - dt.timedelta(days=2)
    ref = f"USD-{uuid.uuid4().hex[:8]}"
    await _deposit(books, "bank_usd", "100.50", on, ref, "USD")
    line = {
        "date": str(on),
        "amount": {"amount": "100.50", "currency": "USD"},
        "description": "Transfer in",
        "reference": ref,
    }
    r = await books.acc.send(
        ACCOUNTANT, "POST", f"/bank-accounts/{usd.id}/statement-lines", {"lines": [line]}
    )
    assert r.status_code == 201 and r.json()["data"]["auto_matched"] == 1, r.text
    ws = await books.acc.data(ACCOUNTANT, f"/bank-accounts/{usd.id}/reconciliation", to=str(on))
    expected = amount(ws["book_balance"]) - amount(ws["outstanding_book_total"])
    path = f"/bank-accounts/{usd.id}/reconciliation/closure"
    before = await _snapshot(books)
    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        path,
        {"statement_date": str(on), "statement_balance": {"amount": str(expected + 1), "currency": "USD"}},
    )
    assert r.status_code == 422 and r.json()["error_code"] == "RECONCILIATION_DIFFERENCE"
    assert r.json()["details"][0]["difference"] == "1.00"
    assert await _snapshot(books) == before
    body = {"statement_date": str(on), "statement_balance": {"amount": str(expected), "currency": "USD"}}
    r = await books.acc.send(ACCOUNTANT, "POST", path, body)
    assert r.status_code == 201, r.text
    async with books.api.db() as s:
        assert (await s.get(BankAccount, usd.id)).last_reconciled_date == on  # type: ignore[union-attr]
        match_id = (
            await s.scalars(select(StatementLine.match_id).where(StatementLine.reference == ref))
        ).one()
    r = await books.acc.send(ACCOUNTANT, "POST", path, body)
    assert r.status_code == 409 and r.json()["error_code"] == "DATE_BEFORE_LAST_CLOSURE"
    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        f"/bank-accounts/{usd.id}/statement-lines",
        {"lines": [{**line, "reference": "late"}]},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "RECONCILED_PERIOD"
    r = await books.acc.send(ACCOUNTANT, "DELETE", f"/bank-matches/{match_id}")
    assert r.status_code == 409 and r.json()["error_code"] == "RECONCILIATION_CLOSED"
    listed = await books.acc.data(ACCOUNTANT, "/bank-accounts")
    row = next(b for b in listed["items"] if b["id"] == usd.id)
    assert row["last_reconciliation"]["statement_date"] == str(on)
    # The IQD account still has unmatched lines up to today: closing it is refused.
    iqd = await _bank(books, "bank_iqd")
    r = await books.acc.send(
        ACCOUNTANT, "POST", f"/bank-accounts/{iqd.id}/reconciliation/closure",
        {"statement_date": str(business_today()), "statement_balance": {"amount": "0", "currency": "IQD"}},
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["error_code"] == "UNMATCHED_LINES"
