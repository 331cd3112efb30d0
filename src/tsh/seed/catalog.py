"""Catalogue: a two-level category tree, products of an electronics and home-appliance distributor
(valid EAN-13 barcodes, specs, serialised items with warranty), price lists per channel with
wholesale volume breaks, partner-tier lists, and promotions (featured ones, one public promo code).

No images: `images = []` and `icon_url = None` (the apps show their own placeholders).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tsh.seed.catalog_data import BRAND_AR, BRAND_PREFIX, COLORS, SUBCATEGORIES, TOPS, SubSpec
from tsh.seed.context import SeedContext, Weighted, ean13, money
from tsh.seed.reference import Reference


@dataclass(slots=True)
class Product:
    id: int
    sku: str
    name_en: str
    name_ar: str
    sub: str
    kind: str
    brand: str
    cost: Decimal
    pack: int
    serialised: bool
    warranty: int
    tax_rate: Decimal
    category_id: int
    active: bool = True


# Supplier lead time by kind (INV-05): phones come from Dubai, large items by sea, the rest locally.
LEAD_TIME_DAYS = {"phone": 14, "accessory": 7, "big": 21, "appliance": 10}


@dataclass
class Catalog:
    products: list[Product] = field(default_factory=list)
    by_id: dict[int, Product] = field(default_factory=dict)
    # price list code -> product id -> [(min_qty, unit price)] ascending
    prices: dict[str, dict[int, list[tuple[int, Decimal]]]] = field(default_factory=dict)
    list_ids: dict[str, int] = field(default_factory=dict)
    list_currency: dict[str, str] = field(default_factory=dict)
    popularity: Weighted | None = None
    pos_assortment: list[Product] = field(default_factory=list)
    pos_popularity: Weighted | None = None
    category_ids: dict[str, int] = field(default_factory=dict)

    def price(self, list_code: str, product_id: int, qty: int = 1) -> Decimal:
        unit = Decimal(0)
        for min_qty, p in self.prices[list_code][product_id]:
            if qty >= min_qty:
                unit = p
        return unit


def _round250(value: Decimal) -> Decimal:
    return money((value / 250).quantize(Decimal("1")) * 250)


def generate(ctx: SeedContext, ref: Reference) -> Catalog:
    w, rng = ctx.writer, ctx.rng
    cat = Catalog()
    launch = ctx.at(ctx.history_start - dt.timedelta(days=400), 9)
    sort = 0
    for key, en, ar in TOPS:
        cid = ctx.ids.next("categories")
        cat.category_ids[key] = cid
        sort += 1
        w.add(
            "categories",
            {
                "id": cid,
                "parent_id": None,
                "name_en": en,
                "name_ar": ar,
                "icon_url": None,
                "sort": sort,
                "is_active": True,
                "created_at": launch,
            },
        )
    for sub in SUBCATEGORIES:
        cid = ctx.ids.next("categories")
        cat.category_ids[sub.key] = cid
        sort += 1
        w.add(
            "categories",
            {
                "id": cid,
                "parent_id": cat.category_ids[sub.top],
                "name_en": sub.en,
                "name_ar": sub.ar,
                "icon_url": None,
                "sort": sort,
                "is_active": True,
                "created_at": launch,
            },
        )

    gst0 = ref.tax_rates["GST0"]
    lux = ref.tax_rates["LUX10"]
    total_weight = sum(s.weight for s in SUBCATEGORIES)
    counts = [max(3, round(ctx.profile.products * s.weight / total_weight)) for s in SUBCATEGORIES]
    counts[0] += ctx.profile.products - sum(counts)
    seen: set[str] = set()
    history_days = (ctx.today - ctx.history_start).days
    for sub, count in zip(SUBCATEGORIES, counts, strict=True):
        for k in range(count):
            brand = sub.brands[k % len(sub.brands)]
            model = sub.models[brand][(k // len(sub.brands)) % len(sub.models[brand])]
            variant_en, variant_ar, mult = _variant(
                sub, k // max(1, len(sub.brands) * len(sub.models[brand]))
            )
            name_en = f"{brand} {model}{variant_en}"
            edition = 2
            while name_en in seen:
                name_en = f"{brand} {model}{variant_en} (v{edition})"
                edition += 1
            seen.add(name_en)
            suffix = name_en[len(f"{brand} {model}{variant_en}") :]
            name_ar = f"{sub.noun_ar} {BRAND_AR.get(brand, brand)} {model}{variant_ar}{suffix}"
            pid = ctx.ids.next("products")
            lo, hi = sub.cost
            cost = _round250(Decimal(rng.uniform(lo, hi)) * mult)
            luxury = sub.luxury_from is not None and cost >= sub.luxury_from
            tax = lux if luxury else gst0
            sku = f"{sub.sku}-{brand[:3].upper().replace('+', 'X')}-{pid:05d}"
            prefix = BRAND_PREFIX.get(brand, "629")
            # GS1 prefix, a manufacturer number per brand, the item number: 12 digits + check digit.
            maker = sum(ord(ch) * (i + 7) for i, ch in enumerate(brand)) % 9000 + 1000
            barcode = ean13(f"{prefix}{maker:04d}{pid % 100_000:05d}")
            created = launch + dt.timedelta(days=rng.randint(0, 400 + history_days))
            if created > ctx.now:
                created = ctx.now - dt.timedelta(days=rng.randint(1, 20))
            p = Product(
                pid,
                sku,
                name_en,
                name_ar,
                sub.key,
                sub.kind,
                brand,
                cost,
                sub.pack,
                sub.serialised,
                sub.warranty,
                tax.rate,
                cat.category_ids[sub.key],
                k % 97 != 96,
            )
            cat.products.append(p)
            cat.by_id[pid] = p
            w.add(
                "products",
                {
                    "id": pid,
                    "sku": sku,
                    "barcode": barcode,
                    "name_en": name_en,
                    "name_ar": name_ar,
                    "description": f"{name_en}. {sub.blurb} Official TSH warranty: {sub.warranty} months."
                    if sub.warranty
                    else f"{name_en}. {sub.blurb}",
                    "category_id": p.category_id,
                    "brand": brand,
                    "unit": "piece",
                    "pack_size": sub.pack,
                    "carton_only": sub.kind == "accessory",
                    "wholesale_moq": sub.pack if sub.kind == "accessory" else 1,
                    "tax_rate_id": tax.id,
                    "images": [],
                    "specs": sub.specs(rng, model, variant_en.strip()),
                    "is_serialised": sub.serialised,
                    "warranty_months": sub.warranty,
                    "lead_time_days": LEAD_TIME_DAYS[sub.kind],
                    "is_active": p.active,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                },
            )
    ranks = list(range(len(cat.products)))
    rng.shuffle(ranks)
    kind_factor = {"phone": 1.6, "accessory": 2.2, "big": 0.6, "appliance": 1.0}
    weights = [kind_factor[p.kind] / (1 + r) ** 0.75 for p, r in zip(cat.products, ranks, strict=True)]
    active = [(p, wt) for p, wt in zip(cat.products, weights, strict=True) if p.active]
    cat.popularity = Weighted([p for p, _ in active], [wt for _, wt in active])
    pos_items = [(p, wt) for p, wt in active if p.kind != "big" or p.cost < 1_000_000]
    pos_items = pos_items[: max(40, len(pos_items) * 3 // 5)]
    cat.pos_assortment = [p for p, _ in pos_items]
    cat.pos_popularity = Weighted(cat.pos_assortment, [wt for _, wt in pos_items])
    _price_lists(ctx, cat)
    _promotions(ctx, cat)
    ctx.refs["catalog"] = cat
    return cat


# Editions of models sold in one version only (appliances, TVs, receivers ...).
EDITIONS = [("", "", Decimal("1")), ("Plus", "بلس", Decimal("1.12")), ("Pro", "برو", Decimal("1.25")),
            ("2026 model", "موديل 2026", Decimal("1.06")), ("Lite", "لايت", Decimal("0.9"))]  # fmt: skip


def _variant(sub: SubSpec, n: int) -> tuple[str, str, Decimal]:
    storages = sub.storages or ([("", "", Decimal("1"))] if sub.colored else EDITIONS)
    colors = COLORS if sub.colored else [("", "")]
    s_en, s_ar, mult = storages[n % len(storages)]
    c_en, c_ar = colors[(n // len(storages)) % len(colors)]
    en = "".join(x for x in (f" {s_en}" if s_en else "", f" {c_en}" if c_en else ""))
    ar = "".join(x for x in (f" {s_ar}" if s_ar else "", f" {c_ar}" if c_ar else ""))
    return en, ar, mult


def _price_lists(ctx: SeedContext, cat: Catalog) -> None:
    w = ctx.writer
    branches = ctx.refs["branches"]
    tiers = ctx.refs["partner_tiers"]
    lists: list[tuple[str, str, str, str, int | None, int | None, bool, Any]] = [
        (
            "CONS",
            "Consumer prices",
            "consumer",
            "IQD",
            None,
            None,
            True,
            lambda c: _round250(c * Decimal("1.32")),
        ),
        (
            "POS-BGD",
            "Baghdad showroom prices",
            "pos",
            "IQD",
            branches["BGD"],
            None,
            True,
            lambda c: _round250(c * Decimal("1.32")),
        ),
        (
            "POS-BSR",
            "Basra showroom prices",
            "pos",
            "IQD",
            branches["BSR"],
            None,
            True,
            lambda c: _round250(c * Decimal("1.34")),
        ),
        (
            "SALES",
            "Retail shop prices (field sales)",
            "salesperson",
            "IQD",
            None,
            None,
            True,
            lambda c: _round250(c * Decimal("1.17")),
        ),
        (
            "WHS-IQD",
            "Wholesale prices (IQD)",
            "wholesale",
            "IQD",
            None,
            None,
            True,
            lambda c: _round250(c * Decimal("1.09")),
        ),
        (
            "WHS-USD",
            "Wholesale prices (USD)",
            "wholesale",
            "USD",
            None,
            None,
            False,
            lambda c: money(c * Decimal("1.09") / Decimal("1312.5"), "USD"),
        ),
        (
            "PTR-1",
            "Partner prices - Bronze",
            "partner",
            "IQD",
            None,
            tiers[1],
            False,
            lambda c: _round250(c * Decimal("1.20")),
        ),
        (
            "PTR-2",
            "Partner prices - Silver",
            "partner",
            "IQD",
            None,
            tiers[2],
            False,
            lambda c: _round250(c * Decimal("1.17")),
        ),
        (
            "PTR-3",
            "Partner prices - Gold",
            "partner",
            "IQD",
            None,
            tiers[3],
            False,
            lambda c: _round250(c * Decimal("1.14")),
        ),
    ]
    valid_from = ctx.at(ctx.history_start - dt.timedelta(days=30), 0)
    for code, name, channel, cur, branch, tier, default, fn in lists:
        lid = ctx.ids.next("price_lists")
        cat.list_ids[code] = lid
        cat.list_currency[code] = cur
        w.add(
            "price_lists",
            {
                "id": lid,
                "code": code,
                "name": name,
                "channel": channel,
                "currency": cur,
                "branch_id": branch,
                "partner_tier_id": tier,
                "is_default": default,
            },
        )
        table: dict[int, list[tuple[int, Decimal]]] = {}
        rows = []
        for p in cat.products:
            base = fn(p.cost)
            breaks = [(1, base)]
            if channel == "wholesale":
                step = max(p.pack, 2)
                breaks += [
                    (step * 2, money(base * Decimal("0.98"), cur)),
                    (step * 5, money(base * Decimal("0.96"), cur)),
                ]
            table[p.id] = breaks
            for min_qty, price in breaks:
                rows.append(
                    {
                        "id": ctx.ids.next("price_list_items"),
                        "price_list_id": lid,
                        "product_id": p.id,
                        "min_qty": min_qty,
                        "unit_price": price,
                        "valid_from": valid_from,
                        "valid_to": None,
                        "version": 1,
                    }
                )
        w.add_many("price_list_items", rows)
        cat.prices[code] = table


def _promotions(ctx: SeedContext, cat: Catalog) -> None:
    w, now = ctx.writer, ctx.now
    day = dt.timedelta(days=1)
    c = cat.category_ids
    promos = [
        # code, title en, title ar, type, value, currency, channels, start, end, featured, categories, limit
        (
            None,
            "White Friday: 10% off TVs",
            "الجمعة البيضاء: خصم 10% على التلفزيونات",
            "percent",
            "10",
            None,
            ["consumer", "pos"],
            now - 6 * day,
            now + 9 * day,
            True,
            ["tvs", "speakers"],
            None,
        ),
        (
            "TSH10",
            "TSH10: 10% off your order",
            "TSH10: خصم 10% على طلبك",
            "percent",
            "10",
            None,
            ["consumer"],
            now - 20 * day,
            now + 40 * day,
            False,
            [],
            1,
        ),
        (
            None,
            "Winter warmth: 10,000 IQD off heaters",
            "دفء الشتاء: خصم 10,000 دينار على المدافئ",
            "amount",
            "10000",
            "IQD",
            ["consumer", "pos", "salesperson"],
            now - 3 * day,
            now + 60 * day,
            True,
            ["heaters"],
            None,
        ),
        (
            None,
            "Accessories week for shops",
            "أسبوع الإكسسوارات للمحلات",
            "percent",
            "3",
            None,
            ["salesperson", "wholesale", "partner"],
            now - 2 * day,
            now + 12 * day,
            False,
            ["chargers", "powerbanks"],
            None,
        ),
        (
            None,
            "Ramadan Kareem offers",
            "عروض رمضان كريم",
            "percent",
            "12",
            None,
            ["consumer", "pos"],
            now - 260 * day,
            now - 230 * day,
            True,
            ["blenders", "airfryers"],
            None,
        ),
        (
            None,
            "Summer cooling",
            "تبريد الصيف",
            "percent",
            "8",
            None,
            ["consumer", "pos", "salesperson"],
            now - 170 * day,
            now - 100 * day,
            True,
            ["ac", "fans"],
            None,
        ),
        (
            "NEWYEAR",
            "New Year: 7% off phones",
            "رأس السنة: خصم 7% على الهواتف",
            "percent",
            "7",
            None,
            ["consumer"],
            now + 30 * day,
            now + 45 * day,
            True,
            ["smartphones"],
            1,
        ),
    ]
    featured_products = [p for p in cat.products if p.sub in ("smartphones", "airfryers")][:6]
    for code, en, ar, kind, value, cur, channels, start, end, featured, cats, limit in promos:
        pid = ctx.ids.next("promotions")
        w.add(
            "promotions",
            {
                "id": pid,
                "code": code,
                "title_en": en,
                "title_ar": ar,
                "terms_en": "While stocks last. Not combinable with other offers.",
                "terms_ar": "حتى نفاد الكمية. لا يجمع مع عروض أخرى.",
                "banner_url": None,
                "type": kind,
                "value": Decimal(value),
                "currency": cur,
                "channels": channels,
                "branch_ids": [],
                "starts_at": start,
                "ends_at": end,
                "per_customer_limit": limit,
                "is_featured": featured,
                "created_at": min(start, now) - day,
            },
        )
        for key in cats:
            w.add("promotion_categories", {"promotion_id": pid, "category_id": c[key]})
        if code == "TSH10":
            continue
        if featured and not cats:
            for p in featured_products:
                w.add("promotion_products", {"promotion_id": pid, "product_id": p.id})
    # A featured promotion listing products directly (CON-01 "featured products").
    pid = ctx.ids.next("promotions")
    w.add(
        "promotions",
        {
            "id": pid,
            "code": None,
            "title_en": "Smart picks of the month",
            "title_ar": "اختيارات الشهر الذكية",
            "terms_en": "Selected items only.",
            "terms_ar": "على منتجات مختارة فقط.",
            "banner_url": None,
            "type": "percent",
            "value": Decimal("5"),
            "currency": None,
            "channels": ["consumer", "pos"],
            "branch_ids": [],
            "starts_at": now - 10 * day,
            "ends_at": now + 20 * day,
            "per_customer_limit": None,
            "is_featured": True,
            "created_at": now - 11 * day,
        },
    )
    for p in featured_products:
        w.add("promotion_products", {"promotion_id": pid, "product_id": p.id})
