"""ACC-24 tax rate versions, ACC-25 tax summary, ACC-26 filing a return."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.accounting.conftest import ACCOUNTANT, BM1, Books, amount
from tsh.domain.accounting.models import FiscalPeriod, JournalEntry, JournalLine, TaxRate, TaxReturn
from tsh.domain.shared import add_months, business_today


async def test_new_rate_version_ends_the_previous_one(books: Books) -> None:
    output = await books.account("vat_output")
    today = business_today()
    code = f"T{today:%m%d}"
    first = {
        "code": code,
        "name": "Test tax",
        "rate": "5",
        "kind": "sales",
        "effective_from": str(today),
        "account_id": output.id,
    }
    r = await books.acc.send(ACCOUNTANT, "POST", "/tax-rates", first)
    assert r.status_code == 201, r.text
    listed = (await books.acc.get(ACCOUNTANT, "/tax-rates")).json()
    assert listed["metadata"]["cached"] is False
    later = {**first, "rate": "7.5", "effective_from": str(today + dt.timedelta(days=10))}
    r = await books.acc.send(ACCOUNTANT, "POST", "/tax-rates", later)
    assert r.status_code == 201 and r.json()["data"]["rate"] == "7.500"
    async with books.api.db() as s:
        versions = list(
            await s.scalars(select(TaxRate).where(TaxRate.code == code).order_by(TaxRate.effective_from))
        )
    assert [v.effective_to for v in versions] == [today + dt.timedelta(days=9), None]
    count = await books.api.count(TaxRate)
    r = await books.acc.send(ACCOUNTANT, "POST", "/tax-rates", {**later, "rate": "101"})
    assert r.status_code == 422 and r.json()["error_code"] == "RATE_OUT_OF_RANGE"
    r = await books.acc.send(ACCOUNTANT, "POST", "/tax-rates", {**later, "rate": "8"})
    assert r.status_code == 409 and r.json()["error_code"] == "DUPLICATE"
    async with books.api.db() as s:
        closed = (await s.scalars(select(FiscalPeriod).where(FiscalPeriod.status == "closed"))).first()
    assert closed is not None
    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        "/tax-rates",
        {**first, "code": "TCLOSED", "effective_from": str(closed.starts_on)},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "PERIOD_CLOSED"
    assert await books.api.count(TaxRate) == count
    assert (await books.acc.send(BM1, "POST", "/tax-rates", first)).status_code == 403


async def test_tax_summary_matches_the_tax_accounts(books: Books) -> None:
    today = business_today()
    start = add_months(today.replace(day=1), -12)
    data = await books.acc.data(ACCOUNTANT, "/reports/tax", **{"from": str(start), "to": str(today)})
    output = await books.account("vat_output")
    async with books.api.db() as s:
        d, c = (
            await s.execute(
                select(func.sum(JournalLine.base_debit), func.sum(JournalLine.base_credit))
                .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                .where(
                    JournalLine.account_id == output.id,
                    JournalEntry.date >= start,
                    JournalEntry.date <= today,
                    JournalEntry.source_type != "tax_return",
                )
            )
        ).one()
    assert amount(data["output_tax"]) == Decimal(str(c or 0)) - Decimal(str(d or 0))
    assert amount(data["output_tax"]) > 0
    assert sum(amount(b["output_tax"]) for b in data["by_branch"]) == amount(data["output_tax"])
    assert data["by_code"] and {c["code"] for c in data["by_code"]} <= {t.code for t in await _codes(books)}
    assert data["filed_status"] in ("partly_filed", "filed") and data["returns"]
    r = await books.acc.get(ACCOUNTANT, "/reports/tax", **{"from": str(today), "to": str(start)})
    assert r.status_code == 422 and r.json()["error_code"] == "INVALID_PERIOD"


async def _codes(books: Books) -> list[TaxRate]:
    async with books.api.db() as s:
        return list(await s.scalars(select(TaxRate)))


async def test_filing_a_return_freezes_the_period(books: Books) -> None:
    today = business_today()
    start = add_months(today.replace(day=1), -1)
    period = {"from": str(start), "to": str(start + dt.timedelta(days=1)), "reference": "GCT-TEST"}
    before = await books.acc.data(ACCOUNTANT, "/reports/tax", **{"from": period["from"], "to": period["to"]})
    assert before["filed_status"] == "not_filed"
    r = await books.acc.send(ACCOUNTANT, "POST", "/tax-returns", period)
    assert r.status_code == 201, r.text
    ret = r.json()["data"]
    assert ret["output_tax"] == before["output_tax"] and ret["net"] == before["net_payable"]
    async with books.api.db() as s:
        row = await s.get(TaxReturn, ret["id"])
        assert row is not None and row.filed_by_id == await books.api.user_id(ACCOUNTANT)
    after = (
        await books.acc.get(ACCOUNTANT, "/reports/tax", **{"from": period["from"], "to": period["to"]})
    ).json()
    assert after["data"]["filed_status"] == "filed"
    # Nothing may be dated in the filed period any more; overlapping and open periods are refused.
    rent = await books.api_account_by_code("5320")
    cash = await books.account("cash_iqd")
    entries = await books.entries()
    lines = [{"account_id": rent, "debit": "1"}, {"account_id": cash.id, "credit": "1"}]
    body = {"date": period["from"], "memo": "late", "currency": "IQD", "lines": lines}
    r = await books.acc.send(ACCOUNTANT, "POST", "/journal-entries", body)
    assert r.status_code == 409 and r.json()["error_code"] == "TAX_PERIOD_FILED"
    r = await books.acc.send(
        ACCOUNTANT, "POST", "/tax-returns", {**period, "to": str(start + dt.timedelta(days=5))}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_FILED"
    r = await books.acc.send(ACCOUNTANT, "POST", "/tax-returns", {"from": str(today), "to": str(today)})
    assert r.status_code == 422 and r.json()["error_code"] == "INVALID_PERIOD"
    assert await books.entries() == entries
    await books.assert_sound()
