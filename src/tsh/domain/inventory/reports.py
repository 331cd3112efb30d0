"""Inventory reports: reorder suggestions (INV-05), valuation as of a date (INV-19), stock aging (INV-20).

Reorder (clarifications.md): with d = units sold over 90 days / 90 and L = the product's lead time,
a row is suggested when on hand < d × (L + 7) (safety) or available ≤ its reorder point; the
suggested quantity is d × (L + 14) − (on hand + in transit − reserved), at least the row's reorder
quantity when it is at or below its reorder point, rounded up to whole cartons (pack size).
Surplus elsewhere: what another warehouse (any branch: quantity only) holds above both its own
reorder point and its own safety stock.

Valuation: today's figures are the stock rows (on hand × average cost); a past date reads, per
product and warehouse, the last movement up to the end of that day (on_hand_after ×
avg_cost_after, kept on every movement), so no replay of the ledger is needed.

Aging (clarifications.md): buckets by days since the last receipt (receipt or transfer in) 0–30,
31–90, 91–180, over 180; slow-moving = no sale in 90 days, dead = none in 180. The inbound and
outbound dates are the last receipt and the last sale kept on each stock row (a transfer out is
not demand, so it does not make stock "moving"); stock never received sits in the oldest bucket.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.posting import rate_in_force
from tsh.domain.actor import Actor
from tsh.domain.catalog.models import Category, Product
from tsh.domain.inventory.access import scoped_warehouse_ids
from tsh.domain.inventory.models import StockLevel, StockMovement
from tsh.domain.inventory.queries import (
    SALE_MOVEMENTS,
    VELOCITY_DAYS,
    cost,
    iqd,
    product_refs,
    warehouse_refs,
)
from tsh.domain.money import round_money, wire
from tsh.domain.shared import business_today, day_start_utc
from tsh.platform.errors import Invalid, field_error

SAFETY_DAYS = 7
COVER_DAYS = 14
SURPLUS_SHOWN = 3
TOP_PRODUCTS = 20
# (quantity, IQD value) of a valuation line.
Figures = tuple[int, Decimal]
AGING_BUCKETS = (("0-30", 30), ("31-90", 90), ("91-180", 180), ("over_180", None))
SLOW_DAYS, DEAD_DAYS = 90, 180


def _category_filter(category_id: int | None) -> Any:
    if category_id is None:
        return None
    children = select(Category.id).where(Category.parent_id == category_id)
    return or_(Product.category_id == category_id, Product.category_id.in_(children))


def _wh(refs: dict[int, dict[str, Any]], wid: int) -> dict[str, Any]:
    return {k: refs[wid][k] for k in ("id", "code", "name")}


# --- INV-05 ---------------------------------------------------------------------------------------
def _sold_90d(warehouse_ids: Any, product_ids: Any = None) -> Any:
    """Units sold per (product, warehouse) over the last 90 days, as a subquery."""
    since = day_start_utc(business_today() - dt.timedelta(days=VELOCITY_DAYS))
    stmt = (
        select(
            StockMovement.product_id.label("product_id"),
            StockMovement.warehouse_id.label("warehouse_id"),
            func.sum(-StockMovement.qty).label("sold"),
        )
        .where(
            StockMovement.type.in_(SALE_MOVEMENTS),
            StockMovement.at >= since,
            StockMovement.warehouse_id.in_(warehouse_ids),
        )
        .group_by(StockMovement.product_id, StockMovement.warehouse_id)
    )
    if product_ids is not None:
        stmt = stmt.where(StockMovement.product_id.in_(product_ids))
    return stmt.subquery()


async def reorder_suggestions(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    warehouse_id: int | None = None,
    category_id: int | None = None,
) -> list[dict[str, Any]]:
    """Rows to reorder in the caller's warehouses by (warehouse, product); up to limit+1 rows.

    The rule runs in SQL (velocity joined as a subquery, compared without division: 90 x on hand
    < sold x (L + 7)), so only the page's rows come back."""
    wids = await scoped_warehouse_ids(session, actor, warehouse_id)
    sold = _sold_90d(wids)
    units = func.coalesce(sold.c.sold, 0)
    free = StockLevel.on_hand - StockLevel.reserved
    at_point = free <= StockLevel.reorder_point
    position = StockLevel.on_hand + StockLevel.in_transit_in - StockLevel.reserved
    needs = units * (Product.lead_time_days + COVER_DAYS) > VELOCITY_DAYS * position
    below_safety = VELOCITY_DAYS * StockLevel.on_hand < units * (Product.lead_time_days + SAFETY_DAYS)
    stmt = (
        select(
            StockLevel.warehouse_id,
            StockLevel.product_id,
            StockLevel.on_hand,
            StockLevel.reserved,
            StockLevel.in_transit_in,
            StockLevel.reorder_point,
            StockLevel.reorder_qty,
            Product.lead_time_days,
            Product.pack_size,
            units,
        )
        .join(Product, Product.id == StockLevel.product_id)
        .outerjoin(
            sold,
            and_(sold.c.product_id == StockLevel.product_id, sold.c.warehouse_id == StockLevel.warehouse_id),
        )
        .where(
            StockLevel.warehouse_id.in_(wids),
            Product.is_active.is_(True),
            or_(and_(at_point, or_(StockLevel.reorder_qty > 0, needs)), and_(below_safety, needs)),
        )
        .order_by(StockLevel.warehouse_id, StockLevel.product_id)
        .limit(limit + 1)
    )
    cat = _category_filter(category_id)
    if cat is not None:
        stmt = stmt.where(cat)
    if after is not None:
        try:
            w, p = int(after["w"]), int(after["p"])
        except (KeyError, TypeError, ValueError):
            raise Invalid(details=[field_error("cursor", "does not match this list")]) from None
        stmt = stmt.where(
            or_(StockLevel.warehouse_id > w, and_(StockLevel.warehouse_id == w, StockLevel.product_id > p))
        )
    picked: list[_Pick] = []
    for wid, pid, on_hand, reserved, transit, point, reorder_qty, lead, pack, n in (
        await session.execute(stmt)
    ).tuples():
        daily = Decimal(int(n)) / VELOCITY_DAYS
        need = daily * (lead + COVER_DAYS) - (on_hand + transit - reserved)
        if on_hand - reserved <= point:
            need = max(need, Decimal(reorder_qty))
        packs = max(pack, 1)
        qty = math.ceil(need / packs) * packs
        picked.append(_Pick(wid, pid, on_hand, reserved, transit, point, reorder_qty, lead, daily, qty))
    return await _suggestion_rows(session, actor, picked)


