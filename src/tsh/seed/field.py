"""After the history: monthly targets of salespeople and partners (set against what they sold),
partner commission payouts (paid ones, and one open request), and reviews of delivered purchases.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tsh.seed.context import ZERO, SeedContext, month_starts
from tsh.seed.customers import PartnerRec
from tsh.seed.ledger import Ledger
from tsh.seed.sales import Registry

REVIEWS = (
    (5, "Excellent", "ممتاز", "Original product, delivered quickly and well packed."),
    (5, "Very happy", "سعيد جداً", "Works perfectly, the price was better than the market."),
    (4, "Good value", "قيمة جيدة", "Good quality for the price. Delivery took two days."),
    (4, "Recommended", "أنصح به", "Does the job, battery lasts all day."),
    (3, "Average", "متوسط", "It is fine but the box was slightly damaged."),
    (2, "Not as expected", "ليس كما توقعت", "Smaller than it looked in the pictures."),
    (5, "Genuine with warranty", "أصلي مع ضمان", "Checked the serial number, genuine with TSH warranty."),
)


def targets(ctx: SeedContext, reg: Registry) -> None:
    rng, w = ctx.rng, ctx.writer
    months = month_starts(ctx.history_start, ctx.today)
    managers: dict[int, int] = ctx.refs["branch_managers"]
    for s in ctx.refs["salespeople"]:
        history: list[Decimal] = []
        for m in months:
            actual = reg.revenue.get(("sp", s.user_id, m.year, m.month, 0), ZERO)
            orders = reg.orders_count.get(("sp", s.user_id, m.year, m.month, 0), 0)
            if m == months[-1]:
                base = sum(history[-3:], ZERO) / max(1, len(history[-3:])) * Decimal("1.05")
                orders = max(orders * 2, 10)
            else:
                base = actual * Decimal(str(round(rng.uniform(0.9, 1.2), 2)))
                history.append(actual)
            target = (base / 100_000).quantize(Decimal("1")) * 100_000
            usd = Decimal(rng.choice([0, 0, 2000, 5000])) if m == months[-1] else ZERO
            w.add(
                "targets",
                {
                    "id": ctx.ids.next("targets"),
                    "salesperson_id": s.user_id,
                    "partner_id": None,
                    "year": m.year,
                    "month": m.month,
                    "revenue_target_iqd": max(target, Decimal(5_000_000)),
                    "revenue_target_usd": usd,
                    "orders_target": max(5, round(orders * 1.1)),
                    "new_customers_target": rng.randint(2, 5),
                    "set_by_id": managers[s.branch_id],
                    "created_at": ctx.at(m, 9),
                    "updated_at": ctx.at(m, 9),
                },
            )
    for p in ctx.refs["partners"]:
        if p.status == "invited":
            continue
        for m in months[-6:]:
            actual = reg.revenue.get(("par", p.id, m.year, m.month, 0), ZERO)
            target = max(
                Decimal(3_000_000), (actual * Decimal("1.15") / 100_000).quantize(Decimal("1")) * 100_000
            )
            w.add(
                "targets",
                {
                    "id": ctx.ids.next("targets"),
                    "salesperson_id": None,
                    "partner_id": p.id,
                    "year": m.year,
                    "month": m.month,
                    "revenue_target_iqd": target,
                    "revenue_target_usd": ZERO,
                    "orders_target": 8 + rng.randint(0, 10),
                    "new_customers_target": rng.randint(1, 3),
                    "set_by_id": managers[p.branch_id],
                    "created_at": ctx.at(m, 9),
                    "updated_at": ctx.at(m, 9),
                },
            )


def payouts(ctx: SeedContext, reg: Registry, ledger: Ledger) -> list[dict[str, Any]]:
    """Completes the paid payouts written during the history (returns their updates)."""
    w = ctx.writer
    updates: list[dict[str, Any]] = []
    accountant = ctx.refs["users"]["accountant1"]
    partners: dict[int, PartnerRec] = {p.id: p for p in ctx.refs["partners"]}
    for (pid, month), (payout_id, paid_at, total) in sorted(reg.payouts.items(), key=lambda kv: kv[1][0]):
        amount = total[0]
        p = partners[pid]
        account = "cash_iqd" if p.payout_method == "cash_at_branch" else "bank_iqd"
        entry = ledger.post(
            journal="BNK",
            at=paid_at,
            currency="IQD",
            source_type="commission_payout",
            source_id=payout_id,
            memo=f"Partner commission payout {month:%B %Y}",
            branch_id=p.branch_id,
            posted_by_id=accountant,
            lines=[
                ("commission_expense", amount, ZERO, p.branch_id, None, None),
                (account, ZERO, amount, p.branch_id, None, None),
            ],
        )
        row = _payout_row(payout_id, p, amount, "paid", paid_at, accountant, entry)
        updates.append({k: v for k, v in row.items() if k not in ("salesperson_id", "partner_id")})
    # Partner 2 has a request waiting for the back office; partner 1 may request one in the tests.
    p2 = ctx.refs["partners"][1]
    payable = reg.partner_payable.get(p2.id, ZERO)
    if payable >= 25_000:
        amount = (payable * Decimal("0.8")).quantize(Decimal("1"))
        row = _payout_row(
            ctx.ids.next("commission_payouts"),
            p2,
            Decimal(amount),
            "requested",
            ctx.now - dt.timedelta(days=1),
            None,
            None,
        )
        w.add("commission_payouts", row)
    return updates


def _payout_row(
    pid: int,
    p: PartnerRec,
    amount: Decimal,
    status: str,
    when: dt.datetime,
    by: int | None,
    entry: int | None,
) -> dict[str, Any]:
    paid = status == "paid"
    requested = when - dt.timedelta(days=6) if paid else when
    return {
        "id": pid,
        "salesperson_id": None,
        "partner_id": p.id,
        "amount": amount,
        "currency": "IQD",
        "method": p.payout_method,
        "payout_account": None,
        "status": status,
        "requested_at": requested,
        "decided_by_id": by,
        "decided_at": when - dt.timedelta(days=3) if paid else None,
        "decision_note": "Approved" if paid else None,
        "paid_at": when if paid else None,
        "journal_entry_id": entry,
        "created_at": requested,
        "updated_at": when,
    }


def reviews(ctx: SeedContext, reg: Registry) -> None:
    """Reviews of delivered consumer purchases (verified), a few helpful votes. Each demo consumer
    keeps at least one delivered product unreviewed, so writing a review can be tried."""
    rng, w = ctx.rng, ctx.writer
    demo: set[int] = ctx.refs["demo_customer_ids"]
    seen: set[tuple[int, int]] = set()
    kept_back: set[int] = set()
    written: list[tuple[int, int]] = []
    rows: dict[int, dict[str, Any]] = {}
    for rec in reg.delivered_consumer:
        cust = rec["customer_id"]
        for line in rec["lines"]:
            key = (cust, line["product_id"])
            if key in seen:
                continue
            if cust in demo and cust not in kept_back:
                kept_back.add(cust)
                seen.add(key)
                continue
            if rng.random() > (0.35 if cust in demo else 0.25):
                continue
            seen.add(key)
            rating, title_en, title_ar, body = rng.choice(REVIEWS)
            at = rec["delivered"] + dt.timedelta(days=rng.randint(1, 10))
            if at > ctx.now:
                at = ctx.now - dt.timedelta(hours=1)
            rid = ctx.ids.next("reviews")
            rows[rid] = {
                "id": rid,
                "product_id": line["product_id"],
                "customer_id": cust,
                "order_line_id": line["line_id"],
                "rating": rating,
                "title": title_ar if cust % 2 else title_en,
                "body": body,
                "status": "hidden" if rng.random() < 0.03 else "published",
                "helpful_count": 0,
                "edited_at": None,
                "created_at": at,
                "updated_at": at,
            }
            written.append((rid, cust))
    votes: dict[int, int] = {}
    voters = [c.id for c in ctx.refs["consumers"]]
    for rid, author in written:
        if rng.random() < 0.3:
            for voter in rng.sample(voters, min(len(voters), rng.randint(1, 3))):
                if voter == author:
                    continue
                w.add(
                    "review_votes",
                    {"id": ctx.ids.next("review_votes"), "review_id": rid, "customer_id": voter},
                )
                votes[rid] = votes.get(rid, 0) + 1
    for rid, row in rows.items():
        row["helpful_count"] = votes.get(rid, 0)
    w.add_many("reviews", rows.values())
