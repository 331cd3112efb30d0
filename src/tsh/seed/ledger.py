"""The general ledger of the seeded company: periods, exchange rates, bank accounts and postings.

Every entry balances in its own currency and in IQD: base amounts are rounded per line and the
rounding residue is put on the largest line of the lighter side. Entries post to `system_key`
accounts of `tsh.domain.accounting.chart` (or to a code, written `#5320`).

Demo profile: one entry per source document (invoice, payment, COGS at shipment, POS sale,
goods receipt, payroll, refund, shift over/short, ...), as the services post them.
Large profile (`Profile.summary_ledger`): the same postings summed into one entry per business
day, branch, journal, source type and currency (still balanced in both currencies; invoices and
payments point at the summary entry of their day; customer_id is left off summary lines). At a
million orders, one entry per document would mean 3-4 million entries and ~12 million lines.

Fiscal periods: every month of the history is closed except the current and the previous one; a
closed December gets the year-end closing entry moving revenue and expenses to retained earnings.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tsh.domain.accounting import chart
from tsh.seed.context import TZ, ZERO, SeedContext, money, month_end, month_starts, number
from tsh.seed.reference import Reference

# (account: system_key or "#code", debit, credit, branch_id, customer_id, memo)
Line = tuple[str, Decimal, Decimal, int | None, int | None, str | None]


@dataclass
class _Summary:
    entry_id: int
    day: dt.date
    branch_id: int | None
    journal: str
    source_type: str
    currency: str
    amounts: dict[tuple[str, int | None], list[Decimal]] = field(default_factory=dict)


class Ledger:
    def __init__(self, ctx: SeedContext, ref: Reference) -> None:
        self.ctx = ctx
        self.ref = ref
        self.summary_mode = ctx.profile.summary_ledger
        self.period_ids: dict[tuple[int, int], int] = {}
        self.rate_times: list[dt.datetime] = []
        self.rate_values: list[Decimal] = []
        self._summaries: dict[tuple[Any, ...], _Summary] = {}
        # Base balance (debit - credit) per (year, account ref) of revenue and expense accounts.
        self.pl_by_year: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        # Running balance per account ref and currency, for the treasury entries.
        self.balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self.entries = 0
        # (id, total, base_total) of summary entries, applied by update once their lines are written.
        self.summary_totals: list[dict[str, Any]] = []
        # Output tax (base) per month, for the filed tax returns.
        self.vat_by_month: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        # Recent movements of the IQD bank account, which the bank statement import mirrors.
        self.statement_from = ctx.at(ctx.today - dt.timedelta(days=25), 0)
        self.bank_lines: list[tuple[dt.date, Decimal, str, str | None]] = []
        self._types = {f"#{a.code}": a.type for a in chart.CHART} | {
            a.system_key: a.type for a in chart.CHART if a.system_key
        }

    # --- reference data -------------------------------------------------------------------
    def account_id(self, ref: str) -> int:
        if ref.startswith("#"):
            return self.ref.account_codes[ref[1:]]
        return self.ref.accounts[ref]

    def rate_at(self, moment: dt.datetime) -> Decimal:
        i = bisect.bisect_right(self.rate_times, moment) - 1
        return self.rate_values[max(i, 0)]

    def period_id(self, day: dt.date) -> int:
        return self.period_ids[(day.year, day.month)]

    # --- posting ----------------------------------------------------------------------------
    def post(
        self,
        *,
        journal: str,
        at: dt.datetime,
        currency: str,
        lines: list[Line],
        source_type: str,
        source_id: int | None,
        memo: str,
        branch_id: int | None,
        posted_by_id: int | None = None,
        reference: str | None = None,
        status: str = "posted",
        reversal_of_id: int | None = None,
        rate: Decimal | None = None,
        summary: bool | None = None,
    ) -> int | None:
        """Post balanced lines; returns the entry id (a shared daily entry in summary mode)."""
        lines = [ln for ln in lines if ln[1] > 0 or ln[2] > 0]
        if not lines:
            return None
        debit = sum((ln[1] for ln in lines), ZERO)
        credit = sum((ln[2] for ln in lines), ZERO)
        if debit != credit:
            raise ValueError(f"unbalanced {source_type} {source_id}: {debit} != {credit}")
        if currency == "IQD" and at >= self.statement_from:
            for acct, dr, cr, _br, _cust, _memo in lines:
                if acct == "bank_iqd":
                    self.bank_lines.append((self.ctx.local_date(at), dr - cr, memo, reference))
        use_summary = self.summary_mode if summary is None else summary
        if use_summary and status == "posted" and reversal_of_id is None:
            return self._accumulate(journal, at, currency, lines, source_type, branch_id)
        fx = Decimal("1") if currency == "IQD" else (rate or self.rate_at(at))
        entry_id = self.ctx.ids.next("journal_entries")
        self._write(
            entry_id,
            journal,
            self.ctx.local_date(at),
            at,
            currency,
            fx,
            lines,
            source_type,
            source_id,
            memo,
            reference,
            branch_id,
            posted_by_id,
            status,
            reversal_of_id,
        )
        return entry_id

    def _accumulate(
        self,
        journal: str,
        at: dt.datetime,
        currency: str,
        lines: list[Line],
        source_type: str,
        branch_id: int | None,
    ) -> int:
        day = self.ctx.local_date(at)
        key = (day, branch_id, journal, source_type, currency)
        summ = self._summaries.get(key)
        if summ is None:
            summ = _Summary(
                self.ctx.ids.next("journal_entries"), day, branch_id, journal, source_type, currency
            )
            self._summaries[key] = summ
            # The header goes in now (documents written before the day is summed point at it);
            # its lines and totals follow in flush_summaries().
            self.ctx.writer.add("journal_entries", self._header(summ, ZERO, ZERO))
        for acct, dr, cr, br, _cust, _memo in lines:
            slot = summ.amounts.setdefault((acct, br), [ZERO, ZERO])
            slot[0] += dr
            slot[1] += cr
            self.balances[(acct, currency)] += dr - cr
        return summ.entry_id

    def _write(
        self,
        entry_id: int,
        journal: str,
        day: dt.date,
        at: dt.datetime,
        currency: str,
        fx: Decimal,
        lines: list[Line],
        source_type: str,
        source_id: int | None,
        memo: str,
        reference: str | None,
        branch_id: int | None,
        posted_by_id: int | None,
        status: str,
        reversal_of_id: int | None,
        summary: _Summary | None = None,
    ) -> None:
        base = [money(ln[1] * fx) if ln[1] > 0 else ZERO for ln in lines]
        base_cr = [money(ln[2] * fx) if ln[2] > 0 else ZERO for ln in lines]
        diff = sum(base, ZERO) - sum(base_cr, ZERO)
        if diff:
            if diff > 0:  # credits are short: top up the largest credit
                i = max(range(len(lines)), key=lambda k: base_cr[k])
                base_cr[i] += diff
            else:
                i = max(range(len(lines)), key=lambda k: base[k])
                base[i] -= diff
        w = self.ctx.writer
        total = sum((ln[1] for ln in lines), ZERO)
        if summary is not None:
            self.summary_totals.append({"id": entry_id, "total": total, "base_total": sum(base, ZERO)})
        else:
            w.add(
                "journal_entries",
                {
                    "id": entry_id,
                    "number": number("JE", day, entry_id),
                    "journal_id": self.ref.journals[journal],
                    "date": day,
                    "fiscal_period_id": self.period_id(day),
                    "currency": currency,
                    "exchange_rate": fx,
                    "memo": memo,
                    "reference": reference,
                    "source_type": source_type,
                    "source_id": source_id,
                    "status": status,
                    "reversal_of_id": reversal_of_id,
                    "branch_id": branch_id,
                    "posted_by_id": posted_by_id,
                    "posted_at": at,
                    "total": total,
                    "base_total": sum(base, ZERO),
                    "created_at": at,
                    "updated_at": at,
                },
            )
        first_line = self.ctx.ids.take("journal_lines", len(lines))
        year = day.year
        for k, (acct, dr, cr, br, cust, lmemo) in enumerate(lines):
            w.add(
                "journal_lines",
                {
                    "id": first_line + k,
                    "entry_id": entry_id,
                    "account_id": self.account_id(acct),
                    "debit": dr,
                    "credit": cr,
                    "base_debit": base[k],
                    "base_credit": base_cr[k],
                    "branch_id": br,
                    "customer_id": cust,
                    "memo": lmemo,
                    "created_at": at,
                    "updated_at": at,
                },
            )
            net = base[k] - base_cr[k]
            if self._types[acct] in ("revenue", "expense"):
                self.pl_by_year[year][acct] += net
            elif acct == "vat_output":
                self.vat_by_month[(day.year, day.month)] -= net
            if summary is None:
                self.balances[(acct, currency)] += dr - cr
        self.entries += 1

    def flush_summaries(self, *, before: dt.date | None = None) -> None:
        """Write the accumulated daily entries (all, or those dated before `before`)."""
        done = [k for k, s in self._summaries.items() if before is None or s.day < before]
        for key in done:
            s = self._summaries.pop(key)
            lines: list[Line] = []
            for (acct, br), (dr, cr) in sorted(s.amounts.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
                # Debits and credits stay apart (no netting), so a day's entry always has lines.
                if dr > 0:
                    lines.append((acct, dr, ZERO, br, None, None))
                if cr > 0:
                    lines.append((acct, ZERO, cr, br, None, None))
            if not lines:
                continue
            at = min(self.ctx.at(s.day, 20), self.ctx.now)
            fx = Decimal("1") if s.currency == "IQD" else self.rate_at(at)
            self._write(
                s.entry_id,
                s.journal,
                s.day,
                at,
                s.currency,
                fx,
                lines,
                s.source_type,
                None,
                f"Daily {s.source_type.replace('_', ' ')} summary",
                None,
                s.branch_id,
                None,
                "posted",
                None,
                s,
            )

    def _header(self, s: _Summary, total: Decimal, base_total: Decimal) -> dict[str, Any]:
        at = min(self.ctx.at(s.day, 20), self.ctx.now)
        return {
            "id": s.entry_id,
            "number": number("JE", s.day, s.entry_id),
            "journal_id": self.ref.journals[s.journal],
            "date": s.day,
            "fiscal_period_id": self.period_id(s.day),
            "currency": s.currency,
            "exchange_rate": Decimal("1") if s.currency == "IQD" else self.rate_at(at),
            "memo": f"Daily {s.source_type.replace('_', ' ')} summary",
            "reference": None,
            "source_type": s.source_type,
            "source_id": None,
            "status": "posted",
            "reversal_of_id": None,
            "branch_id": s.branch_id,
            "posted_by_id": None,
            "posted_at": at,
            "total": total,
            "base_total": base_total,
            "created_at": at,
            "updated_at": at,
        }


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


def local_day_start(ctx: SeedContext, day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(dt.UTC)


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
