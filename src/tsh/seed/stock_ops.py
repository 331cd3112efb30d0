"""This month's warehouse work: transfers in every state, manual adjustments, an open count and a
completed one that booked its variance. Movements are registered before the current month is
settled; the rows that need the settled costs (adjustment values, count snapshots) are written after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tsh.seed.catalog import Catalog
from tsh.seed.context import ZERO, SeedContext, money, number
from tsh.seed.inventory import StockBook
from tsh.seed.ledger import Ledger


class StockOps:
    def __init__(self, ctx: SeedContext, cat: Catalog, ledger: Ledger, book: StockBook) -> None:
        self.ctx, self.cat, self.ledger, self.book = ctx, cat, ledger, book
        wh = ctx.refs["warehouses"]
        self.wh = wh
        users = ctx.refs["users"]
        self.im = users["inventory_manager1"]
        self.staff = {
            wh["BGD-MAIN"]: users["warehouse_staff1"],
            wh["BSR-MAIN"]: users["warehouse_staff2"],
            wh["ERB-MAIN"]: users["warehouse_staff_erb"],
        }
        start = ctx.at(ctx.today.replace(day=1), 0, 10)
        self.floor = start
        self.transfer_lines: list[tuple[int, int, int, int, int, int]] = []
        self.adjustments: list[dict[str, Any]] = []
        self.count_updates: list[dict[str, Any]] = []
        self.completed_count: dict[str, Any] = {}

    def _ago(self, hours: float) -> dt.datetime:
        return max(self.ctx.now - dt.timedelta(hours=hours), self.floor + dt.timedelta(minutes=hours))

    def register(self) -> None:
        ctx, rng, w, wh = self.ctx, self.ctx.rng, self.ctx.writer, self.wh
        picks = [p for p in self.cat.pos_assortment if p.kind in ("accessory", "appliance")][:40]
        plans = [
            ("received", "BGD-MAIN", "BGD-SHOP", 150, 120),
            ("dispatched", "BGD-MAIN", "ERB-MAIN", 30, None),
            ("requested", "ERB-MAIN", "BSR-MAIN", None, None),
            ("cancelled", "BSR-MAIN", "BGD-MAIN", None, None),
            ("received", "BSR-MAIN", "BSR-SHOP", 100, 90),
        ]
        for status, src_code, dst_code, disp_h, recv_h in plans:
            tid = ctx.ids.next("transfers")
            src, dst = wh[src_code], wh[dst_code]
            requested = self._ago((disp_h or 20) + 6)
            dispatched = self._ago(disp_h) if disp_h else None
            received = self._ago(recv_h) if recv_h else None
            w.add(
                "transfers",
                {
                    "id": tid,
                    "number": number("TR", ctx.local_date(requested), tid),
                    "from_warehouse_id": src,
                    "to_warehouse_id": dst,
                    "status": status,
                    "requested_by_id": self.staff.get(dst, self.im),
                    "requested_at": requested,
                    "dispatched_by_id": self.staff.get(src) if dispatched else None,
                    "dispatched_at": dispatched,
                    "received_by_id": self.staff.get(dst, self.im) if received else None,
                    "received_at": received,
                    "cancelled_by_id": self.im if status == "cancelled" else None,
                    "cancelled_at": requested + dt.timedelta(hours=3) if status == "cancelled" else None,
                    "cancel_reason": "Stock found locally" if status == "cancelled" else None,
                    "note": "Replenish showroom display"
                    if dst_code.endswith("SHOP")
                    else "Balance stock between branches",
                    "receipt_note": "All items received in good condition" if received else None,
                    "created_at": requested,
                    "updated_at": received or dispatched or requested,
                },
            )
            for p in rng.sample(picks, 3):
                qty = rng.randint(2, 4)
                sent = qty if dispatched else 0
                got = qty if received else 0
                self.transfer_lines.append((tid, p.id, qty, sent, got, src))
                if dispatched:
                    self.book.move(
                        dispatched, p.id, src, -qty, "transfer_out", "transfer", tid, self.staff.get(src)
                    )
                if received:
                    self.book.move(
                        received, p.id, dst, qty, "transfer_in", "transfer", tid, self.staff.get(dst, self.im)
                    )
                elif dispatched:
                    self.book.in_transit[(p.id, dst)] += qty
        # Manual adjustments (damage, found, correction) and a count that booked a variance.
        for code, reason, hours, deltas in (
            ("BGD-MAIN", "damage", 70, (-1, -2)),
            ("BSR-MAIN", "found", 50, (1,)),
            ("ERB-MAIN", "correction", 26, (-1,)),
        ):
            self._adjustment(wh[code], reason, "manual", None, self._ago(hours), deltas, picks)
        count_id = ctx.ids.next("counts")
        at = self._ago(72)
        self.completed_count = {
            "id": count_id,
            "warehouse_id": wh["BSR-MAIN"],
            "at": at,
            "products": [p.id for p in picks[10:14]],
        }
        adj = self._adjustment(
            wh["BSR-MAIN"],
            "count",
            "count",
            count_id,
            at + dt.timedelta(hours=3),
            (-1,),
            [self.cat.by_id[picks[10].id]],
        )
        self.count_updates.append({"id": count_id, "adjustment_id": adj})

    def _adjustment(
        self,
        wid: int,
        reason: str,
        source: str,
        count_id: int | None,
        at: dt.datetime,
        deltas: tuple[int, ...],
        picks: list[Any],
    ) -> int:
        ctx = self.ctx
        aid = ctx.ids.next("adjustments")
        products = (
            picks[len(self.adjustments) * 2 : len(self.adjustments) * 2 + len(deltas)]
            if source == "manual"
            else picks
        )
        rec: dict[str, Any] = {
            "id": aid,
            "warehouse_id": wid,
            "reason": reason,
            "source": source,
            "count_id": count_id,
            "at": at,
            "lines": [],
        }
        self.adjustments.append(rec)
        mtype = "count" if source == "count" else "adjustment"
        by = self.staff.get(wid, self.im) if source == "count" else self.im
        rec["by"] = by
        costs: dict[int, Decimal] = {}
        rec["costs"] = costs
        for p, delta in zip(products, deltas, strict=False):
            key = ("adjl", aid, p.id)
            rec["lines"].append((p.id, delta, key))
            self.book.move(at, p.id, wid, delta, mtype, "adjustment", aid, by, cost_key=key)
            self.book.on_cost(key, _keep_cost(costs, p.id))
        return aid

    def write(self) -> None:
        """After the current month is settled: transfer lines, adjustments with values, counts."""
        ctx, rng, w, book = self.ctx, self.ctx.rng, self.ctx.writer, self.book
        for tid, pid, qty, sent, got, src in self.transfer_lines:
            w.add(
                "transfer_lines",
                {
                    "id": ctx.ids.next("transfer_lines"),
                    "transfer_id": tid,
                    "product_id": pid,
                    "qty_requested": qty,
                    "qty_dispatched": sent,
                    "qty_received": got,
                    "unit_cost": book.avg.get((pid, src)) if sent else None,
                },
            )
        branch_of = book.wh_branch
        for rec in self.adjustments:
            costs: dict[int, Decimal] = rec.get("costs", {})
            value = money(sum(costs.values(), ZERO))
            rec["value"] = value
            bid = branch_of[rec["warehouse_id"]]
            entry = None
            if value:
                loss = value < 0
                entry = self.ledger.post(
                    journal="INV",
                    at=rec["at"],
                    currency="IQD",
                    source_type="adjustment",
                    source_id=rec["id"],
                    memo=f"Stock adjustment ({rec['reason']})",
                    branch_id=bid,
                    posted_by_id=rec["by"],
                    summary=False,
                    lines=[
                        (
                            "inventory_adjustments",
                            -value if loss else ZERO,
                            value if not loss else ZERO,
                            bid,
                            None,
                            None,
                        ),
                        ("inventory", value if not loss else ZERO, -value if loss else ZERO, bid, None, None),
                    ],
                )
            w.add(
                "adjustments",
                {
                    "id": rec["id"],
                    "number": number("ADJ", ctx.local_date(rec["at"]), rec["id"]),
                    "warehouse_id": rec["warehouse_id"],
                    "reason": rec["reason"],
                    "source": rec["source"],
                    "count_id": rec["count_id"],
                    "note": {
                        "damage": "Dropped during unloading",
                        "found": "Found behind rack C4",
                        "correction": "Mis-scan at receipt corrected",
                        "count": "Count variance",
                    }[rec["reason"]],
                    "media_ids": [],
                    "value": value,
                    "by_id": rec["by"],
                    "journal_entry_id": entry,
                    "created_at": rec["at"],
                    "updated_at": rec["at"],
                },
            )
            for pid, delta, _key in rec["lines"]:
                unit = (costs.get(pid, ZERO) / delta).quantize(Decimal("0.01")) if delta else ZERO
                w.add(
                    "adjustment_lines",
                    {
                        "id": ctx.ids.next("adjustment_lines"),
                        "adjustment_id": rec["id"],
                        "product_id": pid,
                        "qty_delta": delta,
                        "unit_cost": abs(unit),
                    },
                )
        # The completed count (variance booked above) and an open blind count of chargers.
        cc = self.completed_count
        users = ctx.refs["users"]
        w.add(
            "counts",
            {
                "id": cc["id"],
                "number": number("CNT", ctx.local_date(cc["at"]), cc["id"]),
                "warehouse_id": cc["warehouse_id"],
                "scope": "products",
                "category_id": None,
                "blind": True,
                "status": "completed",
                "started_by_id": self.im,
                "started_at": cc["at"],
                "completed_by_id": self.im,
                "completed_at": cc["at"] + dt.timedelta(hours=3),
                "note": "Spot check of fast movers",
                "variance_value": self.adjustments[-1]["value"],
                "adjustment_id": None,
                "created_at": cc["at"],
                "updated_at": cc["at"],
            },
        )
        for k, pid in enumerate(cc["products"]):
            on_hand = book.on_hand.get((pid, cc["warehouse_id"]), 0)
            variance = -1 if k == 0 else 0
            w.add(
                "count_lines",
                {
                    "id": ctx.ids.next("count_lines"),
                    "count_id": cc["id"],
                    "product_id": pid,
                    "snapshot_qty": on_hand - variance,
                    "counted_qty": on_hand,
                    "counted_by_id": users["warehouse_staff2"],
                    "counted_at": cc["at"] + dt.timedelta(hours=1),
                    "variance": variance,
                },
            )
        oc = ctx.ids.next("counts")
        started = self._ago(20)
        cat_id = self.cat.category_ids["chargers"]
        wid = self.wh["BGD-MAIN"]
        w.add(
            "counts",
            {
                "id": oc,
                "number": number("CNT", ctx.local_date(started), oc),
                "warehouse_id": wid,
                "scope": "category",
                "category_id": cat_id,
                "blind": True,
                "status": "open",
                "started_by_id": self.im,
                "started_at": started,
                "completed_by_id": None,
                "completed_at": None,
                "note": "Quarterly count of chargers and cables",
                "variance_value": None,
                "adjustment_id": None,
                "created_at": started,
                "updated_at": started,
            },
        )
        for p in [p for p in self.cat.products if p.category_id == cat_id and p.active]:
            on_hand = book.on_hand.get((p.id, wid), 0)
            counted = rng.random() < 0.5
            w.add(
                "count_lines",
                {
                    "id": ctx.ids.next("count_lines"),
                    "count_id": oc,
                    "product_id": p.id,
                    "snapshot_qty": on_hand,
                    "counted_qty": on_hand + rng.choice([0, 0, 0, -1]) if counted and on_hand else None,
                    "counted_by_id": users["warehouse_staff1"] if counted and on_hand else None,
                    "counted_at": started + dt.timedelta(hours=2) if counted and on_hand else None,
                    "variance": None,
                },
            )


def _keep_cost(costs: dict[int, Decimal], product_id: int) -> Callable[[Decimal], None]:
    def keep(cost: Decimal) -> None:
        costs[product_id] = cost

    return keep