@dataclass(frozen=True, slots=True)
class _Pick:
    warehouse_id: int
    product_id: int
    on_hand: int
    reserved: int
    in_transit_in: int
    reorder_point: int
    reorder_qty: int
    lead: int
    daily: Decimal
    qty: int


async def _suggestion_rows(session: AsyncSession, actor: Actor, picked: list[_Pick]) -> list[dict[str, Any]]:
    pids = sorted({p.product_id for p in picked})
    if not pids:
        return []
    products = await product_refs(session, pids, actor.language)
    # Surplus is looked for in every warehouse, whatever the caller's scope (quantities only).
    all_wids = select(StockLevel.warehouse_id).where(StockLevel.product_id.in_(pids)).distinct()
    sold = _sold_90d(all_wids, pids)
    surplus: dict[int, list[tuple[int, int]]] = {}
    for pid, wid, free, point, lead, n in (
        await session.execute(
            select(
                StockLevel.product_id,
                StockLevel.warehouse_id,
                StockLevel.on_hand - StockLevel.reserved,
                StockLevel.reorder_point,
                Product.lead_time_days,
                func.coalesce(sold.c.sold, 0),
            )
            .join(Product, Product.id == StockLevel.product_id)
            .outerjoin(
                sold,
                and_(
                    sold.c.product_id == StockLevel.product_id, sold.c.warehouse_id == StockLevel.warehouse_id
                ),
            )
            .where(StockLevel.product_id.in_(pids), StockLevel.on_hand - StockLevel.reserved > 0)
        )
    ).tuples():
        keep = max(point, math.ceil(Decimal(int(n)) / VELOCITY_DAYS * (lead + SAFETY_DAYS)))
        if free - keep > 0:
            surplus.setdefault(pid, []).append((wid, free - keep))
    refs = await warehouse_refs(
        session,
        {p.warehouse_id for p in picked} | {w for rows in surplus.values() for w, _ in rows},
        actor.language,
    )
    out = []
    for p in picked:
        spares = sorted(
            (s for s in surplus.get(p.product_id, []) if s[0] != p.warehouse_id), key=lambda s: (-s[1], s[0])
        )[:SURPLUS_SHOWN]
        out.append(
            {
                "product": products[p.product_id],
                "warehouse": _wh(refs, p.warehouse_id),
                "on_hand": p.on_hand,
                "reserved": p.reserved,
                "available": p.on_hand - p.reserved,
                "in_transit_in": p.in_transit_in,
                "reorder_point": p.reorder_point,
                "reorder_qty": p.reorder_qty,
                "avg_daily_sales": f"{p.daily:.2f}",
                "lead_time_days": p.lead,
                "suggested_qty": p.qty,
                "surplus": [{"warehouse": _wh(refs, w), "qty": q} for w, q in spares],
            }
        )
    return out


