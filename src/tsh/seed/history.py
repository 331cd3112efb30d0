"""Twelve months of trading, day by day: salespeople's routes and visits, orders of every channel,
POS shifts; at each month end the stock book settles the month, suppliers are paid and the branches'
cash is banked. The current month is settled last, after inventory and after-sales events are in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Awaitable, Callable
from typing import Any

from tsh.seed import finance
from tsh.seed.context import SeedContext, Weighted, month_starts
from tsh.seed.customers import Cust, PartnerRec
from tsh.seed.people import Staff
from tsh.seed.pos import PosGen
from tsh.seed.sales import SalesGen

WEEKDAY = {1: 1.0, 2: 1.0, 3: 1.05, 4: 1.1, 5: 0.35, 6: 1.15, 7: 1.0}  # ISO weekday; Friday is quiet
MONTH = {
    1: 0.9,
    2: 0.9,
    3: 1.05,
    4: 1.0,
    5: 1.0,
    6: 1.1,
    7: 1.15,
    8: 1.05,
    9: 0.95,
    10: 1.0,
    11: 1.1,
    12: 1.2,
}
MIX = {"salesperson": 0.45, "consumer": 0.25, "wholesale": 0.12, "partner": 0.18}
OUTCOMES = (("no_order", 40), ("payment_collected", 35), ("shop_closed", 6), ("owner_absent", 6))
NOTES = (
    "Owner asked for the new Samsung price list",
    "Stock of chargers is low, follow up next week",
    "Shop is being renovated",
    "Interested in the air fryer promotion",
    "Paid part of the balance in cash",
    "Asked for a credit limit increase",
    None,
    None,
    None,
)


class History:
    def __init__(self, ctx: SeedContext, sales: SalesGen, pos: PosGen) -> None:
        self.ctx, self.sales, self.pos = ctx, sales, pos
        self.rng = ctx.rng
        self.salespeople: list[Staff] = ctx.refs["salespeople"]
        self.retail: dict[int, list[Cust]] = ctx.refs["retail"]
        self.cursor: dict[int, int] = {s.user_id: 0 for s in self.salespeople if s.user_id is not None}
        for own in self.retail.values():
            self.rng.shuffle(own)
        demo = ctx.refs["demo_customer_ids"]
        consumers: list[Cust] = ctx.refs["consumers"]
        self.consumers = Weighted(consumers, [3.0 if c.id in demo else 1.0 for c in consumers])
        wholesale: list[Cust] = ctx.refs["wholesale"]
        self.wholesale = Weighted(wholesale, [3.0 if c.id in demo else 1.0 for c in wholesale])
        partners: list[PartnerRec] = [
            p for p in ctx.refs["partners"] if p.status != "invited" and p.customers
        ]
        self.partners = Weighted(partners, [5.0 if i < 2 else 1.0 for i in range(len(partners))])
        self.sp_weights = Weighted(self.salespeople, [1.0] * len(self.salespeople))

    async def run(
        self, flush: Callable[[], Awaitable[None]], settle_current: Callable[[], Awaitable[None]]
    ) -> None:
        ctx = self.ctx
        days = [
            ctx.history_start + dt.timedelta(days=i) for i in range((ctx.today - ctx.history_start).days + 1)
        ]
        span = len(days)
        weights = [
            WEEKDAY[d.isoweekday()] * MONTH[d.month] * (0.85 + 0.3 * i / span) for i, d in enumerate(days)
        ]
        per_weight = ctx.profile.orders * 1.05 / sum(weights)  # a few draws are skipped (future, on hold)
        months = month_starts(days[0], days[-1])
        book, ledger = self.sales.book, self.sales.ledger
        for month in months:
            for i, day in enumerate(days):
                if day.year != month.year or day.month != month.month:
                    continue
                self._day(day, weights[i] * per_weight)
                self.pos.day(day)
                await flush()
            ctx.log(f"  {month:%Y-%m}: {ctx.ids.peek('orders') - 1:,} orders so far")
            if month != months[-1]:
                book.settle(month)
                book.pay_suppliers(month)
                finance.treasury(ctx, ledger, month)
                if ledger.summary_mode:
                    ledger.flush_summaries(before=month.replace(day=1) - dt.timedelta(days=40))
                await flush()
        self._tomorrow()
        await settle_current()

    # --- one day ---------------------------------------------------------------------------------
    def _day(self, day: dt.date, expected: float) -> None:
        ctx, rng = self.ctx, self.rng
        now = ctx.now
        working = day.isoweekday() != 5
        routes: dict[int, list[dict[str, Any]]] = {}
        if working:
            for s in self.salespeople:
                routes[s.user_id] = self._route(s, day)  # type: ignore[index]
        counts = {ch: self._poisson(expected * share) for ch, share in MIX.items()}
        if not working:
            counts["consumer"] += counts.pop("salesperson") // 3
            counts["wholesale"] //= 4
        for channel, n in counts.items():
            for _ in range(n):
                if channel == "salesperson":
                    s = self.sp_weights.pick(rng)
                    stops = [
                        v
                        for v in routes.get(s.user_id, [])
                        if v["status"] == "completed" and not v["ordered"]
                    ]
                    if stops and rng.random() < 0.75:
                        v = rng.choice(stops)
                        v["ordered"] = True
                        v["outcome"] = "order_taken"
                        placed = v["check_out_at"] - dt.timedelta(minutes=rng.randint(2, 10))
                        cust = v["cust"]
                        visit_id = v["id"]
                    else:
                        cust = rng.choice(self.retail[s.user_id])
                        placed = ctx.at(day, rng.randint(9, 16), rng.randint(0, 59))
                        visit_id = None
                    if placed >= now or (cust.behaviour == "bad" and placed > now - dt.timedelta(days=60)):
                        continue
                    self.sales.order(
                        channel="salesperson",
                        cust=cust,
                        placed=placed,
                        salesperson=s.user_id,
                        visit_id=visit_id,
                    )
                elif channel == "consumer":
                    placed = ctx.at(day, rng.choice([9, 11, 13, 15, 17, 19, 20, 21, 22]), rng.randint(0, 59))
                    if placed < now - dt.timedelta(minutes=40):
                        self.sales.order(channel="consumer", cust=self.consumers.pick(rng), placed=placed)
                elif channel == "wholesale":
                    placed = ctx.at(day, rng.randint(9, 14), rng.randint(0, 59))
                    cust = self.wholesale.pick(rng)
                    if placed < now and not (
                        cust.behaviour == "bad" and placed > now - dt.timedelta(days=60)
                    ):
                        self.sales.order(channel="wholesale", cust=cust, placed=placed)
                else:
                    p = self.partners.pick(rng)
                    placed = ctx.at(day, rng.randint(10, 20), rng.randint(0, 59))
                    if placed < now and not (
                        p.status == "suspended" and placed > now - dt.timedelta(days=45)
                    ):
                        self.sales.order(
                            channel="partner", cust=rng.choice(p.customers), placed=placed, partner=p
                        )
        # Visits go in with the day's orders (orders point at them; the writer orders the tables).
        self.ctx.writer.add_many("visits", [self._visit_row(v) for stops in routes.values() for v in stops])
        if day == ctx.today:
            # Two online orders placed minutes ago, still waiting for payment (auto-cancel after 30 min).
            for k, minutes in enumerate((4, 11)):
                cust = self.ctx.refs["consumers"][1 if k == 0 else 2 + k]
                self.sales.order(
                    channel="consumer",
                    cust=cust,
                    placed=now - dt.timedelta(minutes=minutes),
                    force_pending=True,
                )

    def _poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        if mean > 30:
            return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def _route(self, s: Staff, day: dt.date) -> list[dict[str, Any]]:
        ctx, rng = self.ctx, self.rng
        uid = s.user_id
        assert uid is not None
        own = self.retail[uid]
        n = min(len(own), ctx.profile.visits_per_day + rng.randint(-1, 1))
        stops = []
        demo = uid in (ctx.refs["users"]["salesperson1"], ctx.refs["users"]["salesperson2"])
        for seq in range(1, n + 1):
            cust = own[self.cursor[uid] % len(own)]
            self.cursor[uid] += 1
            planned = ctx.at(day, 9, 30) + dt.timedelta(minutes=55 * (seq - 1))
            v: dict[str, Any] = {
                "id": ctx.ids.next("visits"),
                "salesperson_id": uid,
                "cust": cust,
                "date": day,
                "sequence": seq,
                "planned_time": planned,
                "status": "planned",
                "ordered": False,
                "outcome": None,
                "check_in_at": None,
                "check_out_at": None,
            }
            if day == ctx.today:
                done = planned + dt.timedelta(minutes=50) < ctx.now and not (demo and seq > 1)
            else:
                done = True
            if done and rng.random() < 0.1 and day != ctx.today:
                v["status"] = "skipped"
            elif done:
                v["status"] = "completed"
                v["check_in_at"] = planned + dt.timedelta(minutes=rng.randint(-10, 20))
                v["check_out_at"] = v["check_in_at"] + dt.timedelta(minutes=rng.randint(12, 35))
                v["outcome"] = _pick(rng, OUTCOMES)
            stops.append(v)
        return stops

    def _visit_row(self, v: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        cust: Cust = v["cust"]
        row: dict[str, Any] = {
            "id": v["id"],
            "salesperson_id": v["salesperson_id"],
            "customer_id": cust.id,
            "date": v["date"],
            "sequence": v["sequence"],
            "planned_time": v["planned_time"],
            "status": v["status"],
            "outcome": v["outcome"],
            "notes": None,
            "media_ids": [],
            "verified": False,
            "created_at": v["planned_time"] - dt.timedelta(days=1),
            "updated_at": v["check_out_at"] or v["planned_time"],
        }
        if v["status"] == "completed":
            far = rng.random() < 0.08
            offset = rng.uniform(0.002, 0.006) if far else rng.uniform(0.00005, 0.0009)
            lat, lng = cust.lat + offset, cust.lng - offset / 2
            dist = _haversine(cust.lat, cust.lng, lat, lng)
            accuracy = round(rng.uniform(4, 25), 1)
            row.update(
                check_in_at=v["check_in_at"],
                check_in_lat=round(lat, 6),
                check_in_lng=round(lng, 6),
                check_in_accuracy_m=accuracy,
                device_time=v["check_in_at"] + dt.timedelta(seconds=rng.randint(-20, 20)),
                distance_m=round(dist, 1),
                verified=dist <= 150,
                check_out_at=v["check_out_at"],
                check_out_lat=round(lat, 6),
                check_out_lng=round(lng, 6),
                check_out_accuracy_m=accuracy,
                check_out_device_time=v["check_out_at"],
                notes=rng.choice(NOTES),
            )
        return row

    def _tomorrow(self) -> None:
        """Tomorrow's planned route of every salesperson (SAL-05/06 show and replan it)."""
        ctx = self.ctx
        day = ctx.today + dt.timedelta(days=1)
        if day.isoweekday() == 5:
            day += dt.timedelta(days=1)
        for s in self.salespeople:
            uid = s.user_id
            assert uid is not None
            own = self.retail[uid]
            for seq in range(1, min(len(own), 4) + 1):
                cust = own[self.cursor[uid] % len(own)]
                self.cursor[uid] += 1
                planned = ctx.at(day, 9, 30) + dt.timedelta(minutes=55 * (seq - 1))
                self.ctx.writer.add(
                    "visits",
                    {
                        "id": ctx.ids.next("visits"),
                        "salesperson_id": uid,
                        "customer_id": cust.id,
                        "date": day,
                        "sequence": seq,
                        "planned_time": planned,
                        "status": "planned",
                        "outcome": None,
                        "media_ids": [],
                        "verified": False,
                        "created_at": ctx.now,
                        "updated_at": ctx.now,
                    },
                )


def _pick(rng: Any, options: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in options)
    x = rng.random() * total
    for value, w in options:
        x -= w
        if x <= 0:
            return value
    return options[-1][0]


def _haversine(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a)))
