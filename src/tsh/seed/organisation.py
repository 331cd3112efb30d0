"""Branches (Baghdad is the default), their warehouses, delivery zones and POS terminals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tsh.seed.context import SeedContext

BRANCHES = (
    # code, city, name_en, name_ar, address, lat, lng, phone, limits scale
    (
        "BGD",
        "Baghdad",
        "Baghdad - Karrada (Head Office)",
        "بغداد - الكرادة (المقر الرئيسي)",
        "Karrada Dakhil, Street 62, near Al-Wathiq Square",
        33.3061,
        44.4223,
        "+9647701000100",
    ),
    (
        "BSR",
        "Basra",
        "Basra - Al-Jazair",
        "البصرة - الجزائر",
        "Al-Jazair Street, opposite Basra Times Square",
        30.5134,
        47.8056,
        "+9647801000200",
    ),
    (
        "ERB",
        "Erbil",
        "Erbil - 100m Street",
        "أربيل - شارع المئة",
        "100m Street, near Family Mall",
        36.2033,
        44.0319,
        "+9647501000300",
    ),
)

# name_en, name_ar, branch, cities, fee, express fee, minimum order, payment methods
ZONES = (
    ("Baghdad city", "مدينة بغداد", "BGD", ["Baghdad"], 5_000, 10_000, 25_000, None),
    (
        "Central Iraq",
        "المحافظات الوسطى",
        "BGD",
        ["Hillah", "Karbala", "Najaf", "Kut", "Baqubah", "Ramadi"],
        10_000,
        None,
        100_000,
        ["cash_on_delivery", "zain_cash", "fastpay"],
    ),
    ("Basra city", "مدينة البصرة", "BSR", ["Basra"], 5_000, 10_000, 25_000, None),
    (
        "Southern Iraq",
        "المحافظات الجنوبية",
        "BSR",
        ["Nasiriyah", "Amarah", "Samawah", "Diwaniyah"],
        10_000,
        None,
        100_000,
        ["cash_on_delivery", "zain_cash"],
    ),
    ("Erbil city", "مدينة أربيل", "ERB", ["Erbil"], 5_000, 10_000, 25_000, None),
    (
        "Kurdistan region",
        "إقليم كردستان",
        "ERB",
        ["Duhok", "Sulaymaniyah", "Kirkuk", "Mosul"],
        12_000,
        None,
        150_000,
        ["cash_on_delivery", "fastpay", "card"],
    ),
)


def generate(ctx: SeedContext) -> None:
    w = ctx.writer
    branches: dict[str, int] = {}
    info: dict[int, dict[str, Any]] = {}
    for code, city, name_en, name_ar, address, lat, lng, phone in BRANCHES:
        bid = ctx.ids.next("branches")
        branches[code] = bid
        info[bid] = {"code": code, "city": city, "lat": lat, "lng": lng}
        w.add(
            "branches",
            {
                "id": bid,
                "code": code,
                "name_ar": name_ar,
                "name_en": name_en,
                "is_default": code == "BGD",
                "city": city,
                "address": address,
                "lat": lat,
                "lng": lng,
                "geo_accuracy_m": 5.0,
                "geofence_radius_m": 150 if code != "ERB" else 200,
                "phone": phone,
                "manager_id": None,
                "default_currency": "IQD",
                "cashier_discount_pct": Decimal("10"),
                "salesperson_discount_pct": Decimal("5"),
                "limits_currency": "IQD",
                "payout_limit": Decimal("500000"),
                "refund_limit": Decimal("1000000"),
                "refund_age_days": 14,
                "cash_variance_tolerance": Decimal("5000"),
                "adjustment_value_limit": Decimal("2500000"),
                "return_value_limit": Decimal("1500000"),
                "status": "active",
                "created_at": ctx.at(ctx.history_start.replace(year=ctx.history_start.year - 3), 9),
            },
        )
    warehouses: dict[str, int] = {}
    wh_branch: dict[int, int] = {}
    main_of: dict[int, int] = {}
    for code, bid in branches.items():
        city = info[bid]["city"]
        for suffix, kind, en, ar in (
            ("MAIN", "main", f"{city} main warehouse", f"المخزن الرئيسي - {_ar_city(city)}"),
            ("SHOP", "shop", f"{city} showroom", f"صالة العرض - {_ar_city(city)}"),
            ("RET", "returns", f"{city} returns store", f"مخزن المرتجعات - {_ar_city(city)}"),
        ):
            if kind == "shop" and code == "ERB":
                continue
            if kind == "returns" and code != "BGD":
                continue
            wid = ctx.ids.next("warehouses")
            wcode = f"{code}-{suffix}"
            warehouses[wcode] = wid
            wh_branch[wid] = bid
            if kind == "main":
                main_of[bid] = wid
            w.add(
                "warehouses",
                {
                    "id": wid,
                    "branch_id": bid,
                    "code": wcode,
                    "name_ar": ar,
                    "name_en": en,
                    "type": kind,
                    "status": "active",
                },
            )
    zones: dict[int, dict[str, Any]] = {}
    zone_by_city: dict[str, int] = {}
    for name_en, name_ar, bcode, cities, fee, express, min_order, methods in ZONES:
        zid = ctx.ids.next("delivery_zones")
        zones[zid] = {"branch_id": branches[bcode], "fee": Decimal(fee), "express": express, "cities": cities}
        for c in cities:
            zone_by_city[c] = zid
        row: dict[str, Any] = {
            "id": zid,
            "branch_id": branches[bcode],
            "name_ar": name_ar,
            "name_en": name_en,
            "cities": cities,
            "fee_amount": Decimal(fee),
            "fee_currency": "IQD",
            "express_fee_amount": Decimal(express) if express else None,
            "express_fee_currency": "IQD" if express else None,
            "min_order_amount": Decimal(min_order),
            "min_order_currency": "IQD",
            "status": "active",
        }
        if methods is not None:
            row["payment_methods"] = methods
        w.add("delivery_zones", row)
    terminals: dict[str, dict[str, Any]] = {}
    for tcode, wcode, name in (
        ("BGD-POS-1", "BGD-SHOP", "Karrada showroom till 1"),
        ("BGD-POS-2", "BGD-SHOP", "Karrada showroom till 2"),
        ("BSR-POS-1", "BSR-SHOP", "Al-Jazair showroom till 1"),
    ):
        tid = ctx.ids.next("pos_terminals")
        wid = warehouses[wcode]
        terminals[tcode] = {"id": tid, "warehouse_id": wid, "branch_id": wh_branch[wid]}
        w.add(
            "pos_terminals",
            {
                "id": tid,
                "branch_id": wh_branch[wid],
                "warehouse_id": wid,
                "code": tcode,
                "name": name,
                "status": "active",
            },
        )
    ctx.refs.update(
        branches=branches,
        branch_info=info,
        warehouses=warehouses,
        main_warehouse=main_of,
        zones=zones,
        zone_by_city=zone_by_city,
        terminals=terminals,
    )


def _ar_city(city: str) -> str:
    return {"Baghdad": "بغداد", "Basra": "البصرة", "Erbil": "أربيل"}[city]
