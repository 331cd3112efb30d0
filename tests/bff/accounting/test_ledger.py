"""ACC-02/03 chart and account, ACC-06/07 journal, ACC-08 manual entries, ACC-09 reversal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tests.bff.accounting.conftest import ACCOUNTANT, ADMIN, BM1, CASHIER, Books, amount
from tsh.domain.accounting.models import FiscalPeriod, JournalEntry, JournalLine
from tsh.domain.shared import business_today


def _find(nodes: list[dict[str, Any]], account_id: int) -> dict[str, Any] | None:
    for n in nodes:
        if n["id"] == account_id:
            return n
        found = _find(n["children"], account_id)
        if found:
            return found
    return None


async def test_chart_tree_carries_balances_and_refreshes_after_a_posting(books: Books) -> None:
    first = (await books.acc.get(ACCOUNTANT, "/accounts")).json()
    assert [n["type"] for n in first["data"]["items"]] == [
        "asset",
        "liability",
        "equity",
        "revenue",
        "expense",
    ]
    assert (await books.acc.get(ACCOUNTANT, "/accounts")).json()["metadata"]["cached"] is True
    cash = await books.account("cash_iqd")
    node = _find(first["data"]["items"], cash.id)
    assert node is not None and node["is_postable"] and node["level"] == 4
    d, c = await books.base_sums(cash.id, JournalEntry.date <= business_today())
    assert amount(node["balance"]) == d - c
    # A header's balance is the sum of its children's.
    assets = first["data"]["items"][0]
    assert amount(assets["balance"]) == sum(amount(k["balance"]) for k in assets["children"])

    await books.rent_paid(12_000)
    after = (await books.acc.get(ACCOUNTANT, "/accounts")).json()
    assert after["metadata"]["cached"] is False
    moved = _find(after["data"]["items"], cash.id)
    assert moved is not None and amount(moved["balance"]) == amount(node["balance"]) - 12_000
    # Filter by type keeps one root.
    only = await books.acc.data(ACCOUNTANT, "/accounts", type="revenue")
    assert [n["type"] for n in only["items"]] == ["revenue"]


async def test_account_detail_matches_the_lines(books: Books) -> None:
    cash = await books.account("cash_iqd")
    data = await books.acc.data(ACCOUNTANT, f"/accounts/{cash.id}")
    d, c = await books.base_sums(cash.id)
    assert amount(data["balance"]) == d - c
    assert sum(amount(b["base"]) for b in data["balances"]) == d - c
    assert len(data["monthly"]) == 12 and data["monthly"][-1]["month"] == f"{business_today():%Y-%m}"
    assert 0 < len(data["lines"]) <= 20
    dates = [ln["date"] for ln in data["lines"]]
    assert dates == sorted(dates, reverse=True)
    assert all(ln["account_id"] == cash.id for ln in data["lines"])
    r = await books.acc.get(ACCOUNTANT, "/accounts/999999")
    assert r.status_code == 404 and r.json()["error_code"] == "ACCOUNT_NOT_FOUND"


async def test_manual_entry_posts_balanced_and_reversal_mirrors_it(books: Books) -> None:
    rent = await books.api_account_by_code("5320")
    before = await books.base_sums(rent)
    entry = await books.rent_paid(25_000, memo="December rent")
    assert entry["status"] == "posted" and entry["journal"] == "GEN" and entry["source_type"] == "manual"
    assert amount(entry["total"]) == 25_000 and len(entry["lines"]) == 2
    async with books.api.db() as s:
        row = await s.get(JournalEntry, entry["id"])
        assert row is not None and row.posted_by_id == await books.api.user_id(ACCOUNTANT)
    assert await books.base_sums(rent) == (before[0] + 25_000, before[1])
    await books.assert_sound()
    # Detail is cached until the reversal.
    assert (await books.acc.get(ACCOUNTANT, f"/journal-entries/{entry['id']}")).json()["metadata"][
        "cached"
    ] is False
    assert (await books.acc.get(ACCOUNTANT, f"/journal-entries/{entry['id']}")).json()["metadata"][
        "cached"
    ] is True

    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        f"/journal-entries/{entry['id']}/reversal",
        {"date": str(business_today()), "reason": "wrong"},
    )
    assert r.status_code == 201, r.text
    mirror = r.json()["data"]
    assert mirror["reversal_of"] == {"id": entry["id"], "number": entry["number"]}
    assert [(ln["debit"], ln["credit"]) for ln in mirror["lines"]] == [
        (ln["credit"], ln["debit"]) for ln in entry["lines"]
    ]
    original = (await books.acc.get(ACCOUNTANT, f"/journal-entries/{entry['id']}")).json()
    assert original["metadata"]["cached"] is False
    assert original["data"]["status"] == "reversed"
    assert original["data"]["reversed_by"]["id"] == mirror["id"]
    assert await books.base_sums(rent) == (before[0] + 25_000, before[1] + 25_000)
    # A second reversal is refused and changes nothing.
    counts = (await books.entries(), await books.lines())
    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        f"/journal-entries/{entry['id']}/reversal",
        {"date": str(business_today()), "reason": "x"},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_REVERSED"
    assert (await books.entries(), await books.lines()) == counts
    await books.assert_sound()


async def test_manual_entry_rules_refuse_and_leave_nothing(books: Books) -> None:
    rent = await books.api_account_by_code("5320")
    cash = (await books.account("cash_iqd")).id
    header = (await books.header()).id
    today = str(business_today())
    async with books.api.db() as s:
        closed = (
            await s.scalars(
                select(FiscalPeriod).where(FiscalPeriod.status == "closed").order_by(FiscalPeriod.id.desc())
            )
        ).first()
    assert closed is not None

    def body(lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"date": today, "memo": "bad", "currency": "IQD", "lines": lines, **extra}

    cases = [
        (
            body([{"account_id": rent, "debit": "100"}, {"account_id": cash, "credit": "90"}]),
            422,
            "UNBALANCED_ENTRY",
        ),
        (body([{"account_id": rent, "debit": "0"}]), 422, "TOO_FEW_LINES"),
        (
            body(
                [
                    {"account_id": rent, "debit": "5", "credit": "5"},
                    {"account_id": cash, "debit": "0", "credit": "0"},
                ]
            ),
            422,
            "INVALID_LINE",
        ),
        (
            body([{"account_id": header, "debit": "100"}, {"account_id": cash, "credit": "100"}]),
            422,
            "ACCOUNT_NOT_POSTABLE",
        ),
        (
            body([{"account_id": rent, "debit": "10.5"}, {"account_id": cash, "credit": "10.5"}]),
            422,
            "INVALID_AMOUNT",
        ),
        (
            body([{"account_id": 999999, "debit": "1"}, {"account_id": cash, "credit": "1"}]),
            404,
            "ACCOUNT_NOT_FOUND",
        ),
        (
            body(
                [{"account_id": rent, "debit": "1", "branch_id": 99999}, {"account_id": cash, "credit": "1"}]
            ),
            404,
            "BRANCH_NOT_FOUND",
        ),
        (
            {
                **body([{"account_id": rent, "debit": "1"}, {"account_id": cash, "credit": "1"}]),
                "date": str(closed.ends_on),
            },
            409,
            "PERIOD_CLOSED",
        ),
        (
            body([{"account_id": rent, "debit": 1.5}, {"account_id": cash, "credit": "1.5"}]),
            422,
            "VALIDATION_ERROR",
        ),
        (
            body([{"account_id": rent, "debit": "-1"}, {"account_id": cash, "credit": "-1"}]),
            422,
            "VALIDATION_ERROR",
        ),
    ]
    counts = (await books.entries(), await books.lines())
    for payload, status, code in cases:
        r = await books.acc.send(ACCOUNTANT, "POST", "/journal-entries", payload)
        assert (r.status_code, r.json()["error_code"]) == (status, code), (payload, r.text)
    r = await books.acc.send(ACCOUNTANT, "POST", "/journal-entries", body([]), key=None)
    assert r.status_code == 400 and r.json()["error_code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert (await books.entries(), await books.lines()) == counts


async def test_inactive_account_and_system_entries(books: Books) -> None:
    header = await books.header()
    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        "/accounts",
        {"code": "59T1", "name_ar": "اختبار", "name_en": "Dormant test", "type": "expense",
         "parent_id": header.id, "is_postable": True, "cash_flow_class": "operating"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    dormant = r.json()["data"]["id"]
    r = await books.acc.send(ACCOUNTANT, "PATCH", f"/accounts/{dormant}", {"is_active": False})
    assert r.status_code == 200 and r.json()["data"]["is_active"] is False
    cash = (await books.account("cash_iqd")).id
    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        "/journal-entries",
        {"date": str(business_today()), "memo": "x", "currency": "IQD",
         "lines": [{"account_id": dormant, "debit": "1"}, {"account_id": cash, "credit": "1"}]},
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["error_code"] == "ACCOUNT_INACTIVE"
    # An invoice entry is corrected through its invoice.
    async with books.api.db() as s:
        system = (
            await s.scalars(
                select(JournalEntry).where(
                    JournalEntry.source_type == "invoice", JournalEntry.status == "posted"
                )
            )
        ).first()
    assert system is not None
    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        f"/journal-entries/{system.id}/reversal",
        {"date": str(business_today()), "reason": "x"},
    )
    assert r.status_code == 422 and r.json()["error_code"] == "SYSTEM_ENTRY"
    r = await books.acc.send(
        ACCOUNTANT, "POST", "/journal-entries/999999/reversal", {"date": "2026-01-01", "reason": "x"}
    )
    assert r.status_code == 404


async def test_usd_entry_uses_the_rate_in_force(books: Books) -> None:
    usd_cash = (await books.account("cash_usd")).id
    rent = await books.api_account_by_code("5320")
    entry = await books.post(
        [{"account_id": rent, "debit": "10.25"}, {"account_id": usd_cash, "credit": "10.25"}], currency="USD"
    )
    rate = Decimal(entry["exchange_rate"])
    assert rate > 1000
    expected = (Decimal("10.25") * rate).quantize(Decimal("1"))
    assert amount(entry["base_total"]) == expected
    assert all(amount(ln["base_debit"]) + amount(ln["base_credit"]) == expected for ln in entry["lines"])
    await books.assert_sound()


async def test_journal_list_pages_and_filters(books: Books) -> None:
    entry = await books.rent_paid(7_000)
    first = await books.acc.data(ACCOUNTANT, "/journal-entries", limit=5)
    assert first["items"][0]["date"] >= entry["date"] and first["next_cursor"]
    second = await books.acc.data(ACCOUNTANT, "/journal-entries", limit=5, cursor=first["next_cursor"])
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 10
    keys = [(e["date"], e["id"]) for e in first["items"] + second["items"]]
    assert keys == sorted(keys, reverse=True)
    manual = await books.acc.data(ACCOUNTANT, "/journal-entries", source_type="manual", q=entry["number"])
    assert [e["id"] for e in manual["items"]] == [entry["id"]]
    assert manual["items"][0]["posted_by"]["id"] == await books.api.user_id(ACCOUNTANT)
    pos = await books.acc.data(ACCOUNTANT, "/journal-entries", journal="POS", limit=3)
    assert pos["items"] and all(e["journal"] == "POS" for e in pos["items"])
    rent = await books.api_account_by_code("5320")
    by_account = await books.acc.data(ACCOUNTANT, "/journal-entries", account_id=rent, limit=100)
    async with books.api.db() as s:
        with_rent = set(await s.scalars(select(JournalLine.entry_id).where(JournalLine.account_id == rent)))
    assert {e["id"] for e in by_account["items"]} <= with_rent
    r = await books.acc.get(ACCOUNTANT, "/journal-entries", status="draft")
    assert r.status_code == 422


async def test_accounts_create_and_update_rules(books: Books) -> None:
    header = await books.header()
    cash = await books.account("cash_iqd")
    base = {"name_ar": "حساب", "name_en": "Test account", "is_postable": True}
    counts = await books.api.count(JournalEntry)
    r = await books.acc.send(
        ACCOUNTANT,
        "POST",
        "/accounts",
        {**base, "code": cash.code, "type": "expense", "parent_id": header.id},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "ACCOUNT_CODE_TAKEN"
    r = await books.acc.send(
        ACCOUNTANT, "POST", "/accounts", {**base, "code": "59T2", "type": "asset", "parent_id": cash.id}
    )
    assert r.status_code == 422 and r.json()["error_code"] == "PARENT_POSTABLE"
    r = await books.acc.send(
        ACCOUNTANT, "POST", "/accounts", {**base, "code": "59T2", "type": "asset", "parent_id": header.id}
    )
    assert r.status_code == 422 and r.json()["error_code"] == "TYPE_MISMATCH"
    r = await books.acc.send(
        ACCOUNTANT, "POST", "/accounts", {**base, "code": "59T2", "type": "expense", "parent_id": header.id}
    )
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    # Unused: the code may still change; renaming always may.
    r = await books.acc.send(
        ACCOUNTANT, "PATCH", f"/accounts/{created['id']}", {"code": "59T3", "name_en": "Renamed"}
    )
    assert (
        r.status_code == 200
        and r.json()["data"]["code"] == "59T3"
        and r.json()["data"]["name_en"] == "Renamed"
    )
    # Used accounts keep code, type and postable flag; a balance blocks deactivation.
    r = await books.acc.send(ACCOUNTANT, "PATCH", f"/accounts/{cash.id}", {"code": "1199"})
    assert r.status_code == 422 and r.json()["error_code"] == "FIELD_NOT_EDITABLE"
    r = await books.acc.send(ACCOUNTANT, "PATCH", f"/accounts/{cash.id}", {"is_active": False})
    assert r.status_code == 409 and r.json()["error_code"] == "ACCOUNT_HAS_BALANCE"
    async with books.api.db() as s:
        from tsh.domain.accounting.models import Account

        row = await s.get(Account, cash.id)
        assert row is not None and row.code == cash.code and row.is_active
    assert await books.api.count(JournalEntry) == counts
    # The chart screen shows the new account after LedgerSetupChanged.
    chart = await books.acc.data(ACCOUNTANT, "/accounts")
    assert _find(chart["items"], created["id"]) is not None


async def test_roles(books: Books) -> None:
    for email in (BM1, CASHIER):
        for path in ("/accounts", "/journal-entries", "/accounts/1", "/journal-entries/1"):
            r = await books.acc.get(email, path)
            assert r.status_code == 403, (email, path)
        r = await books.acc.send(email, "POST", "/journal-entries", {})
        assert r.status_code == 403
    assert (await books.acc.get(ADMIN, "/accounts")).status_code == 200
    assert dt.date.today()  # the suite runs on the real clock
