"""Orders of every channel over the last twelve months, with lines priced from the customers' price
lists, stock reservations or shipments, invoices, payments and allocations, commissions, warranties
and the ledger postings of each (invoice, payment; COGS is posted by the stock book at shipment).

Line arithmetic is the services': line_total = qty × unit_price × (1 − discount/100) rounded per
line, tax per line, subtotal = Σ line totals, total = subtotal − discount + tax + delivery fee.
Statuses follow from the age of the order: old orders are delivered (a few cancelled), recent ones
confirmed or shipped, and a couple of online orders placed minutes ago are still pending payment.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from tsh.seed.catalog import Catalog, Product
from tsh.seed.context import ZERO, SeedContext, money, number
from tsh.seed.customers import Cust, PartnerRec
from tsh.seed.inventory import StockBook
from tsh.seed.ledger import Ledger
from tsh.seed.receivables import COMMISSION_RATE, Receivables, Registry

HUNDRED = Decimal(100)


class SalesGen(Receivables):
    def __init__(
        self,
        ctx: SeedContext,
        cat: Catalog,
        ledger: Ledger,
        book: StockBook,
        payroll_runs: dict[tuple[int, int], tuple[int, dt.datetime]],
    ) -> None:
        self.ctx, self.cat, self.ledger, self.book = ctx, cat, ledger, book
        self.w = ctx.writer
        self.runs = payroll_runs
        self.first_run = min(payroll_runs) if payroll_runs else None
        self.reg = Registry()
        self.main_wh: dict[int, int] = ctx.refs["main_warehouse"]
        self.zones: dict[int, dict[str, Any]] = ctx.refs["zones"]
        self.partners: dict[int, PartnerRec] = {p.id: p for p in ctx.refs["partners"]}
        self.serial_seq = 0
        self.promo_used: set[int] = set()
        self.exposure: dict[int, list[tuple[dt.datetime, Decimal, dt.datetime | None]]] = defaultdict(list)
        self.accountant = ctx.refs["users"]["accountant1"]
        self.today = ctx.today

    # --- one order ------------------------------------------------------------------------------
    def order(
        self,
        *,
        channel: str,
        cust: Cust,
        placed: dt.datetime,
        salesperson: int | None = None,
        partner: PartnerRec | None = None,
        visit_id: int | None = None,
        force_pending: bool = False,
    ) -> None:
        ctx, rng, w, cat = self.ctx, self.rng, self.w, self.cat
        now = ctx.now
        oid = ctx.ids.next("orders")
        cur = cust.currency
        plist = cust.price_list
        branch = cust.branch_id
        address = cust.addresses[0] if cust.addresses else None
        if channel == "consumer" and address is not None and len(cust.addresses) > 1 and rng.random() < 0.25:
            address = cust.addresses[1]
        if channel == "consumer" and address is not None and address["delivery_zone_id"]:
            branch = self.zones[address["delivery_zone_id"]]["branch_id"]
        wh = self.main_wh[branch]
        n_lines = {"consumer": (1, 3), "salesperson": (2, 6), "wholesale": (3, 9), "partner": (1, 4)}[channel]
        assert cat.popularity is not None
        products: list[Product] = cat.popularity.pick_distinct(rng, rng.randint(*n_lines))
        lines: list[tuple[Product, int, Decimal, Decimal, Decimal, Decimal]] = []
        for p in products:
            qty = self._qty(channel, p)
            unit = cat.price(plist, p.id, qty)
            disc = ZERO
            if channel == "salesperson" and rng.random() < 0.15:
                disc = Decimal(rng.choice([1, 2, 3, 5]))
            gross = unit * qty
            line_total = money(gross * (HUNDRED - disc) / HUNDRED, cur) if disc else money(gross, cur)
            tax = money(line_total * p.tax_rate / HUNDRED, cur) if p.tax_rate else ZERO
            lines.append((p, qty, unit, disc, line_total, tax))
        subtotal = sum((ln[4] for ln in lines), ZERO)
        tax = sum((ln[5] for ln in lines), ZERO)
        discount = ZERO
        promo = None
        option, fee, pickup = "standard", ZERO, None
        terms, method = "cash", None
        if channel == "consumer":
            zone = self.zones.get(address["delivery_zone_id"]) if address else None
            roll = rng.random()
            if roll < 0.15 or zone is None:
                option, pickup = "pickup", branch
            elif roll < 0.25 and zone["express"]:
                option, fee = "express", Decimal(zone["express"])
            else:
                fee = zone["fee"]
            online = rng.random() < 0.35 or force_pending
            terms = "online" if online else "cash_on_delivery"
            method = (
                rng.choice(["card", "zain_cash", "zain_cash", "fastpay"]) if online else "cash_on_delivery"
            )
            if (
                placed > now - dt.timedelta(days=19)
                and cust.id not in self.promo_used
                and rng.random() < 0.08
            ):
                self.promo_used.add(cust.id)
                promo = "TSH10"
                discount = money(subtotal * Decimal("0.10"), cur)
        elif channel == "salesperson":
            terms = "credit" if cust.credit_limit > 0 and rng.random() < 0.7 else "cash"
        elif channel == "wholesale":
            terms = "prepaid" if rng.random() < 0.2 else "credit"
            if rng.random() < 0.2:
                option, pickup = "pickup", branch
        else:
            terms = "cash_on_delivery"
        total = subtotal - discount + tax + fee
        if terms == "credit" and not self.credit_room(cust, placed, total):
            # As SAL-10 / WHO-08 would: beyond the limit the account pays first or in cash.
            terms = "prepaid" if channel == "wholesale" else "cash"

        # Timeline.
        online = terms == "online"
        pending = force_pending
        auto_cancel = online and not pending and rng.random() < 0.03
        confirmed = placed + dt.timedelta(minutes=rng.randint(1, 4)) if online else placed
        pay_first = None
        if online:
            pay_first = confirmed - dt.timedelta(seconds=30)
        if terms == "prepaid":
            pay_first = placed + dt.timedelta(hours=rng.randint(1, 20))
        ship_hours = {
            "consumer": (6, 60),
            "salesperson": (12, 80),
            "wholesale": (20, 110),
            "partner": (16, 72),
        }
        start = pay_first if terms == "prepaid" and pay_first else confirmed
        shipped = start + dt.timedelta(hours=rng.uniform(*ship_hours[channel]))
        if option == "express":
            shipped = confirmed + dt.timedelta(hours=rng.uniform(1, 4))
        delivered = shipped + dt.timedelta(hours=rng.uniform(3, 52))
        if option == "pickup":
            delivered = shipped
        cancelled = None
        cancel_reason = None
        if auto_cancel:
            cancelled, cancel_reason = (
                placed + dt.timedelta(minutes=30),
                "Online payment not completed in time",
            )
        elif not pending and terms != "prepaid" and not online and rng.random() < 0.035:
            cancelled = confirmed + dt.timedelta(hours=rng.uniform(1, 10))
            cancel_reason = rng.choice(
                [
                    "Customer changed their mind",
                    "Duplicate order",
                    "Out of delivery area",
                    "Customer asked to cancel by phone",
                ]
            )
            if cancelled > now:
                cancelled = None
        if pending:
            status = "pending"
        elif cancelled is not None:
            status = "cancelled"
        elif delivered <= now:
            status = "delivered"
        elif shipped <= now:
            status = "shipped"
        else:
            status = "confirmed"
        invoiced = not pending and not auto_cancel
        has_conf = status != "pending" and not auto_cancel

        # Invoice and payments first: the order row carries the payment status.
        pay_status = "unpaid"
        if invoiced:
            pay_status = self._invoice(
                oid,
                cust,
                channel,
                branch,
                cur,
                subtotal,
                discount,
                tax,
                fee,
                total,
                terms,
                method,
                confirmed,
                delivered if status == "delivered" else None,
                status,
                cancelled,
                salesperson,
                pay_first,
            )

        # Order row.
        snapshot = None
        if option != "pickup" and address is not None:
            snapshot = {
                k: address[k]
                for k in (
                    "label",
                    "city",
                    "district",
                    "street",
                    "landmark",
                    "phone",
                    "lat",
                    "lng",
                    "delivery_zone_id",
                    "address_id",
                )
            }
        w.add(
            "orders",
            {
                "id": oid,
                "number": number("SO", ctx.local_date(placed), oid),
                "channel": channel,
                "customer_id": cust.id,
                "branch_id": branch,
                "warehouse_id": wh,
                "salesperson_id": salesperson,
                "partner_id": partner.id if partner else None,
                "visit_id": visit_id,
                "status": status,
                "payment_terms": terms,
                "payment_method": method if channel == "consumer" else None,
                "payment_status": pay_status,
                "currency": cur,
                "subtotal": subtotal,
                "discount": discount,
                "tax": tax,
                "delivery_option": option,
                "delivery_fee": fee,
                "total": total,
                "address_snapshot": snapshot,
                "pickup_branch_id": pickup,
                "promo_code": promo,
                "po_number": f"PO-{cust.id % 1000:03d}-{oid % 100000:05d}"
                if channel == "wholesale" and rng.random() < 0.7
                else None,
                "note": None,
                "placed_at": placed,
                "confirmed_at": confirmed if has_conf else None,
                "shipped_at": shipped if status in ("shipped", "delivered") else None,
                "delivered_at": delivered if status == "delivered" else None,
                "cancelled_at": cancelled if status == "cancelled" else None,
                "cancel_reason": cancel_reason if status == "cancelled" else None,
                "version": 1,
                "created_at": placed,
                "updated_at": max(x for x in (placed, confirmed, shipped, delivered) if x <= now)
                if status != "cancelled"
                else cancelled,
            },
        )
        first_line = ctx.ids.take("order_lines", len(lines))
        shipped_flag = status in ("shipped", "delivered")
        reg_lines = []
        for k, (p, qty, unit, disc, line_total, ltax) in enumerate(lines):
            lid = first_line + k
            serials: list[str] = []
            if shipped_flag and p.serialised:
                serials = [self._serial(p) for _ in range(qty)]
            w.add(
                "order_lines",
                {
                    "id": lid,
                    "order_id": oid,
                    "product_id": p.id,
                    "sku": p.sku,
                    "product_name": p.name_en if channel != "consumer" or cust.id % 3 else p.name_ar,
                    "qty": qty,
                    "unit_price": unit,
                    "discount_pct": disc,
                    "tax": ltax,
                    "line_total": line_total,
                    "qty_delivered": qty if status == "delivered" else 0,
                    "qty_returned": 0,
                    "serial_numbers": serials,
                    "created_at": placed,
                    "updated_at": placed,
                },
            )
            if status in ("pending", "confirmed"):
                self.book.reserve(p.id, wh, qty)
                w.add(
                    "stock_reservations",
                    {
                        "id": ctx.ids.next("stock_reservations"),
                        "order_line_id": lid,
                        "warehouse_id": wh,
                        "product_id": p.id,
                        "qty": qty,
                        "expires_at": placed + dt.timedelta(minutes=30) if status == "pending" else None,
                        "created_at": placed,
                        "updated_at": placed,
                    },
                )
            elif shipped_flag:
                self.book.move(shipped, p.id, wh, -qty, "sale", "order", oid, None, cost_key=("order", oid))
            if status == "delivered" and serials:
                for sn in serials:
                    self._warranty(p, sn, cust.id, lid, None, delivered, branch, oid)
            reg_lines.append(
                {
                    "line_id": lid,
                    "product_id": p.id,
                    "qty": qty,
                    "unit_price": unit,
                    "line_total": line_total,
                    "tax": ltax,
                    "serialised": p.serialised,
                    "serials": serials,
                }
            )
        if shipped_flag:
            self.book.on_cost(("order", oid), self._cogs_poster(oid, shipped, branch))
        if status == "delivered" and channel == "consumer":
            self._remember_delivered(oid, cust, branch, delivered, terms, method, cur, reg_lines)

        # Commissions and target figures.
        if has_conf and status != "cancelled":
            month_key = (ctx.local_date(confirmed).year, ctx.local_date(confirmed).month)
            if salesperson:
                self.reg.revenue[("sp", salesperson, *month_key, {"IQD": 0, "USD": 1}[cur])] += (
                    subtotal - discount
                )
                self.reg.orders_count[("sp", salesperson, *month_key, 0)] += 1
            if partner:
                self.reg.revenue[("par", partner.id, *month_key, 0)] += subtotal - discount
                self.reg.orders_count[("par", partner.id, *month_key, 0)] += 1
        if salesperson and has_conf:
            self._commission(
                oid,
                salesperson,
                None,
                "direct",
                COMMISSION_RATE,
                subtotal - discount,
                cur,
                status,
                confirmed,
                delivered,
                cancelled,
            )
        if partner and has_conf:
            self._commission(
                oid,
                None,
                partner.id,
                "direct",
                partner.rate,
                subtotal - discount,
                cur,
                status,
                confirmed,
                delivered,
                cancelled,
            )
            if partner.parent_id:
                upline = self.partners[partner.parent_id]
                self._commission(
                    oid,
                    None,
                    upline.id,
                    "override",
                    upline.override,
                    subtotal - discount,
                    cur,
                    status,
                    confirmed,
                    delivered,
                    cancelled,
                )

    def _qty(self, channel: str, p: Product) -> int:
        rng = self.rng
        if channel == "consumer":
            return 1 if p.kind != "accessory" else rng.choice([1, 1, 2, 3])
        if channel == "wholesale":
            if p.kind == "big":
                return rng.randint(1, 5)
            if p.serialised:  # every unit gets a warranty: whole cartons, but not many
                return max(p.pack, 1) * rng.choice([1, 1, 1, 2])
            return max(p.pack, 1) * rng.choice([1, 1, 2, 3, 5])
        if p.serialised:
            return rng.choice([1, 1, 2, 3]) if channel == "salesperson" else 1
        if p.kind == "accessory":
            return rng.choice([5, 10, 10, 20, 30]) if channel == "salesperson" else rng.randint(1, 5)
        return rng.randint(1, 4) if channel == "salesperson" else rng.randint(1, 2)

    def _serial(self, p: Product) -> str:
        self.serial_seq += 1
        return f"{p.sku[:3]}{p.id:05d}{self.serial_seq:08d}"

    def _warranty(
        self,
        p: Product,
        serial: str,
        customer: int | None,
        order_line: int | None,
        pos_line: int | None,
        sold: dt.datetime,
        branch: int,
        order_id: int | None,
    ) -> None:
        ctx = self.ctx
        start = ctx.local_date(sold)
        months = p.warranty or 12
        y, m = divmod(start.month - 1 + months, 12)
        end = dt.date(start.year + y, m + 1, min(start.day, 28))
        wid = ctx.ids.next("warranties")
        status = "active" if end >= self.today else "expired"
        self.w.add(
            "warranties",
            {
                "id": wid,
                "product_id": p.id,
                "serial_number": serial,
                "customer_id": customer,
                "order_line_id": order_line,
                "pos_line_id": pos_line,
                "starts_on": start,
                "ends_on": end,
                "status": status,
                "claims_count": 0,
                "created_at": sold,
                "updated_at": sold,
            },
        )
        sample = self.reg.warranties
        if customer is not None and status == "active":
            rec = {
                "id": wid,
                "product_id": p.id,
                "serial": serial,
                "customer_id": customer,
                "branch_id": branch,
                "order_id": order_id,
                "ends_on": end,
                "kind": p.kind,
            }
            if len(sample) < 400:
                sample.append(rec)
            else:
                j = self.rng.randint(0, self.serial_seq)
                if j < 400:
                    sample[j] = rec

    def _remember_delivered(
        self,
        oid: int,
        cust: Cust,
        branch: int,
        delivered: dt.datetime,
        terms: str,
        method: str | None,
        cur: str,
        lines: list[dict[str, Any]],
    ) -> None:
        rec = {
            "order_id": oid,
            "customer_id": cust.id,
            "branch_id": branch,
            "delivered": delivered,
            "terms": terms,
            "method": method,
            "currency": cur,
            "lines": lines,
        }
        recent = delivered > self.ctx.now - dt.timedelta(days=40)
        if recent or cust.id in self.ctx.refs["demo_customer_ids"] or len(self.reg.delivered_consumer) < 1500:
            self.reg.delivered_consumer.append(rec)

    def _cogs_poster(self, oid: int, shipped: dt.datetime, branch: int) -> Any:
        ledger = self.ledger

        def post(cost: Decimal) -> None:
            amount = money(-cost)
            ledger.post(
                journal="INV",
                at=shipped,
                currency="IQD",
                source_type="order",
                source_id=oid,
                memo="Cost of goods shipped",
                branch_id=branch,
                lines=[
                    ("cogs", amount, ZERO, branch, None, None),
                    ("inventory", ZERO, amount, branch, None, None),
                ],
            )

        return post
