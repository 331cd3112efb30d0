"""Selling prices: price list choice, volume breaks, line discounts, promotions and sales tax.

Line arithmetic (half-up per line, whole dinars for IQD, cents for USD), matching the Order and
PosTransaction columns (`total = subtotal − discount + tax`):
- unit_price: the price-list item with the highest min_qty ≤ qty valid at `at` (tax-exclusive);
- line_total = round(qty × unit_price × (1 − discount_pct/100)): net of the client's line discount;
- promo_discount: the best promotion for the line, on line_total (percent) or value × qty (amount,
  per piece, capped at line_total); it is the order-level `discount`, never folded into line_total;
- tax = round((line_total − promo_discount) × rate/100), rate of the product's tax code in force on
  the business date of `at` (tax is charged on what the customer pays);
- subtotal = Σ line_total, discount = Σ promo_discount, tax = Σ tax, total = subtotal − discount + tax.

Promotions: automatic ones (no code) and the promo code's one compete per line and the larger
discount wins; they never stack. A promotion covers its products and every product of its
categories and of their sub-categories, for its channels and branches (none listed = every branch).
Amount promotions in another currency than the price list's do not apply (no conversion at a rate
the customer cannot see). The per-customer limit of a code needs the customer's order history and is
checked by the order service, not here.

Every function costs a fixed number of statements whatever the number of lines or products.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tsh.domain.accounting.models import TaxRate
from tsh.domain.catalog.models import (
    Category,
    PriceList,
    PriceListItem,
    Product,
    Promotion,
    promotion_categories,
    promotion_products,
)
from tsh.domain.money import round_money
from tsh.platform.errors import Conflict, Invalid, field_error

ZERO = Decimal("0")
HUNDRED = Decimal("100")
BUSINESS_TZ = ZoneInfo("Asia/Baghdad")


@dataclass(frozen=True)
class PricedLine:
    product_id: int
    qty: int
    # Tax-exclusive list price after the volume break, in `currency`.
    unit_price: Decimal
    # The client's line discount, percent.
    discount_pct: Decimal
    # Percent of the product's tax code in force.
    tax_rate: Decimal
    # qty × unit_price × (1 − discount_pct/100), rounded: before promotion and tax.
    line_total: Decimal
    # Promotion amount taken off this line (0 without one).
    promo_discount: Decimal
    tax: Decimal
    currency: str
    promotion_id: int | None

    @property
    def net(self) -> Decimal:
        """What the line earns before tax: line_total − promo_discount (revenue, commission base)."""
        return self.line_total - self.promo_discount


@dataclass(frozen=True)
class PricedOrder:
    lines: list[PricedLine]
    # Σ line_total.
    subtotal: Decimal
    # Σ promo_discount (line discounts are already inside subtotal).
    discount: Decimal
    tax: Decimal
    # subtotal − discount + tax.
    total: Decimal
    currency: str


@dataclass(frozen=True)
class CardPrice:
    """Per-piece catalogue price (min_qty 1), tax included; promo price when a promotion runs."""

    price_incl_tax: Decimal
    promo_price_incl_tax: Decimal | None
    currency: str
    promotion_id: int | None


async def price_list_for(
    session: AsyncSession,
    *,
    channel: str,
    branch_id: int | None,
    customer_price_list_id: int | None = None,
    partner_tier_id: int | None = None,
) -> PriceList:
    """The customer's list if given, else the channel's list for the partner tier and branch, else the
    company-wide one of the channel (defaults first). 409 NO_PRICE_LIST when none exists."""
    if customer_price_list_id is not None:
        own = await session.get(PriceList, customer_price_list_id)
        if own is not None:
            return own
    # One statement ranks the candidates: tier match, then branch match, then the default flag.
    tier_rank = case((PriceList.partner_tier_id.is_(None), 1), else_=0)
    branch_rank = case((PriceList.branch_id.is_(None), 1), else_=0)
    default_rank = case((PriceList.is_default.is_(True), 0), else_=1)
    stmt = (
        select(PriceList)
        .where(
            PriceList.channel == channel,
            or_(PriceList.branch_id.is_(None), PriceList.branch_id == branch_id)
            if branch_id is not None
            else PriceList.branch_id.is_(None),
            or_(PriceList.partner_tier_id.is_(None), PriceList.partner_tier_id == partner_tier_id)
            if partner_tier_id is not None
            else PriceList.partner_tier_id.is_(None),
        )
        .order_by(tier_rank, branch_rank, default_rank, PriceList.id)
        .limit(1)
    )
    found = await session.scalar(stmt)
    if found is None:
        raise Conflict(f"No price list for the {channel} channel", code="NO_PRICE_LIST")
    return found


def _business_date(at: datetime) -> date:
    return at.astimezone(BUSINESS_TZ).date()


async def _products(
    session: AsyncSession, product_ids: Sequence[int], at: datetime
) -> dict[int, tuple[bool, int, int | None, Decimal]]:
    """product id -> (is_active, category_id, parent category id, tax rate % in force)."""
    version = aliased(TaxRate)
    current = aliased(TaxRate)
    day = _business_date(at)
    rows = await session.execute(
        select(
            Product.id,
            Product.is_active,
            Product.category_id,
            Category.parent_id,
            version.rate,
            current.rate,
            current.effective_from,
        )
        .join(Category, Category.id == Product.category_id)
        .outerjoin(version, version.id == Product.tax_rate_id)
        .outerjoin(
            current,
            and_(
                current.code == version.code,
                current.kind == version.kind,
                current.effective_from <= day,
                or_(current.effective_to.is_(None), current.effective_to >= day),
            ),
        )
        .where(Product.id.in_(set(product_ids)))
        .order_by(Product.id, current.effective_from)
    )
    out: dict[int, tuple[bool, int, int | None, Decimal]] = {}
    for pid, active, cat, parent, linked, in_force, _ in rows.tuples():
        # Later versions overwrite earlier ones; the linked version covers a date before any version.
        rate = Decimal(in_force if in_force is not None else linked if linked is not None else 0)
        out[pid] = (bool(active), cat, parent, rate)
    return out


async def _prices(
    session: AsyncSession, price_list_id: int, product_ids: Sequence[int], at: datetime, *, base_only: bool
) -> dict[int, list[tuple[int, Decimal]]]:
    """product id -> [(min_qty, unit_price)] valid at `at`, best candidate last per min_qty."""
    stmt = (
        select(PriceListItem.product_id, PriceListItem.min_qty, PriceListItem.unit_price)
        .where(
            PriceListItem.price_list_id == price_list_id,
            PriceListItem.product_id.in_(set(product_ids)),
            or_(PriceListItem.valid_from.is_(None), PriceListItem.valid_from <= at),
            or_(PriceListItem.valid_to.is_(None), PriceListItem.valid_to > at),
        )
        # A dated price overrides an open-ended one of the same break: it sorts after it.
        .order_by(
            PriceListItem.product_id,
            PriceListItem.min_qty,
            PriceListItem.valid_from.is_not(None),
            PriceListItem.valid_from,
            PriceListItem.id,
        )
    )
    if base_only:
        stmt = stmt.where(PriceListItem.min_qty == 1)
    out: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for pid, min_qty, price in (await session.execute(stmt)).tuples():
        out[pid].append((int(min_qty), Decimal(price)))
    return out


def _unit_price(candidates: list[tuple[int, Decimal]], qty: int) -> Decimal | None:
    best: Decimal | None = None
    for min_qty, price in candidates:  # ascending min_qty, preferred row last
        if min_qty <= qty:
            best = price
    return best


async def _promotions(
    session: AsyncSession, product_ids: Iterable[int], *, at: datetime, code: str | None = None
) -> dict[int, list[Promotion]]:
    """product id -> running promotions covering it (automatic ones, or the one with `code`)."""
    ids = set(product_ids)
    direct = select(promotion_products.c.promotion_id, promotion_products.c.product_id).where(
        promotion_products.c.product_id.in_(ids)
    )
    by_category = (
        select(promotion_categories.c.promotion_id, Product.id)
        .join(Category, Category.id == Product.category_id)
        .join(
            promotion_categories,
            or_(
                promotion_categories.c.category_id == Category.id,
                promotion_categories.c.category_id == Category.parent_id,
            ),
        )
        .where(Product.id.in_(ids))
    )
    pairs = union(direct, by_category).subquery("covered")
    stmt = (
        select(Promotion, pairs.c.product_id)
        .join(pairs, pairs.c.promotion_id == Promotion.id)
        .where(Promotion.starts_at <= at, Promotion.ends_at > at)
        .order_by(Promotion.id)
    )
    stmt = stmt.where(Promotion.code.is_(None)) if code is None else stmt.where(Promotion.code == code)
    out: dict[int, list[Promotion]] = defaultdict(list)
    for promo, pid in (await session.execute(stmt)).tuples():
        out[int(pid)].append(promo)
    return out


def _runs_for(promo: Promotion, channel: str, branch_id: int | None, currency: str) -> bool:
    if channel not in (promo.channels or []):
        return False
    if promo.branch_ids and branch_id not in promo.branch_ids:
        return False
    return promo.type == "percent" or promo.currency == currency


def _promo_amount(promo: Promotion, base: Decimal, qty: int, currency: str) -> Decimal:
    if promo.type == "percent":
        return round_money(base * promo.value / HUNDRED, currency)
    return min(round_money(promo.value * qty, currency), base)


def _best(promos: Iterable[Promotion], base: Decimal, qty: int, currency: str) -> tuple[Decimal, int | None]:
    best, best_id = ZERO, None
    for p in promos:  # ascending id: the oldest promotion wins a tie
        amount = _promo_amount(p, base, qty, currency)
        if amount > best:
            best, best_id = amount, p.id
    return round_money(best, currency), best_id


async def _coded_promotion(
    session: AsyncSession, code: str, *, channel: str, branch_id: int | None, at: datetime, currency: str
) -> Promotion:
    promo = await session.scalar(select(Promotion).where(func.upper(Promotion.code) == code.strip().upper()))

    def invalid(issue: str) -> Invalid:
        return Invalid(
            "The promo code cannot be used", code="PROMO_INVALID", details=[field_error("promo_code", issue)]
        )

    if promo is None:
        raise invalid("unknown")
    if not (promo.starts_at <= at < promo.ends_at):
        raise invalid("not running")
    if channel not in (promo.channels or []):
        raise invalid("not for this channel")
    if promo.branch_ids and branch_id not in promo.branch_ids:
        raise invalid("not for this branch")
    if promo.type == "amount" and promo.currency != currency:
        raise invalid("not for this currency")
    return promo


async def price_lines(
    session: AsyncSession,
    *,
    price_list: PriceList,
    lines: Sequence[tuple[int, int, Decimal]],
    channel: str,
    branch_id: int | None,
    at: datetime,
    promo_code: str | None = None,
    field_prefix: str = "lines",
) -> PricedOrder:
    """Price (product_id, qty, discount_pct) lines. 422 PRODUCT_NOT_AVAILABLE lists every line whose
    product is unknown, inactive or without a price; 422 PROMO_INVALID for an unusable code."""
    currency = price_list.currency
    bad = [
        field_error(f"{field_prefix}[{i}].qty", "must be greater than 0")
        for i, (_, q, _) in enumerate(lines)
        if q <= 0
    ] + [
        field_error(f"{field_prefix}[{i}].discount_pct", "must be between 0 and 100")
        for i, (_, _, d) in enumerate(lines)
        if not ZERO <= Decimal(d) <= HUNDRED
    ]
    if bad:
        raise Invalid("Invalid order lines", details=bad)
    ids = [pid for pid, _, _ in lines]
    products = await _products(session, ids, at) if ids else {}
    prices = await _prices(session, price_list.id, ids, at, base_only=False) if ids else {}
    unavailable: list[dict[str, Any]] = []
    units: list[Decimal] = []
    for i, (pid, qty, _) in enumerate(lines):
        info = products.get(pid)
        unit = _unit_price(prices.get(pid, []), qty)
        issue = (
            "not found" if info is None else "inactive" if not info[0] else "no price" if unit is None else ""
        )
        if issue:
            unavailable.append(field_error(f"{field_prefix}[{i}].product_id", issue, product_id=pid))
        units.append(unit or ZERO)
    if unavailable:
        raise Invalid("Some products are not available", code="PRODUCT_NOT_AVAILABLE", details=unavailable)
    coded: Promotion | None = None
    if promo_code:
        coded = await _coded_promotion(
            session, promo_code, channel=channel, branch_id=branch_id, at=at, currency=currency
        )
    automatic = await _promotions(session, ids, at=at) if ids else {}
    covered_by_code = await _promotions(session, ids, at=at, code=coded.code) if coded else {}
    if coded is not None and not covered_by_code:
        raise Invalid(
            "The promo code cannot be used",
            code="PROMO_INVALID",
            details=[field_error("promo_code", "not applicable to these products")],
        )
    priced: list[PricedLine] = []
    for (pid, qty, pct), unit in zip(lines, units, strict=True):
        pct = Decimal(pct)
        line_total = round_money(qty * unit * (HUNDRED - pct) / HUNDRED, currency)
        candidates = [
            p
            for p in [*automatic.get(pid, []), *covered_by_code.get(pid, [])]
            if _runs_for(p, channel, branch_id, currency)
        ]
        promo, promo_id = _best(sorted(candidates, key=lambda p: p.id), line_total, qty, currency)
        rate = products[pid][3]
        tax = round_money((line_total - promo) * rate / HUNDRED, currency)
        priced.append(PricedLine(pid, qty, unit, pct, rate, line_total, promo, tax, currency, promo_id))
    subtotal = sum((pl.line_total for pl in priced), round_money(ZERO, currency))
    discount = sum((pl.promo_discount for pl in priced), round_money(ZERO, currency))
    tax = sum((pl.tax for pl in priced), round_money(ZERO, currency))
    return PricedOrder(priced, subtotal, discount, tax, subtotal - discount + tax, currency)


async def catalogue_prices(
    session: AsyncSession,
    *,
    price_list_id: int,
    product_ids: Sequence[int],
    channel: str,
    branch_id: int | None,
    at: datetime,
) -> dict[int, CardPrice]:
    """Tax-inclusive card prices (and promo prices) of many products: four statements in all.

    Products without a base price (min_qty 1) valid at `at` are left out; inactive ones are kept
    (the caller decides how to show them). Only automatic promotions give a promo price.
    """
    if not product_ids:
        return {}
    currency = await session.scalar(select(PriceList.currency).where(PriceList.id == price_list_id))
    if currency is None:
        return {}
    prices = await _prices(session, price_list_id, product_ids, at, base_only=True)
    products = await _products(session, list(prices), at) if prices else {}
    promos = await _promotions(session, list(prices), at=at) if prices else {}
    out: dict[int, CardPrice] = {}
    for pid, candidates in prices.items():
        unit = _unit_price(candidates, 1)
        if unit is None or pid not in products:
            continue
        rate = products[pid][3]
        price = round_money(unit, currency)
        incl = price + round_money(price * rate / HUNDRED, currency)
        runs = [p for p in promos.get(pid, []) if _runs_for(p, channel, branch_id, currency)]
        cut, promo_id = _best(runs, price, 1, currency)
        promo_incl = None
        if promo_id is not None:
            promo_price = price - cut
            promo_incl = promo_price + round_money(promo_price * rate / HUNDRED, currency)
        out[pid] = CardPrice(incl, promo_incl, currency, promo_id)
    return out


async def tax_inclusive_price(
    session: AsyncSession,
    *,
    price_list_id: int,
    product_id: int,
    channel: str,
    branch_id: int | None,
    at: datetime,
) -> CardPrice | None:
    """One product's card price (product page); None when it has no base price."""
    prices = await catalogue_prices(
        session,
        price_list_id=price_list_id,
        product_ids=[product_id],
        channel=channel,
        branch_id=branch_id,
        at=at,
    )
    return prices.get(product_id)
