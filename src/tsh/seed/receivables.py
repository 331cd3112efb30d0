"""Receivables of the seeded orders: invoices (with their ledger entry, and its reversal when the order
is cancelled), customer payments by channel and terms (on time, late, in instalments, USD cash on
IQD invoices at the rate in force), allocations, and commissions with how they were paid (payroll
for salespeople, monthly payouts for partners).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from tsh.seed.context import ZERO, SeedContext, money, number
from tsh.seed.customers import Cust, PartnerRec
from tsh.seed.ledger import Ledger, Line

COMMISSION_RATE = Decimal("2.25")
HUNDRED = Decimal(100)
DEPOSIT = {
    "cash": "cash_iqd",
    "cheque": "bank_iqd",
    "bank_transfer": "bank_iqd",
    "card": "payment_clearing",
    "zain_cash": "payment_clearing",
    "fastpay": "payment_clearing",
}


@dataclass
class Registry:
    """What later generators need to know about the orders (capped samples, bounded memory)."""

    delivered_consumer: list[dict[str, Any]] = field(default_factory=list)
    warranties: list[dict[str, Any]] = field(default_factory=list)
    # (kind "sp"/"par", owner id, year, month, currency index) -> net revenue / order count
    revenue: dict[tuple[str, int, int, int, int], Decimal] = field(
        default_factory=lambda: defaultdict(lambda: ZERO)
    )
    orders_count: dict[tuple[str, int, int, int, int], int] = field(default_factory=lambda: defaultdict(int))
    payroll_commission: dict[tuple[int, int], Decimal] = field(
        default_factory=lambda: defaultdict(lambda: ZERO)
    )
    payouts: dict[tuple[int, dt.date], list[Any]] = field(default_factory=dict)
    partner_payable: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    service_orders: list[dict[str, Any]] = field(default_factory=list)
    job_invoice_numbers: int = 0


class Receivables:
    """Mixed into SalesGen: the attributes below are set by its constructor."""

    ctx: SeedContext
    w: Any
    ledger: Ledger
    reg: Registry
    runs: dict[tuple[int, int], tuple[int, dt.datetime]]
    first_run: tuple[int, int] | None
    accountant: int
    partners: dict[int, PartnerRec]
    # Credit invoices per customer: (issued, total, fully paid at or None), for the limit check.
    exposure: dict[int, list[tuple[dt.datetime, Decimal, dt.datetime | None]]]

    @property
    def rng(self) -> Any:
        return self.ctx.rng

    def credit_room(self, cust: Cust, at: dt.datetime, total: Decimal) -> bool:
        """Whether a credit order of `total` fits the customer's limit at `at`: the credit
        invoices issued by then and not yet paid in full count whole (a conservative reading of
        the open balance, so the seeded accounts never sit over their limit by the seed's doing)."""
        open_ = [e for e in self.exposure[cust.id] if e[2] is None or e[2] > at]
        self.exposure[cust.id] = open_  # settled invoices never count again (dates only grow)
        used = sum((t for issued, t, _ in open_ if issued <= at), ZERO)
        return used + total <= cust.credit_limit

    # --- receivables --------------------------------------------------------------------------
    def _invoice(
        self,
        oid: int,
        cust: Cust,
        channel: str,
        branch: int,
        cur: str,
        subtotal: Decimal,
        discount: Decimal,
        tax: Decimal,
        fee: Decimal,
        total: Decimal,
        terms: str,
        method: str | None,
        confirmed: dt.datetime,
        delivered: dt.datetime | None,
        status: str,
        cancelled: dt.datetime | None,
        salesperson: int | None,
        pay_first: dt.datetime | None,
    ) -> str:
        ctx, w = self.ctx, self.w
        now = ctx.now
        iid = ctx.ids.next("invoices")
        issue = ctx.local_date(confirmed)
        due = issue + dt.timedelta(days=cust.terms_days if terms == "credit" else 0)
        void = status == "cancelled"
        lines: list[Line] = [
            ("receivable", total, ZERO, branch, cust.id, None),
            ("sales_revenue", ZERO, subtotal - discount, branch, None, None),
            ("delivery_revenue", ZERO, fee, branch, None, None),
            ("vat_output", ZERO, tax, branch, None, None),
        ]
        number_ = number("INV", issue, iid)
        entry = self.ledger.post(
            journal="SAL",
            at=confirmed,
            currency=cur,
            lines=lines,
            source_type="invoice",
            source_id=iid,
            memo=f"Invoice {number_}",
            branch_id=branch,
            status="reversed" if void else "posted",
            summary=False if void else None,
        )
        if void:
            assert cancelled is not None
            self.ledger.post(
                journal="SAL",
                at=cancelled,
                currency=cur,
                source_type="invoice",
                source_id=iid,
                memo=f"Reversal of invoice {number_} (order cancelled)",
                branch_id=branch,
                reversal_of_id=entry,
                summary=False,
                lines=[(a, cr, dr, b, c, m) for a, dr, cr, b, c, m in lines],
            )
        paid = ZERO
        if not void:
            plan = self._payment_plan(
                cust, channel, terms, method, total, confirmed, due, delivered, pay_first, salesperson
            )
            if terms == "credit":
                planned, settled = ZERO, None
                for step in plan:
                    planned += step[1]
                    if planned >= total:
                        settled = step[0]
                        break
                self.exposure[cust.id].append((confirmed, total, settled))
            for at, amount, pmethod, pchannel, collector, pay_cur in plan:
                if at > now:
                    continue
                alloc = min(amount, total - paid)
                if alloc <= 0:
                    break
                paid += self._payment(
                    cust, iid, cur, alloc, pay_cur, pmethod, pchannel, collector, at, branch
                )
        status_i = "void" if void else ("paid" if paid >= total else ("partial" if paid > 0 else "open"))
        w.add(
            "invoices",
            {
                "id": iid,
                "number": number_,
                "customer_id": cust.id,
                "branch_id": branch,
                "order_id": oid,
                "job_id": None,
                "currency": cur,
                "issue_date": issue,
                "due_date": due,
                "subtotal": total - tax,
                "tax": tax,
                "total": total,
                "paid": paid,
                "balance": ZERO if void else total - paid,
                "status": status_i,
                "voided_at": cancelled if void else None,
                "journal_entry_id": entry,
                "version": 1,
                "created_at": confirmed,
                "updated_at": cancelled if void else confirmed,
            },
        )
        if void or paid <= 0:
            return "unpaid"
        return "paid" if paid >= total else "partial"

    def _payment_plan(
        self,
        cust: Cust,
        channel: str,
        terms: str,
        method: str | None,
        total: Decimal,
        confirmed: dt.datetime,
        due: dt.date,
        delivered: dt.datetime | None,
        pay_first: dt.datetime | None,
        salesperson: int | None,
    ) -> list[tuple[Any, ...]]:
        rng, ctx = self.rng, self.ctx
        cur = cust.currency
        if terms == "online":
            assert pay_first is not None and method is not None
            return [(pay_first, total, method, "consumer", None, cur)]
        if terms == "prepaid":
            assert pay_first is not None
            m = rng.choice(["bank_transfer", "card", "fastpay"])
            return [
                (
                    pay_first,
                    total,
                    m,
                    "office" if m == "bank_transfer" else "wholesale",
                    self.accountant if m == "bank_transfer" else None,
                    cur,
                )
            ]
        if terms in ("cash_on_delivery", "cash"):
            if delivered is None:
                return []
            if channel == "salesperson":
                at = delivered + dt.timedelta(hours=rng.uniform(0.5, 30))
                m = "cash" if rng.random() < 0.85 else "zain_cash"
                return [(at, total, m, "salesperson", salesperson, cur)]
            return [(delivered + dt.timedelta(minutes=5), total, "cash", "delivery", None, cur)]
        # Credit: mostly on time, some late, some in two instalments; bad payers stop paying.
        due_at = ctx.at(due, 12)
        span = max((due_at - confirmed).total_seconds(), 3600 * 24)
        roll = rng.random()
        if cust.behaviour == "bad" and confirmed > ctx.now - dt.timedelta(days=95):
            return (
                []
                if rng.random() < 0.8
                else [
                    (
                        due_at + dt.timedelta(days=rng.randint(5, 20)),
                        money(total * Decimal("0.3"), cur),
                        *self._credit_method(channel, salesperson),
                        cur,
                    )
                ]
            )
        late = cust.behaviour == "slow" or roll < 0.18
        if late:
            at = due_at + dt.timedelta(days=rng.randint(3, 45), hours=rng.randint(0, 8))
        else:
            at = confirmed + dt.timedelta(seconds=span * rng.uniform(0.35, 1.0))
        m, ch, coll = self._credit_method(channel, salesperson)
        if roll > 0.85:
            first = money(total * Decimal(rng.choice(["0.4", "0.5", "0.6"])), cur)
            early = confirmed + dt.timedelta(seconds=span * rng.uniform(0.1, 0.5))
            pay_cur = "USD" if channel == "salesperson" and rng.random() < 0.3 else cur
            return [
                (early, first, m if pay_cur == cur else "cash", ch, coll, pay_cur),
                (at, total - first, m, ch, coll, cur),
            ]
        return [(at, total, m, ch, coll, cur)]

    def _credit_method(self, channel: str, salesperson: int | None) -> tuple[str, str, int | None]:
        rng = self.rng
        if channel == "salesperson":
            return (rng.choice(["cash", "cash", "cash", "cheque", "zain_cash"]), "salesperson", salesperson)
        m = rng.choice(["bank_transfer", "bank_transfer", "cheque", "fastpay"])
        return (m, "office" if m != "fastpay" else "wholesale", self.accountant if m != "fastpay" else None)

    def _payment(
        self,
        cust: Cust,
        iid: int,
        inv_cur: str,
        alloc: Decimal,
        pay_cur: str,
        method: str,
        channel: str,
        collector: int | None,
        at: dt.datetime,
        branch: int,
    ) -> Decimal:
        """Record one payment allocated to one invoice; returns the amount allocated (invoice currency)."""
        ctx, rng = self.ctx, self.rng
        pid = ctx.ids.next("payments")
        rate = None
        if pay_cur != inv_cur:  # USD cash against an IQD invoice, at the rate in force
            rate = self.ledger.rate_at(at)
            amount = (alloc / rate).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            alloc = min(money(amount * rate), alloc)
            if amount <= 0 or alloc <= 0:
                return ZERO
        else:
            amount = alloc
        extra = ZERO
        if method == "cash" and pay_cur == "IQD" and channel == "salesperson" and rng.random() < 0.03:
            extra = Decimal(rng.choice([5000, 10000, 25000]))
        amount += extra
        deposit = DEPOSIT[method]
        if pay_cur == "USD":
            deposit = {"cash_iqd": "cash_usd", "bank_iqd": "bank_usd"}.get(deposit, deposit)
        receivable_part = amount - extra
        lines: list[Line] = [
            (deposit, amount, ZERO, branch, None, None),
            ("receivable", ZERO, receivable_part, branch, cust.id, None),
            ("customer_credit", ZERO, extra, branch, cust.id, "Unallocated remainder"),
        ]
        num = number("RCT", ctx.local_date(at), pid)
        entry = self.ledger.post(
            journal="CSH" if method == "cash" else "BNK",
            at=at,
            currency=pay_cur,
            lines=lines,
            source_type="payment",
            source_id=pid,
            memo=f"Payment {num}",
            branch_id=branch,
            posted_by_id=collector,
            rate=rate,
        )
        online = method in ("card", "zain_cash", "fastpay")
        geo = channel == "salesperson" and cust.lat
        self.w.add(
            "payments",
            {
                "id": pid,
                "number": num,
                "customer_id": cust.id,
                "amount": amount,
                "currency": pay_cur,
                "method": method,
                "reference": f"CHQ-{pid:07d}"
                if method == "cheque"
                else (f"TRX-{pid:09d}" if method == "bank_transfer" else None),
                "provider_reference": f"{method.upper()}-{pid:012d}" if online else None,
                "channel": channel,
                "collected_by_id": collector,
                "deposit_account_id": self.ledger.account_id(deposit),
                "visit_id": None,
                "lat": round(cust.lat + rng.uniform(-0.0005, 0.0005), 6) if geo else None,
                "lng": round(cust.lng + rng.uniform(-0.0005, 0.0005), 6) if geo else None,
                "geo_accuracy_m": 9.0 if geo else None,
                "receipt_media_id": None,
                "exchange_rate": rate,
                "received_at": at,
                "device_time": at if channel == "salesperson" else None,
                "unallocated": extra,
                "note": None,
                "journal_entry_id": entry,
                "created_at": at,
                "updated_at": at,
            },
        )
        self.w.add(
            "payment_allocations",
            {
                "id": ctx.ids.next("payment_allocations"),
                "payment_id": pid,
                "invoice_id": iid,
                "amount": alloc,
                "created_at": at,
                "updated_at": at,
            },
        )
        return alloc

    # --- commissions ----------------------------------------------------------------------------
    def _commission(
        self,
        oid: int,
        salesperson: int | None,
        partner: int | None,
        kind: str,
        rate: Decimal,
        base: Decimal,
        cur: str,
        status: str,
        confirmed: dt.datetime,
        delivered: dt.datetime,
        cancelled: dt.datetime | None,
    ) -> None:
        ctx = self.ctx
        amount = money(base * rate / HUNDRED, cur)
        row: dict[str, Any] = {
            "id": ctx.ids.next("commissions"),
            "salesperson_id": salesperson,
            "partner_id": partner,
            "kind": kind,
            "order_id": oid,
            "base_amount": base,
            "rate": rate,
            "amount": amount,
            "currency": cur,
            "status": "accrued",
            "payable_at": None,
            "paid_at": None,
            "reversed_at": None,
            "payroll_run_id": None,
            "payout_id": None,
            "created_at": confirmed,
            "updated_at": confirmed,
        }
        if status == "cancelled":
            row.update(status="reversed", reversed_at=cancelled, updated_at=cancelled)
        elif status == "delivered":
            row.update(status="payable", payable_at=delivered, updated_at=delivered)
            day = ctx.local_date(delivered)
            if salesperson is not None:
                run = self.runs.get((day.year, day.month))
                if run is None and self.first_run is not None and (day.year, day.month) < self.first_run:
                    run = self.runs[self.first_run]
                if run is not None and run[1] <= ctx.now:
                    row.update(status="paid", paid_at=run[1], payroll_run_id=run[0], updated_at=run[1])
                    self.reg.payroll_commission[(run[0], salesperson)] += amount
            elif partner is not None:
                payout = self._payout(partner, day)
                if payout is not None:
                    row.update(status="paid", paid_at=payout[1], payout_id=payout[0], updated_at=payout[1])
                    payout[2][0] += amount
                else:
                    self.reg.partner_payable[partner] += amount
        self.w.add("commissions", row)

    def _payout(self, partner: int, day: dt.date) -> list[Any] | None:
        month = day.replace(day=1)
        key = (partner, month)
        got = self.reg.payouts.get(key)
        if got is None:
            nxt = (month + dt.timedelta(days=32)).replace(day=1)
            paid_at = self.ctx.at(nxt + dt.timedelta(days=11), 13)
            if paid_at > self.ctx.now - dt.timedelta(days=3):
                return None
            got = [self.ctx.ids.next("commission_payouts"), paid_at, [ZERO]]
            self.reg.payouts[key] = got
            # Written now (commissions point at it); field.payouts() sets the amount and the entry.
            self.w.add(
                "commission_payouts",
                {
                    "id": got[0],
                    "partner_id": partner,
                    "amount": Decimal("0.01"),
                    "currency": "IQD",
                    "status": "paid",
                    "requested_at": paid_at,
                    "paid_at": paid_at,
                },
            )
        return got
