"""ACC-01 dashboard, ACC-10 general ledger, ACC-11 trial balance, ACC-12 balance sheet,
ACC-13 income statement: figures against the journal lines and against each other."""

from __future__ import annotations

from sqlalchemy import select

from tests.bff.accounting.conftest import ACCOUNTANT, BM1, BM2, CASHIER, Books, amount
from tsh.domain.accounting.models import JournalEntry, JournalLine, StatementLine
from tsh.domain.identity.models import User
from tsh.domain.shared import business_today


async def _branch_of(books: Books, email: str) -> int:
    async with books.api.db() as s:
        branch = await s.scalar(select(User.branch_id).where(User.email == email))
    assert branch is not None
    return int(branch)


async def test_trial_balance_balances_and_follows_postings(books: Books) -> None:
    today = str(business_today())
    tb = (await books.acc.get(ACCOUNTANT, "/reports/trial-balance", as_of=today)).json()
    data = tb["data"]
    assert data["balanced"] is True and data["total_debit"] == data["total_credit"]
    assert sum(amount(r["balance"]) for r in data["items"]) == 0
    cash = await books.account("cash_iqd")
    row = next(r for r in data["items"] if r["account_id"] == cash.id)
    d, c = await books.base_sums(cash.id, JournalEntry.date <= business_today())
    assert (amount(row["debit"]), amount(row["credit"])) == (d, c)
    # Level 1: the five roots, same grand totals; a level deeper than the chart is the deepest.
    top = await books.acc.data(ACCOUNTANT, "/reports/trial-balance", as_of=today, level=1)
    assert {r["level"] for r in top["items"]} == {1} and len(top["items"]) == 5
    assert top["total_debit"] == data["total_debit"]
    deepest = await books.acc.data(ACCOUNTANT, "/reports/trial-balance", as_of=today, level=5)
    assert deepest["level"] == data["level"]
    assert (
        await books.acc.get(ACCOUNTANT, "/reports/trial-balance", as_of=today, level=6)
    ).status_code == 422
    assert (await books.acc.get(ACCOUNTANT, "/reports/trial-balance")).status_code == 422

    assert (await books.acc.get(ACCOUNTANT, "/reports/trial-balance", as_of=today)).json()["metadata"][
        "cached"
    ]
    await books.rent_paid(3_000)
    fresh = (await books.acc.get(ACCOUNTANT, "/reports/trial-balance", as_of=today)).json()
    assert fresh["metadata"]["cached"] is False
    assert amount(fresh["data"]["total_debit"]) == amount(data["total_debit"]) + 3_000
    assert fresh["data"]["balanced"] is True


async def test_branch_manager_sees_only_the_branch_lines(books: Books) -> None:
    today = str(business_today())
    branch = await _branch_of(books, BM1)
    other = await _branch_of(books, BM2)
    tb = await books.acc.data(BM1, "/reports/trial-balance", as_of=today)
    assert tb["branch_id"] == branch
    cash = await books.account("cash_iqd")
    row = next(r for r in tb["items"] if r["account_id"] == cash.id)
    d, c = await books.base_sums(
        cash.id, JournalEntry.date <= business_today(), JournalLine.branch_id == branch
    )
    assert (amount(row["debit"]), amount(row["credit"])) == (d, c)
    r = await books.acc.get(BM1, "/reports/trial-balance", as_of=today, branch_id=other)
    assert r.status_code == 404
    # A branch balance sheet balances through the head-office line.
    sheet = await books.acc.data(BM1, "/reports/balance-sheet", as_of=today)
    assert sheet["balanced"] == [True] and sheet["branch_id"] == branch
    equity = next(s for s in sheet["sections"] if s["type"] == "equity")
    assert equity["lines"][-1]["code"] == "head_office"
    dash = await books.acc.data(BM1, "/dashboard")
    assert dash["branch_id"] == branch and dash["unreconciled_bank_lines"] is None
    for path in ("/reports/general-ledger", "/accounts"):
        assert (await books.acc.get(BM1, path)).status_code == 403
    assert (await books.acc.get(CASHIER, "/dashboard")).status_code == 403


async def test_balance_sheet_equity_moves_by_the_income_statement_profit(books: Books) -> None:
    today = business_today()
    year_start = today.replace(month=1, day=1)
    sheet = await books.acc.data(
        ACCOUNTANT, "/reports/balance-sheet", as_of=str(today), compare_to=str(year_start)
    )
    assert sheet["balanced"] == [True, True]
    equity = next(s for s in sheet["sections"] if s["type"] == "equity")
    profit_line = next(ln for ln in equity["lines"] if ln["code"] == "profit")
    pl = await books.acc.data(
        ACCOUNTANT, "/reports/income-statement", **{"from": str(year_start), "to": str(today)}
    )
    # Earlier years are closed into retained earnings, so the unclosed result is this year's.
    assert amount(profit_line["amounts"][0]) == amount(pl["current"]["net_profit"])
    cur = pl["current"]
    assert amount(cur["gross_profit"]) == amount(cur["total_revenue"]) - amount(cur["total_cost_of_sales"])
    assert amount(cur["net_profit"]) == amount(cur["gross_profit"]) - amount(cur["total_operating_expenses"])
    assert amount(cur["total_revenue"]) > 0 and cur["cost_of_sales"]
    usd = await books.acc.data(ACCOUNTANT, "/reports/balance-sheet", as_of=str(today), currency="USD")
    assert usd["currency"] == "USD" and amount(usd["total_assets"][0]) < amount(sheet["total_assets"][0])


