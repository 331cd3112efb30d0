"""Pricing: volume breaks, line discounts, tax half-up per line and by date, promotions, availability.

Each test builds its own branch, categories, products, tax code, price lists and promotions (unique
codes), limited to its own branch where it matters, so seeded data never changes the figures.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert

from tsh.context import AppContext
from tsh.domain.accounting.models import TaxRate
from tsh.domain.accounting.posting import account_id
from tsh.domain.catalog.models import (
    Category,
    PriceList,
    PriceListItem,
    Product,
    Promotion,
    promotion_categories,
    promotion_products,
)
from tsh.domain.catalog.pricing import catalogue_prices, price_lines, price_list_for
from tsh.domain.organisation.models import Branch
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError

D = Decimal
NOW = datetime.now(UTC)
LATER = NOW + timedelta(days=400)


@dataclass
class World:
    tag: str
    branch: int
    iqd: PriceList
    usd: PriceList
    breaks: int  # volume breaks, 10% tax
    cheap: int  # USD 0.05, 10% tax
    promo: int  # in a sub-category of one a promotion covers, 10% tax
    inactive: int
    unpriced: int


async def _world(ctx: AppContext) -> World:
    tag = uuid.uuid4().hex[:8]
    future = (LATER - timedelta(days=30)).date()
    async with unit_of_work(ctx.db, ctx.bus) as s:
        vat = await account_id(s, "vat_output")
        branch = Branch(code=f"B{tag}", name_ar="فرع", name_en="Branch", city="Basra", address="x")
        parent = Category(name_ar="أ", name_en=f"Parent {tag}")
        plain = Category(name_ar="ج", name_en=f"Plain {tag}")
        tax_now = TaxRate(
            code=f"T{tag}",
            name="t",
            rate=D(10),
            kind="sales",
            account_id=vat,
            effective_from=date(2020, 1, 1),
            effective_to=future - timedelta(days=1),
        )
        tax_later = TaxRate(
            code=f"T{tag}", name="t", rate=D(20), kind="sales", account_id=vat, effective_from=future
        )
        s.add_all([branch, parent, plain, tax_now, tax_later])
        await s.flush()
        child = Category(name_ar="ب", name_en=f"Child {tag}", parent_id=parent.id)
        s.add(child)
        await s.flush()

        def product(i: int, category: int, active: bool = True) -> Product:
            return Product(
                sku=f"P-{tag}-{i}",
                name_ar="منتج",
                name_en=f"P{i}",
                category_id=category,
                tax_rate_id=tax_now.id,
                is_active=active,
            )

        products = [
            product(0, plain.id),
            product(1, plain.id),
            product(2, child.id),
            product(3, plain.id, False),
            product(4, plain.id),
        ]
        iqd = PriceList(
            code=f"I{tag}",
            name="iqd",
            channel="consumer",
            currency="IQD",
            branch_id=branch.id,
            is_default=True,
        )
        usd = PriceList(code=f"U{tag}", name="usd", channel="wholesale", currency="USD", branch_id=branch.id)
        s.add_all([*products, iqd, usd])
        await s.flush()
        p = [x.id for x in products]
        s.add_all(
            [
                PriceListItem(price_list_id=iqd.id, product_id=p[0], min_qty=1, unit_price=D(1005)),
                PriceListItem(price_list_id=iqd.id, product_id=p[0], min_qty=10, unit_price=D(900)),
                PriceListItem(price_list_id=iqd.id, product_id=p[0], min_qty=50, unit_price=D(800)),
                # Expired and not yet valid rows never apply.
                PriceListItem(
                    price_list_id=iqd.id,
                    product_id=p[0],
                    min_qty=100,
                    unit_price=D(1),
                    valid_from=NOW - timedelta(days=9),
                    valid_to=NOW - timedelta(days=1),
                ),
                PriceListItem(
                    price_list_id=iqd.id,
                    product_id=p[0],
                    min_qty=1,
                    unit_price=D(5000),
                    valid_from=NOW + timedelta(days=1),
                ),
                PriceListItem(price_list_id=usd.id, product_id=p[1], min_qty=1, unit_price=D("0.05")),
                PriceListItem(price_list_id=iqd.id, product_id=p[2], min_qty=1, unit_price=D(1000)),
                PriceListItem(price_list_id=iqd.id, product_id=p[3], min_qty=1, unit_price=D(1000)),
            ]
        )
        window = {"starts_at": NOW - timedelta(days=1), "ends_at": NOW + timedelta(days=10)}
        pct = Promotion(
            title_ar="ع",
            title_en="10% off",
            type="percent",
            value=D(10),
            channels=["consumer"],
            branch_ids=[branch.id],
            **window,
        )
        amount = Promotion(
            title_ar="ع",
            title_en="150 off",
            type="amount",
            value=D(150),
            currency="IQD",
            channels=["consumer"],
            branch_ids=[branch.id],
            **window,
        )
        coded = Promotion(
            code=f"C{tag}",
            title_ar="ع",
            title_en="25% code",
            type="percent",
            value=D(25),
            channels=["consumer"],
            **window,
        )
        pos_only = Promotion(
            code=f"D{tag}",
            title_ar="ع",
            title_en="pos",
            type="percent",
            value=D(5),
            channels=["pos"],
            **window,
        )
        s.add_all([pct, amount, coded, pos_only])
        await s.flush()
        await s.execute(insert(promotion_categories).values(promotion_id=pct.id, category_id=parent.id))
        await s.execute(
            insert(promotion_products),
            [{"promotion_id": pr.id, "product_id": p[2]} for pr in (amount, coded, pos_only)],
        )
    return World(tag, branch.id, iqd, usd, p[0], p[1], p[2], p[3], p[4])


async def test_volume_breaks_discount_and_tax_half_up(ctx: AppContext) -> None:
    w = await _world(ctx)
    async with ctx.db.session() as s:
        priced = await price_lines(
            s,
            price_list=w.iqd,
            lines=[(w.breaks, 1, D(0)), (w.breaks, 10, D(0)), (w.breaks, 120, D("12.5"))],
            channel="consumer",
            branch_id=w.branch,
            at=NOW,
        )
    assert [(pl.unit_price, pl.line_total, pl.tax) for pl in priced.lines] == [
        (D(1005), D(1005), D(101)),  # 100.5 rounds half-up
        (D(900), D(9000), D(900)),
        (D(800), D(84000), D(8400)),
    ]
    assert (priced.subtotal, priced.discount, priced.tax, priced.total) == (D(94005), 0, D(9401), D(103406))
    assert priced.currency == "IQD" and all(pl.promotion_id is None for pl in priced.lines)


async def test_usd_rounds_to_cents_and_tax_follows_its_date(ctx: AppContext) -> None:
    w = await _world(ctx)
    async with ctx.db.session() as s:
        now = await price_lines(
            s, price_list=w.usd, lines=[(w.cheap, 1, D(0))], channel="wholesale", branch_id=w.branch, at=NOW
        )
        later = await price_lines(
            s, price_list=w.usd, lines=[(w.cheap, 1, D(0))], channel="wholesale", branch_id=w.branch, at=LATER
        )
    assert (now.lines[0].tax_rate, now.lines[0].tax, now.total) == (D(10), D("0.01"), D("0.06"))
    assert (later.lines[0].tax_rate, later.lines[0].tax) == (D(20), D("0.01"))


async def test_best_promotion_per_line_and_promo_codes(ctx: AppContext) -> None:
    w = await _world(ctx)
    line = [(w.promo, 2, D(0))]
    async with ctx.db.session() as s:
        auto = await price_lines(
            s, price_list=w.iqd, lines=line, channel="consumer", branch_id=w.branch, at=NOW
        )
        elsewhere = await price_lines(
            s, price_list=w.iqd, lines=line, channel="consumer", branch_id=None, at=NOW
        )
        coded = await price_lines(
            s,
            price_list=w.iqd,
            lines=line,
            channel="consumer",
            branch_id=w.branch,
            at=NOW,
            promo_code=f"c{w.tag}",
        )
        errors = []
        for code, channel in ((f"X{w.tag}", "consumer"), (f"D{w.tag}", "consumer"), (f"C{w.tag}", "pos")):
            with pytest.raises(AppError) as exc:
                await price_lines(
                    s,
                    price_list=w.iqd,
                    lines=line,
                    channel=channel,
                    branch_id=w.branch,
                    at=NOW,
                    promo_code=code,
                )
            errors.append((exc.value.status, exc.value.code))
    # 10% of 2000 = 200 (category of the parent) loses to 150 x 2 = 300 (amount per piece).
    pl = auto.lines[0]
    assert (pl.line_total, pl.promo_discount, pl.tax, pl.net) == (D(2000), D(300), D(170), D(1700))
    assert pl.promotion_id is not None
    assert (auto.subtotal, auto.discount, auto.tax, auto.total) == (D(2000), D(300), D(170), D(1870))
    assert elsewhere.lines[0].promotion_id is None and elsewhere.total == D(2200)
    # The code (25% = 500) beats the automatic promotions; it is matched case-insensitively.
    assert (coded.discount, coded.tax, coded.total) == (D(500), D(150), D(1650))
    assert errors == [(422, "PROMO_INVALID")] * 3


async def test_unavailable_products_are_listed(ctx: AppContext) -> None:
    w = await _world(ctx)
    with pytest.raises(AppError) as exc:
        async with ctx.db.session() as s:
            await price_lines(
                s,
                price_list=w.iqd,
                lines=[(w.breaks, 1, D(0)), (w.inactive, 1, D(0)), (w.unpriced, 1, D(0))],
                channel="consumer",
                branch_id=w.branch,
                at=NOW,
                field_prefix="items",
            )
    assert (exc.value.status, exc.value.code) == (422, "PRODUCT_NOT_AVAILABLE")
    assert exc.value.details == [
        {"field": "items[1].product_id", "issue": "inactive", "product_id": w.inactive},
        {"field": "items[2].product_id", "issue": "no price", "product_id": w.unpriced},
    ]


async def test_catalogue_prices_in_one_call(ctx: AppContext) -> None:
    w = await _world(ctx)
    async with ctx.db.session() as s:
        cards = await catalogue_prices(
            s,
            price_list_id=w.iqd.id,
            product_ids=[w.breaks, w.promo, w.unpriced],
            channel="consumer",
            branch_id=w.branch,
            at=NOW,
        )
    assert set(cards) == {w.breaks, w.promo}
    assert (cards[w.breaks].price_incl_tax, cards[w.breaks].promo_price_incl_tax) == (D(1106), None)
    # 1000 - max(10%, 150) = 850, plus 10% tax.
    card = cards[w.promo]
    assert (card.price_incl_tax, card.promo_price_incl_tax, card.currency) == (D(1100), D(935), "IQD")
    assert card.promotion_id is not None


async def test_price_list_choice(ctx: AppContext) -> None:
    w = await _world(ctx)
    async with ctx.db.session() as s:
        assert (await price_list_for(s, channel="consumer", branch_id=w.branch)).id == w.iqd.id
        own = await price_list_for(s, channel="consumer", branch_id=w.branch, customer_price_list_id=w.usd.id)
        assert own.id == w.usd.id