def suggestion_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"w": row["warehouse"]["id"], "p": row["product"]["id"]}


# --- INV-19 ---------------------------------------------------------------------------------------
async def valuation(
    session: AsyncSession,
    actor: Actor,
    *,
    as_of: dt.date | None = None,
    warehouse_id: int | None = None,
    category_id: int | None = None,
    group_by: str = "warehouse",
) -> dict[str, Any]:
    """Quantity and IQD value (with the USD equivalent at that date's rate) by warehouse, category
    or product, and the top 20 products; 422 for a future date, 409 NO_EXCHANGE_RATE."""
    today = business_today()
    day = as_of or today
    if day > today:
        raise Invalid("The date is in the future", details=[field_error("as_of", "must not be after today")])
    wids = await scoped_warehouse_ids(session, actor, warehouse_id)
    cat = _category_filter(category_id)
    if day == today:
        total, groups, top = await _value_today(session, wids, cat, group_by)
    else:
        total, groups, top = await _value_as_of(session, wids, cat, group_by, day)
    rate = await rate_in_force(session, day)
    names = await _group_names(session, actor, group_by, list(groups))
    prefs = await product_refs(session, [p for p, _ in top], actor.language)

    def figures(qty: int, value: Decimal) -> dict[str, Any]:
        return {"qty": qty, "value": iqd(value), "value_usd": wire(round_money(value / rate, "USD"), "USD")}

    return {
        "as_of": day,
        "group_by": group_by,
        "rate": {"iqd_per_usd": f"{rate:.2f}"},
        "total": figures(*total),
        "groups": [
            {"key": names[k], **figures(q, v)}
            for k, (q, v) in sorted(groups.items(), key=lambda kv: (-kv[1][1], kv[0]))
        ],
        "top_products": [
            {
                "product": prefs[p],
                **figures(q, v),
                "avg_cost": cost(v / q if q else Decimal(0)),
            }
            for p, (q, v) in top
        ],
    }


async def _value_today(
    session: AsyncSession, wids: list[int], cat: Any, group_by: str
) -> tuple[Figures, dict[int, Figures], list[tuple[int, Figures]]]:
    """Today's figures straight from the stock rows, grouped in SQL."""
    key = {"warehouse": StockLevel.warehouse_id, "category": Product.category_id, "product": Product.id}[
        group_by
    ]
    value = func.sum(StockLevel.on_hand * StockLevel.avg_cost)

    def grouped(*cols: Any) -> Any:
        stmt = (
            select(*cols, func.sum(StockLevel.on_hand), value)
            .join(Product, Product.id == StockLevel.product_id)
            .where(StockLevel.warehouse_id.in_(wids), StockLevel.on_hand > 0)
        )
        if cat is not None:
            stmt = stmt.where(cat)
        return stmt.group_by(*cols) if cols else stmt

    q, v = (await session.execute(grouped())).one()
    groups = {int(k): (int(n), Decimal(t)) for k, n, t in (await session.execute(grouped(key))).tuples()}
    top_rows = await session.execute(
        grouped(StockLevel.product_id).order_by(value.desc(), StockLevel.product_id).limit(TOP_PRODUCTS)
    )
    top = [(int(p), (int(n), Decimal(t))) for p, n, t in top_rows.tuples()]
    return (int(q or 0), Decimal(v or 0)), groups, top


