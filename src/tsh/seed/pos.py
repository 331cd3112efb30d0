"""Point of sale: one closed shift per showroom till and working day, with sales (lines, split
tenders in IQD and USD cash, card and wallets), change, pay-outs, safe drops, the odd discarded sale
and refund, closure with counted cash and the over/short entry. No shift is left open.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from tsh.seed.catalog import Catalog
from tsh.seed.context import ZERO, SeedContext, money, number
from tsh.seed.inventory import StockBook
from tsh.seed.ledger import Ledger, Line
from tsh.seed.sales import SalesGen

FLOAT_IQD = Decimal("250000.00")
FLOAT_USD = Decimal("100.00")


def _flip(lines: list[Line]) -> list[Line]:
    """Negative amounts move to the other side (an entry line is never negative)."""
    out: list[Line] = []
    for acct, dr, cr, br, cust, memo in lines:
        net = dr - cr
        if net > 0:
            out.append((acct, net, ZERO, br, cust, memo))
        elif net < 0:
            out.append((acct, ZERO, -net, br, cust, memo))
    return out


class PosGen:
    def __init__(
        self, ctx: SeedContext, cat: Catalog, ledger: Ledger, book: StockBook, sales: SalesGen
    ) -> None:
        self.ctx, self.cat, self.ledger, self.book, self.sales = ctx, cat, ledger, book, sales
        self.rng = ctx.rng
        users = ctx.refs["users"]
        t = ctx.refs["terminals"]
        # terminal -> cashier user; the second Baghdad till opens on busy days only.
        self.plan = [
            (t["BGD-POS-1"], users["cashier1"], "POS-BGD", "BGD", 1.0),
            (t["BGD-POS-2"], users["cashier_bgd"], "POS-BGD", "BGD", 0.5),
            (t["BSR-POS-1"], users["cashier2"], "POS-BSR", "BSR", 1.0),
        ]
        self.managers: dict[int, int] = ctx.refs["branch_managers"]
        self.walk_in: list[Any] = ctx.refs["consumers"]
        self.refunded_lines: list[dict[str, Any]] = []

    def day(self, day: dt.date) -> None:
        ctx = self.ctx
        if day.isoweekday() == 5:  # showrooms close on Fridays
            return
        for terminal, cashier, plist, bcode, share in self.plan:
            if self.rng.random() > share:
                continue
            opened = ctx.at(day, 10, self.rng.randint(0, 9))
            closed = ctx.at(day, 18, self.rng.randint(5, 25))
            if closed > ctx.now - dt.timedelta(minutes=10):
                continue
            self._shift(terminal, cashier, plist, bcode, opened, closed)

    def _shift(
        self,
        term: dict[str, Any],
        cashier: int,
        plist: str,
        bcode: str,
        opened: dt.datetime,
        closed: dt.datetime,
    ) -> None:
        ctx, rng, w = self.ctx, self.rng, self.ctx.writer
        sid = ctx.ids.next("shifts")
        branch, wh = term["branch_id"], term["warehouse_id"]
        drawer = {"IQD": ZERO, "USD": ZERO}  # the opening movements put the float in
        moves: list[dict[str, Any]] = []

        def cash(
            kind: str,
            amount: Decimal,
            cur: str,
            at: dt.datetime,
            tx: int | None = None,
            reason: str | None = None,
            entry: int | None = None,
        ) -> None:
            drawer[cur] += amount
            moves.append(
                {
                    "id": ctx.ids.next("cash_movements"),
                    "shift_id": sid,
                    "type": kind,
                    "amount": amount,
                    "currency": cur,
                    "reason": reason,
                    "transaction_id": tx,
                    "by_id": cashier,
                    "at": at,
                    "journal_entry_id": entry,
                    "created_at": at,
                    "updated_at": at,
                }
            )

        cash("opening", FLOAT_IQD, "IQD", opened, reason="Opening float")
        cash("opening", FLOAT_USD, "USD", opened, reason="Opening float")
        n = max(0, self.ctx.profile.pos_sales_per_shift + rng.randint(-2, 3))
        span = (closed - opened).total_seconds() - 1800
        times = sorted(opened + dt.timedelta(seconds=300 + rng.random() * span) for _ in range(n))
        sales: list[tuple[int, dict[str, Any], dt.datetime]] = []
        for at in times:
            tx = self._sale(sid, branch, wh, bcode, plist, cashier, at, cash)
            sales.append((tx[0], tx[1], at))
        if sales and rng.random() < 0.03:
            self._discarded(sid, branch, times[-1] if times else opened)
        if sales and rng.random() < 0.04:
            self._refund(sid, branch, wh, cashier, sales[0], closed - dt.timedelta(minutes=25), cash)
        if rng.random() < 0.06:
            amount = Decimal(rng.choice([15_000, 25_000, 40_000]))
            at = closed - dt.timedelta(minutes=40)
            entry = self.ledger.post(
                journal="POS",
                at=at,
                currency="IQD",
                source_type="cash_movement",
                source_id=None,
                memo="Pay-out: showroom supplies",
                branch_id=branch,
                posted_by_id=cashier,
                lines=[
                    ("#5330", amount, ZERO, branch, None, "Cleaning and water"),
                    ("cash_iqd", ZERO, amount, branch, None, None),
                ],
            )
            cash("pay_out", -amount, "IQD", at, reason="Cleaning supplies and drinking water", entry=entry)
        drop_iqd = ((drawer["IQD"] - FLOAT_IQD) / 1000).quantize(Decimal("1"), rounding=ROUND_DOWN) * 1000
        if drop_iqd > 0:
            cash("drop", -drop_iqd, "IQD", closed - dt.timedelta(minutes=5), reason="Safe drop at closing")
        if drawer["USD"] > FLOAT_USD:
            cash(
                "drop",
                -(drawer["USD"] - FLOAT_USD),
                "USD",
                closed - dt.timedelta(minutes=5),
                reason="Safe drop at closing",
            )
        expected_iqd, expected_usd = drawer["IQD"], drawer["USD"]
        variance = (
            ZERO if rng.random() < 0.85 else Decimal(rng.choice([-5000, -2000, -1000, -250, 250, 500, 1000]))
        )
        entry = None
        if variance:
            short = variance < 0
            entry = self.ledger.post(
                journal="POS",
                at=closed,
                currency="IQD",
                source_type="shift",
                source_id=sid,
                memo="Cash over/short at shift closure",
                branch_id=branch,
                posted_by_id=cashier,
                lines=[
                    (
                        "cash_over_short",
                        -variance if short else ZERO,
                        variance if not short else ZERO,
                        branch,
                        None,
                        None,
                    ),
                    (
                        "cash_iqd",
                        variance if not short else ZERO,
                        -variance if short else ZERO,
                        branch,
                        None,
                        None,
                    ),
                ],
            )
        w.add(
            "shifts",
            {
                "id": sid,
                "terminal_id": term["id"],
                "branch_id": branch,
                "cashier_id": cashier,
                "status": "closed",
                "opened_at": opened,
                "closed_at": closed,
                "closed_by_id": cashier,
                "opening_float_iqd": FLOAT_IQD,
                "opening_float_usd": FLOAT_USD,
                "expected_cash_iqd": expected_iqd,
                "expected_cash_usd": expected_usd,
                "counted_cash_iqd": expected_iqd + variance,
                "counted_cash_usd": expected_usd,
                "variance_iqd": variance,
                "variance_usd": ZERO,
                "note": "Counted twice, difference noted" if variance else None,
                "journal_entry_id": entry,
                "created_at": opened,
                "updated_at": closed,
            },
        )
        w.add_many("cash_movements", moves)

    def _sale(
        self, sid: int, branch: int, wh: int, bcode: str, plist: str, cashier: int, at: dt.datetime, cash: Any
    ) -> tuple[int, dict[str, Any]]:
        ctx, rng, w, cat = self.ctx, self.rng, self.ctx.writer, self.cat
        assert cat.pos_popularity is not None
        tid = ctx.ids.next("pos_transactions")
        products = cat.pos_popularity.pick_distinct(rng, rng.choice([1, 1, 1, 2, 2, 3]))
        lines = []
        subtotal = tax = ZERO
        for p in products:
            qty = 1 if p.serialised or p.kind != "accessory" else rng.choice([1, 1, 2])
            unit = cat.price(plist, p.id)
            disc = Decimal(rng.choice([5, 10])) if rng.random() < 0.06 else ZERO
            lt = money(unit * qty * (100 - disc) / 100)
            lx = money(lt * p.tax_rate / 100) if p.tax_rate else ZERO
            subtotal += lt
            tax += lx
            lines.append((p, qty, unit, disc, lt, lx))
        total = subtotal + tax
        customer = rng.choice(self.walk_in).id if rng.random() < 0.15 else None
        receipt = f"R-{bcode}-{ctx.local_date(at):%y%m%d}-{tid:07d}"
        # Tenders.
        roll = rng.random()
        tenders: list[dict[str, Any]] = []
        rate = self.ledger.rate_at(at)
        iqd_cash_net = clearing = usd = usd_iqd = ZERO
        if roll < 0.04 and total > 30_000:
            usd = (total / rate).quantize(Decimal("1"), rounding=ROUND_CEILING)
            usd_iqd = money(usd * rate)
            change = usd_iqd - total
            tenders.append(self._tender(tid, "cash", usd, "USD", rate, usd_iqd, None, change))
            cash("sale", usd, "USD", at, tid)
            if change > 0:
                cash("change", -change, "IQD", at, tid)
                iqd_cash_net -= change
        elif roll < 0.70:
            given = (total / 5000).quantize(Decimal("1"), rounding=ROUND_CEILING) * 5000
            change = given - total
            tenders.append(self._tender(tid, "cash", given, "IQD", Decimal(1), given, None, change))
            cash("sale", given, "IQD", at, tid)
            if change > 0:
                cash("change", -change, "IQD", at, tid)
            iqd_cash_net += total
        else:
            method = rng.choice(["card", "card", "zain_cash", "fastpay"])
            if roll > 0.95 and total > 20_000:  # split: part cash, part card
                part = (total / 2 / 1000).quantize(Decimal("1")) * 1000
                tenders.append(self._tender(tid, "cash", part, "IQD", Decimal(1), part, None, ZERO))
                cash("sale", part, "IQD", at, tid)
                iqd_cash_net += part
                rest = total - part
            else:
                rest = total
            tenders.append(
                self._tender(
                    tid, method, rest, "IQD", Decimal(1), rest, f"{method[:3].upper()}{tid:010d}", ZERO
                )
            )
            clearing += rest
        net = subtotal
        entry = self.ledger.post(
            journal="POS",
            at=at,
            currency="IQD",
            source_type="pos_transaction",
            source_id=tid,
            memo=f"POS sale {receipt}",
            branch_id=branch,
            posted_by_id=cashier,
            lines=_flip(
                [
                    ("cash_iqd", iqd_cash_net, ZERO, branch, None, None),
                    ("payment_clearing", clearing, ZERO, branch, None, None),
                    ("sales_revenue", ZERO, net - usd_iqd, branch, None, None),
                    ("vat_output", ZERO, tax, branch, None, None),
                ]
            ),
        )
        if usd:
            self.ledger.post(
                journal="POS",
                at=at,
                currency="USD",
                source_type="pos_transaction",
                source_id=tid,
                memo=f"POS sale {receipt} (USD cash)",
                branch_id=branch,
                posted_by_id=cashier,
                rate=rate,
                lines=[
                    ("cash_usd", usd, ZERO, branch, None, None),
                    ("sales_revenue", ZERO, usd, branch, None, None),
                ],
            )
        w.add(
            "pos_transactions",
            {
                "id": tid,
                "shift_id": sid,
                "branch_id": branch,
                "receipt_number": receipt,
                "customer_id": customer,
                "status": "completed",
                "discount_pct": ZERO,
                "subtotal": subtotal,
                "discount": ZERO,
                "tax": tax,
                "total": total,
                "completed_at": at,
                "discarded_at": None,
                "discard_reason": None,
                "journal_entry_id": entry,
                "created_at": at - dt.timedelta(minutes=3),
                "updated_at": at,
            },
        )
        info: dict[str, Any] = {"lines": []}
        first = ctx.ids.take("pos_lines", len(lines))
        for k, (p, qty, unit, disc, lt, lx) in enumerate(lines):
            lid = first + k
            serial = self.sales._serial(p) if p.serialised else None
            w.add(
                "pos_lines",
                {
                    "id": lid,
                    "transaction_id": tid,
                    "product_id": p.id,
                    "qty": qty,
                    "unit_price": unit,
                    "discount_pct": disc,
                    "tax": lx,
                    "line_total": lt,
                    "serial_number": serial,
                    "qty_refunded": 0,
                    "created_at": at,
                    "updated_at": at,
                },
            )
            self.book.move(
                at, p.id, wh, -qty, "pos_sale", "pos_transaction", tid, cashier, cost_key=("pos", tid)
            )
            if serial:
                self.sales._warranty(p, serial, customer, None, lid, at, branch, None)
            info["lines"].append((lid, p, qty, lt, lx))
        self.book.on_cost(("pos", tid), self._cogs(tid, at, branch))
        w.add_many("pos_tenders", tenders)
        return tid, info

    def _tender(
        self,
        tid: int,
        method: str,
        amount: Decimal,
        cur: str,
        rate: Decimal,
        amount_iqd: Decimal,
        ref: str | None,
        change: Decimal,
    ) -> dict[str, Any]:
        return {
            "id": self.ctx.ids.next("pos_tenders"),
            "transaction_id": tid,
            "method": method,
            "amount": amount,
            "currency": cur,
            "exchange_rate": rate,
            "amount_iqd": amount_iqd,
            "reference": ref,
            "change_iqd": change,
        }

    def _cogs(self, tid: int, at: dt.datetime, branch: int) -> Any:
        ledger = self.ledger

        def post(cost: Decimal) -> None:
            amount = money(-cost)
            ledger.post(
                journal="POS",
                at=at,
                currency="IQD",
                source_type="pos_transaction",
                source_id=tid,
                memo="Cost of POS sale",
                branch_id=branch,
                lines=[
                    ("cogs", amount, ZERO, branch, None, None),
                    ("inventory", ZERO, amount, branch, None, None),
                ],
            )

        return post

    def _discarded(self, sid: int, branch: int, at: dt.datetime) -> None:
        tid = self.ctx.ids.next("pos_transactions")
        self.ctx.writer.add(
            "pos_transactions",
            {
                "id": tid,
                "shift_id": sid,
                "branch_id": branch,
                "receipt_number": None,
                "customer_id": None,
                "status": "discarded",
                "subtotal": ZERO,
                "discount": ZERO,
                "tax": ZERO,
                "total": ZERO,
                "completed_at": None,
                "discarded_at": at + dt.timedelta(minutes=2),
                "discard_reason": "Customer left without paying",
                "created_at": at,
                "updated_at": at,
            },
        )

    def _refund(
        self,
        sid: int,
        branch: int,
        wh: int,
        cashier: int,
        sale: tuple[int, dict[str, Any], dt.datetime],
        at: dt.datetime,
        cash: Any,
    ) -> None:
        ctx, w = self.ctx, self.ctx.writer
        tid, info, _sold = sale
        lid, p, qty, lt, lx = info["lines"][0]
        if p.serialised:  # its warranty would have to be voided; refunds here are of plain items
            return
        net, tax = money(lt / qty), money(lx / qty)
        amount = net + tax
        rid = ctx.ids.next("refunds")
        entry = self.ledger.post(
            journal="POS",
            at=at,
            currency="IQD",
            source_type="refund",
            source_id=rid,
            memo="POS refund",
            branch_id=branch,
            posted_by_id=cashier,
            lines=[
                ("sales_revenue", net, ZERO, branch, None, None),
                ("vat_output", tax, ZERO, branch, None, None),
                ("cash_iqd", ZERO, amount, branch, None, None),
            ],
        )
        cash("refund", -amount, "IQD", at, tid, "Customer returned the item unopened")
        w.add(
            "refunds",
            {
                "id": rid,
                "number": number("RF", ctx.local_date(at), rid),
                "source": "pos_transaction",
                "source_id": tid,
                "customer_id": None,
                "branch_id": branch,
                "amount": amount,
                "currency": "IQD",
                "method": "cash",
                "reference": None,
                "reason": "Customer returned the item unopened",
                "shift_id": sid,
                "unallocated": ZERO,
                "issued_by_id": cashier,
                "issued_at": at,
                "journal_entry_id": entry,
                "created_at": at,
                "updated_at": at,
            },
        )
        self.refunded_lines.append({"id": lid, "qty_refunded": 1})
        self.book.move(at, p.id, wh, 1, "refund", "refund", rid, cashier, cost_key=("pos_refund", rid))
        ledger = self.ledger

        def restock(cost: Decimal) -> None:
            value = money(cost)
            ledger.post(
                journal="POS",
                at=at,
                currency="IQD",
                source_type="refund",
                source_id=rid,
                memo="Refunded item back to stock",
                branch_id=branch,
                lines=[
                    ("inventory", value, ZERO, branch, None, None),
                    ("cogs", ZERO, value, branch, None, None),
                ],
            )

        self.book.on_cost(("pos_refund", rid), restock)
