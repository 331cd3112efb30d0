"""Stock: suppliers, goods receipts, the movement ledger, average cost and stock levels.

The stock book collects every movement of a month (sales at shipment, POS sales, refunds, returns,
transfers, adjustments) and settles the month in time order. Before the month's first moment it
receives from suppliers whatever each product and warehouse needs to stay at or above its reorder
point after the month's outflows (and, in the last month, after the open reservations), so:
on hand never drops below zero, on_hand_after is exact, and average cost is re-weighted only by
receipts and transfers in. Outflows are costed at the running average and their cost is handed to
the callbacks registered by the generators (COGS entries, adjustment values).

Stock invariant: on_hand = Σ StockMovement.qty per product and warehouse; reserved = Σ open
StockReservation.qty (`reserve`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tsh.seed.catalog import Catalog, Product
from tsh.seed.context import ZERO, SeedContext, money, month_end, number
from tsh.seed.ledger import Ledger

INBOUND = frozenset({"receipt", "refund", "return", "transfer_in"})
SUPPLIERS = (
    # name, phone, currency, brands
    ("Samsung Gulf Electronics FZE", "+97143000100", "USD", ("Samsung",)),
    ("Apple Authorised Distributor (Dubai)", "+97143000200", "USD", ("Apple",)),
    (
        "Al-Rafidain Mobile Import Co.",
        "+9647701100100",
        "IQD",
        ("Xiaomi", "Oppo", "Realme", "Honor", "Infinix", "Tecno", "Huawei", "Nokia", "Itel", "Amazfit"),
    ),
    (
        "Levant Accessories Trading",
        "+9647801100200",
        "IQD",
        ("Anker", "Baseus", "Ugreen", "Spigen", "SanDisk", "Kingston", "TP-Link", "Tenda"),
    ),
    (
        "Babylon Home Appliances",
        "+9647701100300",
        "IQD",
        ("Philips", "Moulinex", "Kenwood", "Braun", "Tefal", "DeLonghi", "Black+Decker", "Midea"),
    ),
    (
        "Mesopotamia Electronics Import",
        "+9647501100400",
        "IQD",
        (
            "LG",
            "TCL",
            "Hisense",
            "Sony",
            "JBL",
            "Gree",
            "Haier",
            "Lenovo",
            "HP",
            "ASUS",
            "Dell",
            "Starsat",
            "Echolink",
            "Geant",
        ),
    ),
)


@dataclass(slots=True)
class Event:
    at: dt.datetime
    seq: int
    product_id: int
    warehouse_id: int
    qty: int
    type: str
    source_type: str
    source_id: int | None
    by_id: int | None
    cost_key: Any = None
    unit_cost: Decimal | None = None  # inbound at a given IQD cost (transfer in, receipt)


class StockBook:
    def __init__(self, ctx: SeedContext, cat: Catalog, ledger: Ledger) -> None:
        self.ctx = ctx
        self.cat = cat
        self.ledger = ledger
        self.on_hand: dict[tuple[int, int], int] = defaultdict(int)
        self.avg: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
        self.reserved: dict[tuple[int, int], int] = defaultdict(int)
        self.reorder: dict[tuple[int, int], tuple[int, int]] = {}  # key -> (reorder point, reorder qty)
        self.events: dict[tuple[int, int], list[Event]] = defaultdict(list)
        self.costs: dict[Any, Decimal] = defaultdict(lambda: ZERO)
        self.callbacks: dict[Any, list[Callable[[Decimal], None]]] = defaultdict(list)
        self.scarce: set[tuple[int, int]] = set()
        self._seq = 0
        self.supplier_of: dict[str, tuple[int, str]] = {}
        self.wh_branch: dict[int, int] = {}
        self.last_movement: dict[tuple[int, int], dt.datetime] = {}
        self.last_receipt: dict[tuple[int, int], dt.datetime] = {}
        self.last_sale: dict[tuple[int, int], dt.datetime] = {}
        self.payables: dict[tuple[dt.date, str], Decimal] = defaultdict(lambda: ZERO)
        self.in_transit: dict[tuple[int, int], int] = defaultdict(int)
        self._pending_receipts: list[Event] = []
        self._settled_once = False

    # --- set-up ------------------------------------------------------------------------------
    def suppliers(self) -> None:
        for name, phone, cur, brands in SUPPLIERS:
            sid = self.ctx.ids.next("suppliers")
            self.ctx.writer.add(
                "suppliers",
                {
                    "id": sid,
                    "name": name,
                    "phone": phone,
                    "currency": cur,
                    "payable_account_id": self.ledger.account_id("payable_suppliers"),
                    "is_active": True,
                },
            )
            for b in brands:
                self.supplier_of[b] = (sid, cur)

    def assort(self, warehouse_id: int, products: list[Product], *, shop: bool) -> None:
        rng = self.ctx.rng
        for p in products:
            if not p.active:
                continue
            base = {"phone": 6, "accessory": 25, "big": 3, "appliance": 5}[p.kind]
            if shop:
                base = max(2, base // 2)
            point = base // 2 + rng.randint(0, base)
            self.reorder[(p.id, warehouse_id)] = (point, point * 2 + rng.randint(0, base * 2))
            if rng.random() < 0.04:
                self.scarce.add((p.id, warehouse_id))

    # --- recording ----------------------------------------------------------------------------
    def move(
        self,
        at: dt.datetime,
        product_id: int,
        warehouse_id: int,
        qty: int,
        type_: str,
        source_type: str,
        source_id: int | None,
        by_id: int | None,
        cost_key: Any = None,
        unit_cost: Decimal | None = None,
    ) -> None:
        self._seq += 1
        local = self.ctx.local_date(at)
        self.events[(local.year, local.month)].append(
            Event(
                at,
                self._seq,
                product_id,
                warehouse_id,
                qty,
                type_,
                source_type,
                source_id,
                by_id,
                cost_key,
                unit_cost,
            )
        )

    def on_cost(self, key: Any, callback: Callable[[Decimal], None]) -> None:
        self.callbacks[key].append(callback)

    def reserve(self, product_id: int, warehouse_id: int, qty: int) -> None:
        self.reserved[(product_id, warehouse_id)] += qty

    # --- settlement ---------------------------------------------------------------------------
    def settle(self, month: dt.date, *, last: bool = False) -> None:
        ctx = self.ctx
        events = self.events.pop((month.year, month.month), [])
        demand: dict[tuple[int, int], int] = defaultdict(int)
        for e in events:
            if e.qty < 0:
                demand[(e.product_id, e.warehouse_id)] -= e.qty
        if last:
            for key, qty in self.reserved.items():
                demand[key] += qty
        # The first receipts open the stock just before the history starts; later ones open each month.
        receive_at = (
            ctx.at(month, 0, 0, 1)
            if self._settled_once
            else ctx.at(ctx.history_start - dt.timedelta(days=3), 9)
        )
        self._settled_once = True
        receipts: dict[tuple[int, int], list[tuple[Product, int]]] = defaultdict(list)
        for key in set(self.reorder) | set(demand):
            need = demand.get(key, 0)
            have = self.on_hand[key]
            point, qty = self.reorder.get(key, (0, 0))
            if key in self.scarce:  # kept short on purpose: the low and out-of-stock screens have rows
                point, qty = 0, key[0] % 2
            if have - need >= point:
                continue
            target = point + qty
            p = self.cat.by_id[key[0]]
            receive = need + target - have
            if receive <= 0:
                continue
            if p.pack > 1 and p.kind != "big":
                receive = -(-receive // p.pack) * p.pack
            supplier = self.supplier_of.get(p.brand, next(iter(self.supplier_of.values())))
            receipts[(key[1], supplier[0])].append((p, receive))
        for (wid, sid), lines in sorted(receipts.items()):
            self._receipt(receive_at, wid, sid, lines)
        events.sort(key=lambda e: (e.at, e.seq))
        self._apply([*self._pending_receipts, *events])
        self._pending_receipts = []
        ready = [k for k in self.costs if k in self.callbacks]
        for key in ready:
            cost = self.costs.pop(key)
            for cb in self.callbacks.pop(key):
                cb(cost)

    def _receipt(self, at: dt.datetime, wid: int, sid: int, lines: list[tuple[Product, int]]) -> None:
        ctx = self.ctx
        cur = next(c for s, c in self.supplier_of.values() if s == sid)
        rate = Decimal("1") if cur == "IQD" else self.ledger.rate_at(at)
        rid = ctx.ids.next("goods_receipts")
        total = ZERO
        rows = []
        for p, qty in lines:
            unit = money(p.cost, "IQD") if cur == "IQD" else money(p.cost / rate, "USD")
            total += unit * qty
            rows.append(
                {
                    "id": ctx.ids.next("goods_receipt_lines"),
                    "receipt_id": rid,
                    "product_id": p.id,
                    "qty": qty,
                    "unit_cost": unit,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            iqd_cost = unit if cur == "IQD" else (unit * rate).quantize(Decimal("0.01"))
            self._seq += 1
            self._pending_receipts.append(
                Event(
                    at,
                    self._seq,
                    p.id,
                    wid,
                    qty,
                    "receipt",
                    "goods_receipt",
                    rid,
                    self._receiver(wid),
                    None,
                    iqd_cost,
                )
            )
        branch = self.wh_branch[wid]
        entry = self.ledger.post(
            journal="INV",
            at=at,
            currency=cur,
            source_type="goods_receipt",
            source_id=rid,
            memo=f"Goods received into warehouse {wid}",
            branch_id=branch,
            posted_by_id=self._receiver(wid),
            lines=[
                ("inventory", total, ZERO, branch, None, None),
                ("payable_suppliers", ZERO, total, branch, None, None),
            ],
            rate=rate,
        )
        ctx.writer.add(
            "goods_receipts",
            {
                "id": rid,
                "number": number("GRN", ctx.local_date(at), rid),
                "supplier_id": sid,
                "warehouse_id": wid,
                "received_at": at,
                "received_by_id": self._receiver(wid),
                "currency": cur,
                "exchange_rate": rate,
                "total": total,
                "note": "Monthly replenishment",
                "journal_entry_id": entry,
                "created_at": at,
                "updated_at": at,
            },
        )
        ctx.writer.add_many("goods_receipt_lines", rows)
        self.payables[(month_end(ctx.local_date(at)), cur)] += total

    def _receiver(self, wid: int) -> int:
        return self.ctx.refs["warehouse_receivers"].get(wid) or self.ctx.refs["users"]["inventory_manager1"]

    def _apply(self, events: list[Event]) -> None:
        w = self.ctx.writer
        rows = []
        first = self.ctx.ids.take("stock_movements", len(events))
        for i, e in enumerate(events):
            key = (e.product_id, e.warehouse_id)
            before = self.on_hand[key]
            avg = self.avg[key]
            if e.qty > 0:
                cost = e.unit_cost if e.unit_cost is not None else avg
                if e.type in ("receipt", "transfer_in") and before + e.qty > 0:
                    self.avg[key] = ((avg * before + cost * e.qty) / (before + e.qty)).quantize(
                        Decimal("0.01")
                    )
                elif before <= 0:
                    self.avg[key] = cost
            else:
                cost = avg
            after = before + e.qty
            if after < 0:
                raise RuntimeError(
                    f"stock below zero for product {e.product_id} in warehouse {e.warehouse_id}"
                )
            self.on_hand[key] = after
            self.last_movement[key] = e.at
            if e.type in ("receipt", "transfer_in"):
                self.last_receipt[key] = e.at
            elif e.type in ("sale", "pos_sale"):
                self.last_sale[key] = e.at
            if e.cost_key is not None:
                self.costs[e.cost_key] += cost * e.qty
            rows.append(
                {
                    "id": first + i,
                    "at": e.at,
                    "product_id": e.product_id,
                    "warehouse_id": e.warehouse_id,
                    "type": e.type,
                    "qty": e.qty,
                    "unit_cost": cost,
                    "on_hand_after": after,
                    "avg_cost_after": self.avg[key],
                    "source_type": e.source_type,
                    "source_id": e.source_id,
                    "by_id": e.by_id,
                    "created_at": e.at,
                    "updated_at": e.at,
                }
            )
        w.add_many("stock_movements", rows)

    def pay_suppliers(self, month: dt.date) -> None:
        """Pay last month's receipts at the end of this month (bank transfer per currency)."""
        ctx = self.ctx
        end = month_end(month)
        if ctx.at(end, 15) > ctx.now:
            return
        prev_end = month.replace(day=1) - dt.timedelta(days=1)
        accountant = ctx.refs["users"]["accountant1"]
        bgd = ctx.refs["branches"]["BGD"]
        for (due, cur), amount in list(self.payables.items()):
            if due > prev_end or amount <= 0:
                continue
            del self.payables[(due, cur)]
            bank = "bank_iqd" if cur == "IQD" else "bank_usd"
            self.ledger.post(
                journal="BNK",
                at=ctx.at(end, 15),
                currency=cur,
                source_type="manual",
                source_id=None,
                memo=f"Supplier payments for receipts of {due:%B %Y}",
                branch_id=bgd,
                posted_by_id=accountant,
                summary=False,
                lines=[
                    ("payable_suppliers", amount, ZERO, bgd, None, None),
                    (bank, ZERO, amount, bgd, None, None),
                ],
            )

    def write_levels(self) -> None:
        rows = []
        for key in sorted(set(self.on_hand) | set(self.reorder) | set(self.reserved)):
            point, qty = self.reorder.get(key, (0, 0))
            rows.append(
                {
                    "id": self.ctx.ids.next("stock_levels"),
                    "product_id": key[0],
                    "warehouse_id": key[1],
                    "on_hand": self.on_hand.get(key, 0),
                    "reserved": self.reserved.get(key, 0),
                    "in_transit_in": self.in_transit.get(key, 0),
                    "avg_cost": self.avg.get(key, ZERO),
                    "reorder_point": point,
                    "reorder_qty": qty,
                    "last_receipt_at": self.last_receipt.get(key),
                    "last_sale_at": self.last_sale.get(key),
                    "version": 1,
                }
            )
        self.ctx.writer.add_many("stock_levels", rows)


def new_book(ctx: SeedContext, cat: Catalog, ledger: Ledger) -> StockBook:
    book = StockBook(ctx, cat, ledger)
    for code, wid in ctx.refs["warehouses"].items():
        book.wh_branch[wid] = ctx.refs["branches"][code.split("-")[0]]
    book.suppliers()
    for code, wid in ctx.refs["warehouses"].items():
        if code.endswith("-MAIN"):
            book.assort(wid, cat.products, shop=False)
        elif code.endswith("-SHOP"):
            book.assort(wid, cat.pos_assortment, shop=True)
    return book