async def _value_as_of(
    session: AsyncSession, wids: list[int], cat: Any, group_by: str, day: dt.date
) -> tuple[Figures, dict[int, Figures], list[tuple[int, Figures]]]:
    """A past day's figures: per stock row its last movement up to the end of that day (one
    index seek per row on (product_id, warehouse_id, at)), on_hand_after x avg_cost_after."""
    cutoff = day_start_utc(day + dt.timedelta(days=1))

    def last(column: Any) -> Any:
        # Scalar subqueries, not a join to the movements: a join makes the planner hash the ledger.
        return (
            select(column)
            .where(
                StockMovement.product_id == StockLevel.product_id,
                StockMovement.warehouse_id == StockLevel.warehouse_id,
                StockMovement.at < cutoff,
            )
            .order_by(StockMovement.at.desc(), StockMovement.id.desc())
            .limit(1)
            .correlate(StockLevel)
            .scalar_subquery()
        )

    stmt = (
        select(
            StockLevel.product_id,
            StockLevel.warehouse_id,
            Product.category_id,
            last(StockMovement.on_hand_after),
            last(StockMovement.avg_cost_after),
        )
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.warehouse_id.in_(wids))
    )
    if cat is not None:
        stmt = stmt.where(cat)
    groups: dict[int, Figures] = {}
    products: dict[int, Figures] = {}
    total: Figures = (0, Decimal(0))
    for pid, wid, cat_id, qty, unit in (await session.execute(stmt)).tuples():
        if not qty or qty <= 0:
            continue
        worth = qty * Decimal(unit)
        key = {"warehouse": wid, "category": cat_id, "product": pid}[group_by]
        for bucket, k in ((groups, key), (products, pid)):
            n, t = bucket.get(k, (0, Decimal(0)))
            bucket[k] = (n + qty, t + worth)
        total = (total[0] + qty, total[1] + worth)
    top = sorted(products.items(), key=lambda kv: (-kv[1][1], kv[0]))[:TOP_PRODUCTS]
    return total, groups, top


async def _group_names(
    session: AsyncSession, actor: Actor, group_by: str, ids: list[int]
) -> dict[int, dict[str, Any]]:
    if group_by == "warehouse":
        refs = await warehouse_refs(session, ids, actor.language)
        return {i: {"id": i, "code": r["code"], "name": r["name"]} for i, r in refs.items()}
    if group_by == "product":
        prefs = await product_refs(session, ids, actor.language)
        return {i: {"id": i, "code": r["sku"], "name": r["name"]} for i, r in prefs.items()}
    name = Category.name_ar if actor.language == "ar" else Category.name_en
    rows: Any = await session.execute(select(Category.id, name).where(Category.id.in_(ids))) if ids else []
    return {int(i): {"id": int(i), "code": None, "name": n} for i, n in rows}


# --- INV-20 ---------------------------------------------------------------------------------------
def _ago(now: dt.datetime, days: int) -> dt.datetime:
    """The moment from which (now − at).days ≥ days."""
    return now - dt.timedelta(days=days)


