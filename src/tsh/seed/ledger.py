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
from tsh.seed.context import ZERO, SeedContext, money, number
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