async def test_income_statement_comparison_and_periods(books: Books) -> None:
    today = business_today()
    month = today.replace(day=1)
    params = {"from": str(month), "to": str(today)}
    before = await books.acc.data(
        ACCOUNTANT, "/reports/income-statement", **params, compare_from="2025-01-01", compare_to="2025-01-31"
    )
    assert before["compare"] is not None and before["compare"]["from"] == "2025-01-01"
    await books.rent_paid(4_000)
    after = await books.acc.data(
        ACCOUNTANT, "/reports/income-statement", **params, compare_from="2025-01-01", compare_to="2025-01-31"
    )
    assert (
        amount(after["current"]["total_operating_expenses"])
        == amount(before["current"]["total_operating_expenses"]) + 4_000
    )
    assert after["compare"] == before["compare"]
    r = await books.acc.get(
        ACCOUNTANT,
        "/reports/income-statement",
        **{"from": str(today), "to": str(month.replace(year=month.year - 1))},
    )
    assert r.status_code == 422 and r.json()["error_code"] == "INVALID_PERIOD"
    r = await books.acc.get(ACCOUNTANT, "/reports/income-statement", **params, compare_from="2025-01-01")
    assert r.status_code == 422 and r.json()["error_code"] == "INVALID_PERIOD"


async def test_general_ledger_runs_from_opening_to_closing(books: Books) -> None:
    cash = await books.account("cash_iqd")
    today = business_today()
    start = today.replace(day=1)
    await books.rent_paid(1_500)
    params = {"account_id": cash.id, "from": str(start), "to": str(today)}
    d0, c0 = await books.base_sums(cash.id, JournalEntry.date < start)
    d1, c1 = await books.base_sums(cash.id, JournalEntry.date <= today)
    items, cursor, first = [], None, None
    while True:
        page = await books.acc.data(
            ACCOUNTANT,
            "/reports/general-ledger",
            **params,
            limit=50,
            **({"cursor": cursor} if cursor else {}),
        )
        first = first or page
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert amount(first["opening_balance"]) == d0 - c0
    assert amount(first["closing_balance"]) == d1 - c1
    assert items, "the current month has cash lines"
    assert amount(items[-1]["running_balance"]) == d1 - c1
    running = d0 - c0
    for it in items:
        running += amount(it["debit"]) - amount(it["credit"])
        assert amount(it["running_balance"]) == running
    assert len({it["line_id"] for it in items}) == len(items)
    r = await books.acc.get(
        ACCOUNTANT,
        "/reports/general-ledger",
        **{**params, "from": str(today), "to": str(start.replace(year=start.year - 1))},
    )
    assert r.status_code == 422 and r.json()["error_code"] == "INVALID_PERIOD"
    r = await books.acc.get(ACCOUNTANT, "/reports/general-ledger", **{**params, "account_id": 999999})
    assert r.status_code == 404 and r.json()["error_code"] == "ACCOUNT_NOT_FOUND"


async def test_dashboard_figures(books: Books) -> None:
    first = (await books.acc.get(ACCOUNTANT, "/dashboard")).json()
    data = first["data"]
    assert (await books.acc.get(ACCOUNTANT, "/dashboard")).json()["metadata"]["cached"] is True
    cash = await books.account("cash_iqd")
    d, c = await books.base_sums(cash.id, JournalEntry.date <= business_today())
    assert amount(next(m for m in data["cash"] if m["currency"] == "IQD")) == d - c
    assert amount(data["receivables_total"]) >= amount(data["receivables_overdue"]) >= 0
    assert data["unreconciled_bank_lines"] == await books.api.count(
        StatementLine, StatementLine.match_id.is_(None)
    )
    assert data["fiscal_period"]["status"] == "open"
    await books.rent_paid(2_000)
    after = (await books.acc.get(ACCOUNTANT, "/dashboard")).json()
    assert after["metadata"]["cached"] is False
    assert (
        amount(after["data"]["month_to_date"]["expenses"])
        == amount(data["month_to_date"]["expenses"]) + 2_000
    )
    usd = await books.acc.data(ACCOUNTANT, "/dashboard", currency="USD")
    assert usd["currency"] == "USD"
    assert amount(usd["receivables_total"]) < amount(data["receivables_total"])
