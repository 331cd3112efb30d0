"""After-sales: spare parts and branch part stock, service requests in every state with technician
jobs (today's schedule included), part reservations and consumption, warranty claims, an invoiced
out-of-warranty repair, and consumer returns (requested, approved, rejected, refunded) with refunds.

Job invoices are written in `finish()`, after the jobs are flushed (invoices.job_id ↔ jobs.invoice_id).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from tsh.seed.catalog import Catalog
from tsh.seed.context import ZERO, SeedContext, money, number
from tsh.seed.inventory import StockBook
from tsh.seed.ledger import Ledger
from tsh.seed.sales import Registry

PARTS = (
    ("phone", "Screen assembly", "شاشة كاملة", 45_000, 75_000),
    ("phone", "Battery", "بطارية", 12_000, 25_000),
    ("phone", "Charging port flex", "فلكس شحن", 4_000, 10_000),
    ("phone", "Rear camera module", "كاميرا خلفية", 18_000, 35_000),
    ("big", "Main board", "بورد رئيسي", 95_000, 160_000),
    ("big", "LED backlight strip set", "شرائح إضاءة", 22_000, 45_000),
    ("big", "Power supply board", "بورد باور", 38_000, 65_000),
    ("big", "Remote control", "ريموت", 6_000, 12_000),
    ("big", "Run capacitor 45uF", "مكثف تشغيل", 7_000, 15_000),
    ("big", "Outdoor fan motor", "ماطور مروحة خارجية", 55_000, 90_000),
    ("appliance", "Heating element", "عنصر تسخين", 9_000, 18_000),
    ("appliance", "Thermostat", "ثرموستات", 5_000, 11_000),
    ("appliance", "Blender jar 1.5L", "جك خلاط", 12_000, 22_000),
    ("appliance", "Motor brushes set", "فحمات ماطور", 3_000, 7_000),
)
FAULTS = {
    "phone": (
        "Screen cracked after a drop",
        "Battery drains within hours",
        "Does not charge",
        "Camera is blurry",
    ),
    "big": ("No picture, sound only", "Does not turn on", "Not cooling, fan runs", "Lines on the screen"),
    "appliance": ("Stopped heating", "Motor makes noise", "Leaking water", "Trips the breaker"),
    "accessory": ("Stopped working", "Loose connector", "Not charging", "Intermittent sound"),
}
SLA_HOURS = {"urgent": 24, "high": 48, "normal": 72, "low": 168}


class AfterSales:
    def __init__(
        self, ctx: SeedContext, cat: Catalog, ledger: Ledger, book: StockBook, reg: Registry
    ) -> None:
        self.ctx, self.cat, self.ledger, self.book, self.reg = ctx, cat, ledger, book, reg
        self.pending_invoices: list[dict[str, Any]] = []
        self.line_updates: list[dict[str, Any]] = []
        self.warranty_updates: dict[int, int] = defaultdict(int)

    def generate(self) -> None:
        parts = self._parts()
        self._service(parts)
        self._returns()

    # --- spare parts ---------------------------------------------------------------------------
    def _parts(self) -> dict[str, list[dict[str, Any]]]:
        ctx, rng, w = self.ctx, self.ctx.rng, self.ctx.writer
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        copies = 1 if ctx.profile.name == "demo" else 12
        for n in range(copies):
            for kind, en, ar, cost, price in PARTS:
                pid = ctx.ids.next("parts")
                sku = f"SP-{kind[:3].upper()}-{pid:05d}"
                label = f" (type {n + 1})" if copies > 1 else ""
                part = {"id": pid, "kind": kind, "price": Decimal(price)}
                by_kind[kind].append(part)
                w.add(
                    "parts",
                    {
                        "id": pid,
                        "sku": sku,
                        "name_en": en + label,
                        "name_ar": ar + label,
                        "unit_cost": Decimal(cost),
                        "price": Decimal(price),
                        "currency": "IQD",
                        "reorder_point": 5,
                        "is_active": True,
                    },
                )
                fits = [p for p in self.cat.products if p.kind == kind and p.serialised]
                for p in rng.sample(fits, min(len(fits), 5)):
                    w.add(
                        "part_compatible_products",
                        {"id": ctx.ids.next("part_compatible_products"), "part_id": pid, "product_id": p.id},
                    )
        self.part_stock: dict[tuple[Any, int], list[int]] = {}
        for kind_parts in by_kind.values():
            for part in kind_parts:
                for bid in ctx.refs["branches"].values():
                    self.part_stock[(part["id"], bid)] = [rng.choice([0, 2, 4, 8, 15, 30]), 0]
        return by_kind

    # --- service requests and jobs ------------------------------------------------------------
    def _service(self, parts: dict[str, list[dict[str, Any]]]) -> None:
        ctx, rng, w = self.ctx, self.ctx.rng, self.ctx.writer
        now = ctx.now
        users = ctx.refs["users"]
        techs: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for t in ctx.refs["technicians"]:
            techs[t["branch_id"]].append(t)
        agents = {
            ctx.refs["branches"]["BGD"]: users["service_agent1"],
            ctx.refs["branches"]["BSR"]: users["service_agent2"],
            ctx.refs["branches"]["ERB"]: users["service_agent_erb"],
        }
        sample = [x for x in self.reg.warranties if x["kind"] in ("phone", "big", "appliance")]
        n = 24 if ctx.profile.name == "demo" else 1500
        statuses = [
            "new",
            "scheduled",
            "scheduled",
            "in_progress",
            "completed",
            "closed",
            "closed",
            "cancelled",
        ]
        tech1, tech2 = ctx.refs["technicians"][0], ctx.refs["technicians"][1]
        forced = [
            (tech1, "scheduled", 0),
            (tech1, "scheduled", 0),
            (tech1, "in_progress", 0),
            (tech2, "scheduled", 0),
            (tech1, "completed", -3),
            (tech2, "closed", -6),
        ]
        open_serials: set[str] = set()
        for k in range(min(n, len(sample))):
            war = sample[k]
            if war["serial"] in open_serials:
                continue
            tech, status, offset = forced[k] if k < len(forced) else (None, statuses[k % len(statuses)], None)
            branch = tech["branch_id"] if tech else war["branch_id"]
            tech = tech or rng.choice(techs[branch])
            if offset is None and status == "in_progress" and tech in (tech1, tech2):
                status = "scheduled"  # the demo technicians' one job on site today is set above
            p = self.cat.by_id[war["product_id"]]
            claim = k % 3 != 2
            kind = "warranty_repair" if claim else ("installation" if p.kind == "big" and k % 2 else "repair")
            priority = rng.choice(["low", "normal", "normal", "high", "urgent"])
            created = now - dt.timedelta(
                days=rng.randint(1, 25) if offset is None else max(1, -offset + 2), hours=rng.randint(0, 8)
            )
            srid = ctx.ids.next("service_requests")
            closed_at = None
            if status in ("new", "scheduled", "in_progress"):
                open_serials.add(war["serial"])
            job_status, outcome = {
                "scheduled": ("scheduled", None),
                "in_progress": ("on_site", None),
                "completed": ("completed", "fixed"),
                "closed": ("completed", "fixed"),
                "cancelled": ("cancelled", None),
            }.get(status, (None, None))
            if status == "closed":
                closed_at = created + dt.timedelta(days=4)
            w.add(
                "service_requests",
                {
                    "id": srid,
                    "number": number("SR", ctx.local_date(created), srid),
                    "branch_id": branch,
                    "customer_id": war["customer_id"],
                    "product_id": p.id,
                    "serial_number": war["serial"],
                    "order_id": war["order_id"],
                    "warranty_id": war["id"] if claim else None,
                    "type": kind,
                    "priority": priority,
                    "status": status,
                    "description": rng.choice(FAULTS[p.kind]),
                    "address_id": None,
                    "preferred_date": ctx.local_date(created) + dt.timedelta(days=2),
                    "media_ids": [],
                    "sla_due_at": created + dt.timedelta(hours=SLA_HOURS[priority]),
                    "created_by_id": agents[branch],
                    "notes": [
                        {"by": agents[branch], "at": created.isoformat(), "text": "Customer called the desk"}
                    ],
                    "status_reason": "Customer no longer needs the service"
                    if status == "cancelled"
                    else ("Repaired and collected" if status == "closed" else None),
                    "closed_at": closed_at,
                    "created_at": created,
                    "updated_at": closed_at or created,
                },
            )
            if claim:
                self.warranty_updates[war["id"]] += 1
            if job_status is None:
                continue
            if offset is not None and job_status == "on_site":
                start = now - dt.timedelta(minutes=40)
            elif offset is not None and job_status == "scheduled":
                # Later today for the technician's schedule (tomorrow when the day is nearly over).
                slot = 1 + 2 * len([1 for f in forced[:k] if f[0] is tech])
                start = (now + dt.timedelta(hours=slot)).replace(minute=0, second=0)
                if start > ctx.at(ctx.today, 18):
                    start = ctx.at(ctx.today + dt.timedelta(days=1), 9 + slot)
            elif job_status in ("scheduled",):
                start = ctx.at(ctx.today + dt.timedelta(days=rng.randint(1, 3)), rng.choice([9, 11, 13, 15]))
            elif job_status == "on_site":
                start = ctx.at(ctx.today, 9)
            else:
                start = created + dt.timedelta(days=1, hours=2)
            on_site = job_status in ("on_site", "completed")
            completed = start + dt.timedelta(minutes=80) if job_status == "completed" else None
            warranty_ok = claim
            charge = (
                None
                if warranty_ok or job_status != "completed"
                else money(Decimal(rng.choice([25_000, 40_000, 60_000])))
            )
            jid = ctx.ids.next("jobs")
            w.add(
                "jobs",
                {
                    "id": jid,
                    "service_request_id": srid,
                    "technician_id": tech["id"],
                    "kind": "workshop",
                    "start": start,
                    "duration_min": 90,
                    "status": job_status,
                    "note": None,
                    "en_route_at": start - dt.timedelta(minutes=30) if on_site else None,
                    "on_site_at": start if on_site else None,
                    "on_site_lat": None,
                    "on_site_lng": None,
                    "on_site_accuracy_m": None,
                    "on_site_distance_m": None,
                    "on_site_flagged": False,
                    "outcome": outcome,
                    "resolution": "Replaced the faulty part and tested" if outcome else None,
                    "labour_min": 75 if outcome else None,
                    "charge": charge,
                    "currency": "IQD" if charge is not None else None,
                    "invoice_id": None,
                    "signature_media_id": None,
                    "replacement_serial": None,
                    "completed_at": completed,
                    "cancelled_at": created + dt.timedelta(days=1) if job_status == "cancelled" else None,
                    "created_at": created,
                    "updated_at": completed or created,
                },
            )
            kind_parts = parts.get(p.kind) or parts["appliance"]
            part = rng.choice(kind_parts)
            pr_status = {
                "scheduled": "reserved",
                "on_site": "reserved",
                "completed": "consumed",
                "cancelled": "released",
            }[job_status]
            stock = self.part_stock[(part["id"], branch)]
            if pr_status == "reserved":
                stock[0] = max(stock[0], 3)
                stock[1] += 1
            prid = ctx.ids.next("part_requests")
            w.add(
                "part_requests",
                {
                    "id": prid,
                    "job_id": jid,
                    "branch_id": branch,
                    "status": pr_status,
                    "requested_by_id": tech["user_id"],
                    "created_at": created,
                    "updated_at": created,
                },
            )
            w.add(
                "part_request_lines",
                {
                    "id": ctx.ids.next("part_request_lines"),
                    "part_request_id": prid,
                    "part_id": part["id"],
                    "qty": 1,
                    "qty_consumed": 1 if pr_status == "consumed" else 0,
                },
            )
            if charge is not None and completed is not None:
                self.pending_invoices.append(
                    {
                        "job_id": jid,
                        "customer_id": war["customer_id"],
                        "branch_id": branch,
                        "amount": charge,
                        "at": completed,
                    }
                )
        for (part_id, bid), (on_hand, reserved) in self.part_stock.items():
            w.add(
                "part_stocks",
                {
                    "id": ctx.ids.next("part_stocks"),
                    "part_id": part_id,
                    "branch_id": bid,
                    "on_hand": on_hand,
                    "reserved": reserved,
                },
            )

    # --- returns ------------------------------------------------------------------------------------
    def _returns(self) -> None:
        ctx, rng, w = self.ctx, self.ctx.rng, self.ctx.writer
        now = ctx.now
        users = ctx.refs["users"]
        demo_ids = ctx.refs["consumer_ids"]
        returns_wh = ctx.refs["warehouses"].get("BGD-RET")
        main_wh: dict[int, int] = ctx.refs["main_warehouse"]
        agents = {
            ctx.refs["branches"]["BGD"]: users["service_agent1"],
            ctx.refs["branches"]["BSR"]: users["service_agent2"],
            ctx.refs["branches"]["ERB"]: users["service_agent_erb"],
        }
        candidates = sorted(self.reg.delivered_consumer, key=lambda r: r["delivered"], reverse=True)
        plan: list[tuple[dict[str, Any], str]] = []
        used: set[int] = set()
        wanted = {demo_ids[0]: "refunded", demo_ids[1]: "requested"}
        for rec in candidates:
            want = wanted.pop(rec["customer_id"], None)
            if want and rec["order_id"] not in used:
                plan.append((rec, want))
                used.add(rec["order_id"])
        limit = 8 if ctx.profile.name == "demo" else 400
        cycle = ["requested", "approved", "rejected", "refunded", "refunded", "requested"]
        for rec in candidates:
            if len(plan) >= limit:
                break
            if (
                rec["order_id"] in used
                or rec["customer_id"] in demo_ids
                or rec["delivered"] < now - dt.timedelta(days=14)
            ):
                continue
            used.add(rec["order_id"])
            plan.append((rec, cycle[len(plan) % len(cycle)]))
        for rec, status in plan:
            line = next((ln for ln in rec["lines"] if not ln["serialised"]), None)
            if line is None:
                continue
            qty = 1
            value = money((line["line_total"] + line["tax"]) * qty / line["qty"])
            opened = min(rec["delivered"] + dt.timedelta(days=rng.randint(1, 5)), now - dt.timedelta(hours=6))
            decided = opened + dt.timedelta(hours=rng.randint(3, 30))
            if decided > now:
                decided = now - dt.timedelta(minutes=30)
            branch = rec["branch_id"]
            fee = money(value * Decimal("0.05")) if status != "requested" and rng.random() < 0.4 else ZERO
            approved_amount = value - fee if status in ("approved", "refunded") else None
            rid = ctx.ids.next("return_requests")
            w.add(
                "return_requests",
                {
                    "id": rid,
                    "number": number("RMA", ctx.local_date(opened), rid),
                    "order_id": rec["order_id"],
                    "customer_id": rec["customer_id"],
                    "branch_id": branch,
                    "channel": "consumer" if rid % 2 else "desk",
                    "status": status,
                    "note": "Item does not work as described",
                    "media_ids": [],
                    "currency": rec["currency"],
                    "value": value,
                    "restocking_fee": fee,
                    "approved_amount": approved_amount,
                    "requested_by_id": None if rid % 2 else agents[branch],
                    "decided_by_id": agents[branch] if status != "requested" else None,
                    "decided_at": decided if status != "requested" else None,
                    "decision_note": {
                        "approved": "Inspected, sealed",
                        "rejected": "Damage caused by misuse",
                        "refunded": "Inspected, refunded",
                    }.get(status),
                    "created_at": opened,
                    "updated_at": decided if status != "requested" else opened,
                },
            )
            restock = status in ("approved", "refunded")
            w.add(
                "return_lines",
                {
                    "id": ctx.ids.next("return_lines"),
                    "return_id": rid,
                    "order_line_id": line["line_id"],
                    "qty": qty,
                    "reason": "defective" if status != "rejected" else "changed_mind",
                    "condition": None if status == "requested" else "sealed",
                    "restock": restock if status != "requested" else None,
                    "inspection_note": None,
                },
            )
            if not restock:
                continue
            self.line_updates.append({"id": line["line_id"], "qty_returned": qty})
            wh = (
                returns_wh
                if returns_wh and self.book.wh_branch.get(returns_wh) == branch
                else main_wh[branch]
            )
            self.book.move(
                decided,
                line["product_id"],
                wh,
                qty,
                "return",
                "return_request",
                rid,
                agents[branch],
                cost_key=("return", rid),
            )
            self.book.on_cost(("return", rid), self._restock_entry(rid, decided, branch))
            if status == "refunded":
                self._refund(
                    rid,
                    rec,
                    branch,
                    approved_amount or value,
                    line,
                    qty,
                    decided + dt.timedelta(hours=2),
                    agents[branch],
                )

    def _restock_entry(self, rid: int, at: dt.datetime, branch: int) -> Any:
        ledger = self.ledger

        def post(cost: Decimal) -> None:
            value = money(cost)
            ledger.post(
                journal="INV",
                at=at,
                currency="IQD",
                source_type="return_request",
                source_id=rid,
                memo="Returned goods back to stock",
                branch_id=branch,
                lines=[
                    ("inventory", value, ZERO, branch, None, None),
                    ("cogs", ZERO, value, branch, None, None),
                ],
            )

        return post

    def _refund(
        self,
        rid: int,
        rec: dict[str, Any],
        branch: int,
        amount: Decimal,
        line: dict[str, Any],
        qty: int,
        at: dt.datetime,
        agent: int,
    ) -> None:
        ctx = self.ctx
        if at > ctx.now:
            at = ctx.now - dt.timedelta(minutes=5)
        online = rec["terms"] == "online"
        method = "original" if online else "credit_note"
        credit_account = "payment_clearing" if online else "customer_credit"
        tax = money(line["tax"] * qty / line["qty"])
        net = amount - tax
        fid = ctx.ids.next("refunds")
        entry = self.ledger.post(
            journal="SAL",
            at=at,
            currency=rec["currency"],
            source_type="refund",
            source_id=fid,
            memo="Refund of returned goods",
            branch_id=branch,
            posted_by_id=agent,
            lines=[
                ("sales_revenue", net, ZERO, branch, None, None),
                ("vat_output", tax, ZERO, branch, None, None),
                (credit_account, ZERO, amount, branch, rec["customer_id"], None),
            ],
        )
        ctx.writer.add(
            "refunds",
            {
                "id": fid,
                "number": number("RF", ctx.local_date(at), fid),
                "source": "return",
                "source_id": rid,
                "customer_id": rec["customer_id"],
                "branch_id": branch,
                "amount": amount,
                "currency": rec["currency"],
                "method": method,
                "reference": f"RFND-{fid:08d}" if online else None,
                "reason": "Defective item returned",
                "shift_id": None,
                "unallocated": amount if method == "credit_note" else ZERO,
                "issued_by_id": agent,
                "issued_at": at,
                "journal_entry_id": entry,
                "created_at": at,
                "updated_at": at,
            },
        )

    # --- after the jobs are written ---------------------------------------------------------------
    async def finish(self) -> None:
        ctx, w = self.ctx, self.ctx.writer
        job_updates = []
        for inv in self.pending_invoices:
            iid = ctx.ids.next("invoices")
            at, amount, branch, cust = inv["at"], inv["amount"], inv["branch_id"], inv["customer_id"]
            num = number("INV", ctx.local_date(at), iid)
            entry = self.ledger.post(
                journal="SAL",
                at=at,
                currency="IQD",
                source_type="invoice",
                source_id=iid,
                memo=f"Invoice {num} (service job)",
                branch_id=branch,
                summary=False,
                lines=[
                    ("receivable", amount, ZERO, branch, cust, None),
                    ("service_revenue", ZERO, amount, branch, None, None),
                ],
            )
            w.add(
                "invoices",
                {
                    "id": iid,
                    "number": num,
                    "customer_id": cust,
                    "branch_id": branch,
                    "order_id": None,
                    "job_id": inv["job_id"],
                    "currency": "IQD",
                    "issue_date": ctx.local_date(at),
                    "due_date": ctx.local_date(at),
                    "subtotal": amount,
                    "tax": ZERO,
                    "total": amount,
                    "paid": ZERO,
                    "balance": amount,
                    "status": "open",
                    "journal_entry_id": entry,
                    "version": 1,
                    "created_at": at,
                    "updated_at": at,
                },
            )
            job_updates.append({"id": inv["job_id"], "invoice_id": iid})
        await w.flush()
        await w.update("jobs", job_updates)
        await w.update("order_lines", self.line_updates)
        await w.update("warranties", [{"id": k, "claims_count": v} for k, v in self.warranty_updates.items()])
