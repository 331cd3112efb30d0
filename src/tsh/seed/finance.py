"""The company's books around the documents: fiscal periods, exchange rates, bank and cash accounts,
opening capital, month-end treasury (rent, deposits, card settlements), quarterly sales-tax returns,
the imported bank statement and the year-end closing entries.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tsh.seed.context import ZERO, SeedContext, money, month_end, month_starts
from tsh.seed.ledger import Ledger, Line
from tsh.seed.reference import Reference


def setup(ctx: SeedContext, ref: Reference) -> Ledger:
    """Fiscal periods, exchange rates, bank and cash accounts and the opening capital."""
    ledger = Ledger(ctx, ref)
    w = ctx.writer
    first_day = ctx.history_start - dt.timedelta(days=7)
    months = month_starts(first_day, ctx.today)
    accountant = ctx.refs["users"]["accountant1"]
    open_from = months[-2] if len(months) >= 2 else months[-1]
    for start in months:
        pid = ctx.ids.next("fiscal_periods")
        ledger.period_ids[(start.year, start.month)] = pid
        closed = start < open_from
        closed_at = ctx.at(month_end(start) + dt.timedelta(days=6), 14)
        w.add(
            "fiscal_periods",
            {
                "id": pid,
                "year": start.year,
                "month": start.month,
                "starts_on": start,
                "ends_on": month_end(start),
                "status": "closed" if closed else "open",
                "closed_by_id": accountant if closed else None,
                "closed_at": closed_at if closed else None,
                "note": "Closed after the month-end checklist" if closed else None,
            },
        )
    ctx.refs["open_from"] = open_from

    # Weekly USD rates (Sunday 09:00 Baghdad), a gentle random walk inside 1,305-1,322.
    rate = Decimal("1312.50")
    day = first_day - dt.timedelta(days=first_day.weekday() + 1)
    while True:
        moment = ctx.at(day, 9)
        if moment > ctx.now:
            break
        rate = min(Decimal("1320"), max(Decimal("1309"), rate + Decimal(ctx.rng.randint(-6, 6)) / 2))
        rid = ctx.ids.next("exchange_rates")
        w.add(
            "exchange_rates",
            {
                "id": rid,
                "rate": rate,
                "effective_from": moment,
                "set_by_id": accountant,
                "created_at": moment,
            },
        )
        ledger.rate_times.append(moment)
        ledger.rate_values.append(rate)
        day += dt.timedelta(days=7)

    bank_ids: dict[str, int] = {}
    for key, bank, acct_no, cur in (
        ("bank_iqd", "Rafidain Bank - Karrada branch", "IQ45 RAFB 0010 0000 4412 8800", "IQD"),
        ("bank_usd", "Trade Bank of Iraq - Main branch", "IQ12 TBIQ 0020 0000 7781 2200", "USD"),
        ("cash_iqd", None, None, "IQD"),
        ("cash_usd", None, None, "USD"),
    ):
        bank_ids[key] = ctx.ids.next("bank_accounts")
        w.add(
            "bank_accounts",
            {
                "id": bank_ids[key],
                "account_id": ref.accounts[key],
                "bank_name": bank,
                "account_number": acct_no,
                "currency": cur,
                "last_reconciled_date": None,
                "is_active": True,
            },
        )

    ctx.refs["bank_account_ids"] = bank_ids
    opening = ctx.at(first_day, 10)
    baghdad = ctx.refs["branches"]["BGD"]
    capital_iqd = Decimal("12000000000.00") * (40 if ctx.profile.name == "large" else 1)
    ledger.post(
        journal="GEN",
        at=opening,
        currency="IQD",
        source_type="manual",
        source_id=None,
        memo="Opening capital",
        branch_id=baghdad,
        posted_by_id=accountant,
        summary=False,
        lines=[
            ("bank_iqd", capital_iqd, ZERO, baghdad, None, None),
            ("owner_equity", ZERO, capital_iqd, baghdad, None, None),
        ],
    )
    capital_usd = Decimal("12000000.00") * (40 if ctx.profile.name == "large" else 1)
    ledger.post(
        journal="GEN",
        at=opening,
        currency="USD",
        source_type="manual",
        source_id=None,
        memo="Opening capital (USD account)",
        branch_id=baghdad,
        posted_by_id=accountant,
        summary=False,
        lines=[
            ("bank_usd", capital_usd, ZERO, baghdad, None, None),
            ("owner_equity", ZERO, capital_usd, baghdad, None, None),
        ],
    )
    return ledger


def treasury(ctx: SeedContext, ledger: Ledger, month: dt.date) -> None:
    """Month-end cash management per branch: rent and utilities, bank deposits, clearing settlement."""
    end = month_end(month)
    if ctx.at(end, 18) > ctx.now:
        return
    accountant = ctx.refs["users"]["accountant1"]
    branches = ctx.refs["branches"]
    scale = 8 if ctx.profile.name == "large" else 1
    for code, bid in branches.items():
        rent = Decimal({"BGD": 18_000_000, "BSR": 12_000_000, "ERB": 14_000_000}[code] * scale)
        utilities = money(Decimal(ctx.rng.randint(2_500_000, 5_500_000) * scale))
        at = ctx.at(end, 12)
        ledger.post(
            journal="BNK",
            at=at,
            currency="IQD",
            source_type="manual",
            source_id=None,
            memo=f"Rent and utilities {month:%B %Y}",
            branch_id=bid,
            posted_by_id=accountant,
            summary=False,
            lines=[
                ("#5320", rent, ZERO, bid, None, "Rent"),
                ("#5330", utilities, ZERO, bid, None, "Utilities"),
                ("bank_iqd", ZERO, rent + utilities, bid, None, None),
            ],
        )
    # Deposit most of the cash held (company-wide balance, split evenly for the branch tag).
    cash = ledger.balances[("cash_iqd", "IQD")]
    if cash > 10_000_000:
        deposit = money(cash * Decimal("0.85"))
        bid = branches["BGD"]
        ledger.post(
            journal="CSH",
            at=ctx.at(end, 16),
            currency="IQD",
            source_type="manual",
            source_id=None,
            memo=f"Cash deposited to Rafidain Bank {month:%B %Y}",
            branch_id=bid,
            posted_by_id=accountant,
            summary=False,
            lines=[
                ("bank_iqd", deposit, ZERO, bid, None, None),
                ("cash_iqd", ZERO, deposit, bid, None, None),
            ],
        )
    cash_usd = ledger.balances[("cash_usd", "USD")]
    if cash_usd > 1_000:
        deposit = money(cash_usd * Decimal("0.85"), "USD")
        bid = branches["BGD"]
        ledger.post(
            journal="CSH",
            at=ctx.at(end, 16),
            currency="USD",
            source_type="manual",
            source_id=None,
            memo=f"USD cash deposited to Trade Bank of Iraq {month:%B %Y}",
            branch_id=bid,
            posted_by_id=accountant,
            summary=False,
            lines=[
                ("bank_usd", deposit, ZERO, bid, None, None),
                ("cash_usd", ZERO, deposit, bid, None, None),
            ],
        )
    clearing = ledger.balances[("payment_clearing", "IQD")]
    if clearing > 1_000_000:
        settle = money(clearing * Decimal("0.95"))
        fee = money(settle * Decimal("0.015"))
        bid = branches["BGD"]
        ledger.post(
            journal="BNK",
            at=ctx.at(end, 17),
            currency="IQD",
            source_type="manual",
            source_id=None,
            memo=f"Card and wallet settlements {month:%B %Y}",
            branch_id=bid,
            posted_by_id=accountant,
            summary=False,
            lines=[
                ("bank_iqd", settle - fee, ZERO, bid, None, None),
                ("bank_charges", fee, ZERO, bid, None, None),
                ("payment_clearing", ZERO, settle, bid, None, None),
            ],
        )


def close_years(ctx: SeedContext, ledger: Ledger) -> list[dict[str, Any]]:
    """Year-end closing entries for closed Decembers; returns fiscal period updates."""
    open_from: dt.date = ctx.refs["open_from"]
    accountant = ctx.refs["users"]["accountant1"]
    updates: list[dict[str, Any]] = []
    for (year, month), pid in sorted(ledger.period_ids.items()):
        if month != 12 or dt.date(year, 12, 1) >= open_from:
            continue
        balances = ledger.pl_by_year.get(year, {})
        lines: list[Line] = []
        net = ZERO
        for acct, bal in sorted(balances.items()):
            if bal > 0:
                lines.append((acct, ZERO, bal, None, None, "Year-end closing"))
            elif bal < 0:
                lines.append((acct, -bal, ZERO, None, None, "Year-end closing"))
            net += bal
        if not lines:
            continue
        if net > 0:  # expenses exceed revenue: a loss reduces retained earnings
            lines.append(("retained_earnings", net, ZERO, None, None, "Net result of the year"))
        elif net < 0:
            lines.append(("retained_earnings", ZERO, -net, None, None, "Net result of the year"))
        at = ctx.at(dt.date(year, 12, 31), 23)
        entry = ledger.post(
            journal="GEN",
            at=at,
            currency="IQD",
            lines=lines,
            source_type="fiscal_period",
            source_id=pid,
            memo=f"Year-end closing {year}",
            branch_id=None,
            posted_by_id=accountant,
            summary=False,
        )
        updates.append({"id": pid, "closing_entry_id": entry})
    return updates


def tax_returns(ctx: SeedContext, ledger: Ledger) -> None:
    """File the sales-tax return of every calendar quarter whose months are all closed, and pay it."""
    open_from: dt.date = ctx.refs["open_from"]
    accountant = ctx.refs["users"]["accountant1"]
    hq = ctx.refs["branches"]["BGD"]
    quarters: list[tuple[str, dt.date, dt.date, Decimal]] = []
    for year in range(ctx.history_start.year, ctx.today.year + 1):
        for q in range(4):
            first = dt.date(year, q * 3 + 1, 1)
            last = month_end(dt.date(year, q * 3 + 3, 1))
            if first < ctx.history_start or dt.date(year, q * 3 + 3, 1) >= open_from:
                continue
            # Summed before any settlement is posted (a settlement is dated in the next quarter).
            months = range(q * 3 + 1, q * 3 + 4)
            output = sum((ledger.vat_by_month.get((year, m), ZERO) for m in months), ZERO)
            quarters.append((f"Q{q + 1} {year}", first, last, max(output, ZERO)))
    for label, first, last, output in quarters:
        rid = ctx.ids.next("tax_returns")
        filed = ctx.at(last + dt.timedelta(days=20), 11)
        reference = f"GCT-{label.replace(' ', '-')}"
        entry = None
        if output > 0:
            entry = ledger.post(
                journal="TAX",
                at=filed,
                currency="IQD",
                source_type="tax_return",
                source_id=rid,
                memo=f"Sales tax return {label}",
                branch_id=hq,
                posted_by_id=accountant,
                summary=False,
                lines=[
                    ("vat_output", output, ZERO, hq, None, None),
                    ("tax_payable", ZERO, output, hq, None, None),
                ],
            )
            ledger.post(
                journal="BNK",
                at=filed + dt.timedelta(days=9),
                currency="IQD",
                source_type="manual",
                source_id=None,
                memo=f"Sales tax paid {label}",
                branch_id=hq,
                posted_by_id=accountant,
                summary=False,
                reference=reference,
                lines=[
                    ("tax_payable", output, ZERO, hq, None, None),
                    ("bank_iqd", ZERO, output, hq, None, None),
                ],
            )
        ctx.writer.add(
            "tax_returns",
            {
                "id": rid,
                "period_from": first,
                "period_to": last,
                "output_tax": output,
                "input_tax": ZERO,
                "net": output,
                "reference": reference,
                "filed_by_id": accountant,
                "filed_at": filed,
                "journal_entry_id": entry,
                "breakdown": [{"code": "LUX10", "output_tax": str(output)}],
                "created_at": filed,
                "updated_at": filed,
            },
        )


def statement_lines(ctx: SeedContext, ledger: Ledger) -> None:
    """The last weeks of the Rafidain IQD statement, imported and not yet matched (ACC-17, ACC-19)."""
    bank = ctx.refs.get("bank_account_ids", {}).get("bank_iqd")
    if bank is None:
        return
    batch = f"RAFB-{ctx.today:%Y%m%d}"
    rows = []
    for day, amount, memo, reference in sorted(ledger.bank_lines, key=lambda x: x[0]):
        if amount == 0 or ctx.rng.random() < 0.15:
            continue
        posted = min(day + dt.timedelta(days=ctx.rng.choice([0, 0, 1])), ctx.today)
        rows.append(
            {
                "id": ctx.ids.next("statement_lines"),
                "bank_account_id": bank,
                "date": posted,
                "amount": amount,
                "description": memo[:200],
                "reference": reference,
                "import_batch": batch,
                "match_id": None,
            }
        )
    rows.append(
        {
            "id": ctx.ids.next("statement_lines"),
            "bank_account_id": bank,
            "date": ctx.today - dt.timedelta(days=3),
            "amount": Decimal("-25000.00"),
            "description": "Monthly account maintenance fee",
            "reference": None,
            "import_batch": batch,
            "match_id": None,
        }
    )
    ctx.writer.add_many("statement_lines", rows)