async def aging(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    warehouse_id: int | None = None,
    category_id: int | None = None,
) -> dict[str, Any]:
    """Aging buckets of the stock on hand, slow/dead summaries and a page of slow and dead rows
    (never sold first, then the longest without a sale); items hold up to limit+1 rows.

    Grouped in SQL over the stock rows' own dates: only the summaries and the page come back."""
    wids = await scoped_warehouse_ids(session, actor, warehouse_id)
    now = dt.datetime.now(dt.UTC)
    where = [StockLevel.warehouse_id.in_(wids), StockLevel.on_hand > 0]
    cat = _category_filter(category_id)
    if cat is not None:
        where.append(cat)
    received = StockLevel.last_receipt_at
    # (now − at).days ≤ 30 ⇔ at > now − 31 days, and so on.
    bucket = case(
        (received > _ago(now, 31), "0-30"),
        (received > _ago(now, 91), "31-90"),
        (received > _ago(now, DEAD_DAYS + 1), "91-180"),
        else_="over_180",
    )
    sale = StockLevel.last_sale_at
    dead = or_(sale.is_(None), sale <= _ago(now, DEAD_DAYS + 1))
    movement_class = case((dead, "dead"), else_="slow")
    idle = or_(dead, sale <= _ago(now, SLOW_DAYS + 1))
    value = StockLevel.on_hand * StockLevel.avg_cost

    def grouped(key: Any, *extra: Any) -> Any:
        return (
            select(key, func.count(), func.sum(StockLevel.on_hand), func.sum(value))
            .join(Product, Product.id == StockLevel.product_id)
            .where(*where, *extra)
            .group_by(key)
        )

    buckets = {name: (0, Decimal(0)) for name, _ in AGING_BUCKETS}
    for name, _, qty, total in (await session.execute(grouped(bucket))).tuples():
        buckets[name] = (int(qty or 0), Decimal(total or 0))
    classes = {"slow": (0, 0, Decimal(0)), "dead": (0, 0, Decimal(0))}
    for name, n, qty, total in (await session.execute(grouped(movement_class, idle))).tuples():
        classes[name] = (int(n), int(qty or 0), Decimal(total or 0))

    never = sale.is_(None)
    stmt = (
        select(StockLevel)
        .join(Product, Product.id == StockLevel.product_id)
        .where(*where, idle)
        .order_by(sale.is_not(None), sale, StockLevel.id)
        .limit(limit + 1)
    )
    if after is not None:
        try:
            sold_once, row_id = bool(after["n"]), int(after["i"])
            at = dt.datetime.fromisoformat(after["t"]) if sold_once else None
        except (KeyError, TypeError, ValueError):
            raise Invalid(details=[field_error("cursor", "does not match this list")]) from None
        if at is None:
            stmt = stmt.where(or_(and_(never, StockLevel.id > row_id), sale.is_not(None)))
        else:
            stmt = stmt.where(sale.is_not(None), or_(sale > at, and_(sale == at, StockLevel.id > row_id)))
    rows = list(await session.scalars(stmt))
    prefs = await product_refs(session, (r.product_id for r in rows), actor.language)
    refs = await warehouse_refs(session, (r.warehouse_id for r in rows), actor.language)

    def days(at: dt.datetime | None) -> int | None:
        return None if at is None else max((now - at).days, 0)

    items = []
    for r in rows:
        idle_days = days(r.last_sale_at)
        items.append(
            {
                "id": r.id,
                "product": prefs[r.product_id],
                "warehouse": _wh(refs, r.warehouse_id),
                "on_hand": r.on_hand,
                "value": iqd(r.on_hand * r.avg_cost),
                "last_receipt_at": r.last_receipt_at,
                "last_sale_at": r.last_sale_at,
                "days_since_receipt": days(r.last_receipt_at),
                "days_since_sale": idle_days,
                "movement_class": "dead" if idle_days is None or idle_days > DEAD_DAYS else "slow",
            }
        )
    return {
        "buckets": [{"bucket": name, "qty": q, "value": iqd(v)} for name, (q, v) in buckets.items()],
        "slow_moving": {
            "rows": classes["slow"][0],
            "qty": classes["slow"][1],
            "value": iqd(classes["slow"][2]),
        },
        "dead": {"rows": classes["dead"][0], "qty": classes["dead"][1], "value": iqd(classes["dead"][2])},
        "items": items,
    }


def aging_position(row: dict[str, Any]) -> dict[str, Any]:
    sold = row["last_sale_at"]
    return {"n": int(sold is not None), "t": sold.isoformat() if sold else None, "i": row["id"]}
