"""Customers and partners: partner tiers and agents (one level of sub-partners), retail shops assigned
to salespeople near their branch, wholesale accounts with credit terms (IQD and USD), consumers with
delivery addresses, the users of consumers, wholesale clients and partners, carts, wishlists and
credit requests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tsh.seed import names
from tsh.seed.catalog import Catalog
from tsh.seed.context import SeedContext, Weighted
from tsh.seed.demo_users import NAMES as DEMO_NAMES
from tsh.seed.demo_users import demo_email

TIERS = ((1, "BRONZE", "Bronze", 0), (2, "SILVER", "Silver", 25_000_000), (3, "GOLD", "Gold", 60_000_000))
TIER_RATE = {1: Decimal("3.00"), 2: Decimal("4.00"), 3: Decimal("5.00")}


@dataclass(slots=True)
class Cust:
    id: int
    type: str
    branch_id: int
    price_list: str
    currency: str
    credit_limit: Decimal
    terms_days: int
    salesperson_id: int | None = None
    partner_id: int | None = None
    behaviour: str = "good"  # good | slow | bad (pays late; bad wholesale accounts are on hold)
    lat: float = 0.0
    lng: float = 0.0
    addresses: list[dict[str, Any]] = field(default_factory=list)
    name: str = ""


@dataclass(slots=True)
class PartnerRec:
    id: int
    tier: int
    branch_id: int
    rate: Decimal
    override: Decimal
    parent_id: int | None
    status: str
    payout_method: str
    customers: list[Cust] = field(default_factory=list)


def tiers(ctx: SeedContext) -> None:
    ids: dict[int, int] = {}
    for rank, code, name, minimum in TIERS:
        tid = ctx.ids.next("partner_tiers")
        ids[rank] = tid
        ctx.writer.add(
            "partner_tiers",
            {
                "id": tid,
                "code": code,
                "name": name,
                "rank": rank,
                "min_monthly_sales": Decimal(minimum),
                "currency": "IQD",
            },
        )
    ctx.refs["partner_tiers"] = ids


def _near(ctx: SeedContext, lat: float, lng: float, spread: float = 0.07) -> tuple[float, float]:
    return round(lat + ctx.rng.uniform(-spread, spread), 6), round(lng + ctx.rng.uniform(-spread, spread), 6)


def generate(ctx: SeedContext, cat: Catalog, *, role_ids: dict[str, int]) -> None:
    w, rng, prof = ctx.writer, ctx.rng, ctx.profile
    branches: dict[str, int] = ctx.refs["branches"]
    binfo = ctx.refs["branch_info"]
    code_of = {bid: i["code"] for bid, i in binfo.items()}
    city_of = {bid: i["city"] for bid, i in binfo.items()}
    users: dict[str, int] = ctx.refs["users"]
    pw = ctx.refs["password_hash"]
    since = ctx.history_start
    user_rows: list[dict[str, Any]] = []

    def add_user(
        email: str,
        name: str,
        role: str,
        branch: int | None,
        *,
        customer: int | None = None,
        partner: int | None = None,
        language: str = "ar",
    ) -> int:
        uid = ctx.ids.next("users")
        created = ctx.at(since - dt.timedelta(days=rng.randint(1, 200)), 12)
        user_rows.append(
            {
                "id": uid,
                "name": name,
                "email": email,
                "phone": None,
                "password_hash": pw,
                "role_id": role_ids[role],
                "branch_id": branch,
                "customer_id": customer,
                "partner_id": partner,
                "language": language,
                "status": "active",
                "permission_version": 1,
                "last_login_at": ctx.now - dt.timedelta(hours=rng.randint(1, 500)),
                "created_at": created,
                "updated_at": created,
            },
        )
        return uid

    def customer_row(c: Cust, name: str, shop: str | None, city: str, created: dt.date, **extra: Any) -> None:
        c.name = shop or name
        row = {
            "id": c.id,
            "code": f"C-{c.id:06d}",
            "type": c.type,
            "name": name,
            "shop_name": shop,
            "phone": names.phone(200_000 + c.id),
            "email": extra.pop("email", None),
            "marketing_opt_in": rng.random() < 0.4,
            "branch_id": c.branch_id if c.type != "consumer" else None,
            "salesperson_id": c.salesperson_id,
            "partner_id": c.partner_id,
            "price_list_id": cat.list_ids[c.price_list],
            "currency": c.currency,
            "credit_limit": c.credit_limit,
            "payment_terms_days": c.terms_days,
            "on_hold": False,
            "hold_reason": None,
            "city": city,
            "lat": c.lat or None,
            "lng": c.lng or None,
            "geo_accuracy_m": 8.0 if c.lat else None,
            "notes": None,
            "status": "active",
            "version": 1,
            "created_at": ctx.at(created, 11),
            "updated_at": ctx.at(created, 11),
        }
        row.update(extra)
        w.add("customers", row)

    # --- partners --------------------------------------------------------------------------
    tier_ids = ctx.refs["partner_tiers"]
    partners: list[PartnerRec] = []
    plan: list[tuple[str, str, int, str | None, str]] = [
        ("partner1", "BGD", 2, None, "active"),
        ("partner2", "BSR", 3, None, "active"),
    ]
    for k in range(max(0, prof.partners - 2)):
        parent = "partner1" if k < 2 else None
        status = "invited" if k == prof.partners - 3 else ("suspended" if k == 3 else "active")
        plan.append((f"p{k}", ("BGD", "ERB", "BSR")[k % 3], 1 + (k % 3 == 2), parent, status))
    key_ids: dict[str, int] = {}
    for key, bcode, tier, parent_key, status in plan:
        pid = ctx.ids.next("partners")
        key_ids[key] = pid
        demo_idx = {"partner1": 1, "partner2": 2}.get(key)
        name = DEMO_NAMES["partner"][demo_idx - 1] if demo_idx else names.person(rng, female_share=0.1)[0]
        method = ("zain_cash", "bank_transfer", "cash_at_branch")[pid % 3]
        rec = PartnerRec(
            pid,
            tier,
            branches[bcode],
            TIER_RATE[tier],
            Decimal("1.00"),
            key_ids.get(parent_key) if parent_key else None,
            status,
            method,
        )
        partners.append(rec)
        city = city_of[rec.branch_id]
        joined = (
            since - dt.timedelta(days=rng.randint(20, 500))
            if demo_idx
            else since + dt.timedelta(days=rng.randint(0, 200))
        )
        w.add(
            "partners",
            {
                "id": pid,
                "code": f"P-{pid:05d}",
                "name": name,
                "phone": names.phone(150_000 + pid),
                "email": f"{name.lower().replace(' ', '.').replace('-', '')}@partners.tsh.iq",
                "address": f"{rng.choice(names.DISTRICTS[city])}, {city}",
                "city": city,
                "branch_id": rec.branch_id,
                "tier_id": tier_ids[tier],
                "commission_rate": rec.rate,
                "override_rate": rec.override,
                "can_recruit": parent_key is None and tier >= 2,
                "min_order_amount": Decimal("100000"),
                "min_order_currency": "IQD",
                "parent_partner_id": rec.parent_id,
                "territory": f"{city} - {rng.choice(names.DISTRICTS[city])}",
                "payout_method": method,
                "payout_account": f"+96478{pid:08d}"
                if method == "zain_cash"
                else (f"IQ98 RAFB 00{pid:010d}" if method == "bank_transfer" else None),
                "payout_locked_until": None,
                "note": "Invited by an upline partner" if parent_key else None,
                "joined_at": None if status == "invited" else ctx.at(joined, 10),
                "status": status,
                "created_at": ctx.at(joined - dt.timedelta(days=7), 10),
            },
        )
        if demo_idx:
            users[f"partner{demo_idx}"] = add_user(
                demo_email("partner", demo_idx),
                name,
                "partner",
                rec.branch_id,
                partner=pid,
                language="en" if demo_idx == 1 else "ar",
            )
        elif status == "active":
            add_user(f"partner.{pid}@partners.tsh.iq", name, "partner", rec.branch_id, partner=pid)

    # --- retail shops of the salespeople ---------------------------------------------------------
    retail: dict[int, list[Cust]] = {}
    for s in ctx.refs["salespeople"]:
        own: list[Cust] = []
        city = city_of[s.branch_id]
        bi = binfo[s.branch_id]
        for k in range(prof.retail_per_salesperson):
            cid = ctx.ids.next("customers")
            credit = rng.random() < 0.45
            behaviour = "bad" if rng.random() < 0.06 else ("slow" if rng.random() < 0.2 else "good")
            c = Cust(
                cid,
                "retail_shop",
                s.branch_id,
                "SALES",
                "IQD",
                Decimal(rng.choice([3, 5, 8, 10, 15, 20]) * 1_000_000) if credit else Decimal(0),
                rng.choice([15, 30]) if credit else 0,
                salesperson_id=s.user_id,
                behaviour=behaviour,
            )
            c.lat, c.lng = _near(ctx, bi["lat"], bi["lng"])
            owner_en, owner_ar = names.person(rng, female_share=0.05)
            shop_en, shop_ar = names.shop(rng)
            district = rng.choice(names.DISTRICTS[city])
            c.addresses.append(_address(ctx, c, "Shop", city, district, 1.0))
            # Salesperson 1 and 2 got their first shops early; a few shops of everyone are new this month.
            created = (
                since - dt.timedelta(days=rng.randint(10, 700))
                if k < prof.retail_per_salesperson - 2
                else (ctx.today - dt.timedelta(days=rng.randint(1, 20)))
            )
            if rng.random() < 0.4:  # many shops were registered with their Arabic names
                customer_row(c, owner_ar, shop_ar, city, created)
            else:
                customer_row(c, owner_en, f"{shop_en} - {district}", city, created)
            own.append(c)
        retail[s.user_id] = own

    # --- wholesale accounts --------------------------------------------------------------------
    wholesale: list[Cust] = []
    for k in range(prof.wholesale_customers):
        cid = ctx.ids.next("customers")
        bcode = ("BGD", "BSR")[k] if k < 2 else ("BGD", "BSR", "ERB")[k % 3]
        usd = k >= 2 and k % 4 == 3
        limit = (
            Decimal(rng.choice([20, 40, 75, 100, 150]) * 1_000)
            if usd
            else Decimal(rng.choice([30, 50, 80, 120, 200]) * 1_000_000)
        )
        behaviour = "good" if k < 2 else ("bad" if k % 9 == 5 else ("slow" if k % 5 == 1 else "good"))
        c = Cust(
            cid,
            "wholesale",
            branches[bcode],
            "WHS-USD" if usd else "WHS-IQD",
            "USD" if usd else "IQD",
            limit,
            rng.choice([30, 45, 60]),
            behaviour=behaviour,
        )
        bi = binfo[c.branch_id]
        c.lat, c.lng = _near(ctx, bi["lat"], bi["lng"], 0.1)
        city = bi["city"]
        word_en, _word_ar = rng.choice(names.SHOP_WORDS)
        company = f"{word_en} {rng.choice(['Trading Co.', 'Electronics Wholesale', 'Distribution', 'Group'])}"
        contact = DEMO_NAMES["wholesale_client"][k] if k < 2 else names.person(rng)[0]
        c.addresses.append(_address(ctx, c, "Warehouse", city, rng.choice(names.DISTRICTS[city]), 1.0))
        extra: dict[str, Any] = {}
        if behaviour == "bad":
            extra = {"on_hold": True, "hold_reason": "Invoice more than 30 days overdue"}
        customer_row(c, contact, company, city, since - dt.timedelta(days=rng.randint(60, 900)), **extra)
        wholesale.append(c)
        if k < 2:
            users[f"wholesale_client{k + 1}"] = add_user(
                demo_email("wholesale_client", k + 1),
                contact,
                "wholesale_client",
                c.branch_id,
                customer=cid,
                language="en" if k == 0 else "ar",
            )
        elif k % 2 == 0:
            add_user(
                f"orders.{cid}@wholesale.example.iq", contact, "wholesale_client", c.branch_id, customer=cid
            )

    # --- consumers ------------------------------------------------------------------------------
    consumers: list[Cust] = []
    zone_by_city: dict[str, int] = ctx.refs["zone_by_city"]
    zones = ctx.refs["zones"]
    for k in range(prof.consumers):
        cid = ctx.ids.next("customers")
        if k < 2:
            name = latin = DEMO_NAMES["consumer"][k]
            home = ("Baghdad", "Basra")[k]
        else:
            pair = names.person(rng, female_share=0.45)
            name = pair[1] if rng.random() < 0.4 else pair[0]
            latin = pair[0]
            home = rng.choices(
                ["Baghdad", "Basra", "Erbil", "Hillah", "Najaf", "Nasiriyah", "Sulaymaniyah"],
                [45, 22, 15, 5, 5, 4, 4],
            )[0]
        zone = zone_by_city[home]
        c = Cust(cid, "consumer", zones[zone]["branch_id"], "CONS", "IQD", Decimal(0), 0)
        n_addr = 2 if k < 2 else rng.choice([1, 1, 2, 3])
        for a in range(n_addr):
            city = home if a == 0 else rng.choice(["Baghdad", home, "Basra", "Erbil"])
            district = rng.choice(names.DISTRICTS.get(city, ("Centre",)))
            c.addresses.append(
                _address(ctx, c, ("Home", "Work", "Parents")[a], city, district, 1.0 if a == 0 else 0)
            )
        email = f"{latin.lower().replace(' ', '.').replace('-', '')}.{cid}@example.com"
        customer_row(c, name, None, home, since - dt.timedelta(days=rng.randint(1, 600)), email=email)
        consumers.append(c)
        if k < 2:
            users[f"consumer{k + 1}"] = add_user(
                demo_email("consumer", k + 1),
                name,
                "consumer",
                branches[("BGD", "BSR")[k]],
                customer=cid,
                language="en" if k == 0 else "ar",
            )
        else:
            add_user(email, name, "consumer", None, customer=cid, language="ar" if k % 3 else "en")

    # --- partner network customers --------------------------------------------------------------
    active_partners = [p for p in partners if p.status != "invited"]
    pw_partners = Weighted(active_partners, [4 if i < 2 else 1 for i in range(len(active_partners))])
    for k in range(prof.partner_customers):
        p = active_partners[k % 2] if k < 6 else pw_partners.pick(rng)
        cid = ctx.ids.next("customers")
        city = city_of[p.branch_id]
        c = Cust(
            cid,
            "retail_shop" if k % 2 else "consumer",
            p.branch_id,
            f"PTR-{p.tier}",
            "IQD",
            Decimal(0),
            0,
            partner_id=p.id,
        )
        bi = binfo[p.branch_id]
        c.lat, c.lng = _near(ctx, bi["lat"], bi["lng"], 0.09)
        name = names.person(rng, female_share=0.3)[0]
        shop = f"{names.shop(rng)[0]}" if c.type == "retail_shop" else None
        c.addresses.append(_address(ctx, c, "Main", city, rng.choice(names.DISTRICTS[city]), 1.0))
        customer_row(
            c, name, shop, city, since - dt.timedelta(days=rng.randint(1, 300)), branch_id=p.branch_id
        )
        p.customers.append(c)

    w.add_many("users", user_rows)
    _addresses(
        ctx,
        [
            *[c for v in retail.values() for c in v],
            *wholesale,
            *consumers,
            *[c for p in partners for c in p.customers],
        ],
    )
    _carts_and_wishlists(ctx, cat, consumers, wholesale)
    _credit_requests(ctx, wholesale)
    ctx.refs.update(
        retail=retail,
        wholesale=wholesale,
        consumers=consumers,
        partners=partners,
        code_of_branch=code_of,
        consumer_ids=[consumers[0].id, consumers[1].id],
        demo_customer_ids={consumers[0].id, consumers[1].id, wholesale[0].id, wholesale[1].id},
    )


def _address(
    ctx: SeedContext, c: Cust, label: str, city: str, district: str, default: float
) -> dict[str, Any]:
    rng = ctx.rng
    base = names.CITIES.get(city)
    lat, lng = _near(ctx, float(base["lat"]), float(base["lng"]), 0.06) if base else (None, None)
    return {
        "label": label,
        "city": city,
        "district": district,
        "street": f"{rng.choice(names.STREETS)}, house {rng.randint(1, 120)}",
        "landmark": rng.choice(names.LANDMARKS),
        "phone": None,
        "lat": lat,
        "lng": lng,
        "delivery_zone_id": ctx.refs["zone_by_city"].get(city),
        "is_default": default > 0,
    }


def _addresses(ctx: SeedContext, customers: list[Cust]) -> None:
    rows = []
    for c in customers:
        for a in c.addresses:
            aid = ctx.ids.next("addresses")
            a["address_id"] = aid
            rows.append(
                {
                    "id": aid,
                    "customer_id": c.id,
                    **{k: v for k, v in a.items() if k != "address_id"},
                    "geo_accuracy_m": 12.0 if a["lat"] else None,
                }
            )
    ctx.writer.add_many("addresses", rows)


def _carts_and_wishlists(
    ctx: SeedContext, cat: Catalog, consumers: list[Cust], wholesale: list[Cust]
) -> None:
    w, rng = ctx.writer, ctx.rng
    pop = cat.popularity
    assert pop is not None
    for k, c in enumerate(consumers):
        if k < 2 or rng.random() < 0.3:
            cart_id = ctx.ids.next("carts")
            w.add(
                "carts",
                {
                    "id": cart_id,
                    "customer_id": c.id,
                    "channel": "consumer",
                    "updated_at": ctx.now - dt.timedelta(hours=rng.randint(1, 72)),
                },
            )
            for p in pop.pick_distinct(rng, 3 if k < 2 else rng.randint(1, 4)):
                w.add(
                    "cart_items",
                    {
                        "id": ctx.ids.next("cart_items"),
                        "cart_id": cart_id,
                        "product_id": p.id,
                        "qty": 1 if p.kind != "accessory" else rng.randint(1, 3),
                        "unit": "piece",
                    },
                )
        if k < 2 or rng.random() < 0.5:
            for p in pop.pick_distinct(rng, 5 if k < 2 else rng.randint(1, 6)):
                added = ctx.now - dt.timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 23))
                w.add(
                    "wishlist_items",
                    {
                        "id": ctx.ids.next("wishlist_items"),
                        "customer_id": c.id,
                        "product_id": p.id,
                        "added_at": added,
                        "created_at": added,
                    },
                )
    for c in wholesale[:1] + [x for x in wholesale[2:] if rng.random() < 0.2]:
        cart_id = ctx.ids.next("carts")
        w.add("carts", {"id": cart_id, "customer_id": c.id, "channel": "wholesale"})
        for p in pop.pick_distinct(rng, 2):
            w.add(
                "cart_items",
                {
                    "id": ctx.ids.next("cart_items"),
                    "cart_id": cart_id,
                    "product_id": p.id,
                    "qty": rng.randint(1, 3),
                    "unit": "carton",
                },
            )


def _credit_requests(ctx: SeedContext, wholesale: list[Cust]) -> None:
    w, rng = ctx.writer, ctx.rng
    accountant = ctx.refs["users"]["accountant1"]
    for k, c in enumerate(wholesale):
        if k == 0:
            continue  # wholesale_client1 may ask for credit in the tests
        if k == 1 or (k > 2 and rng.random() < 0.25):
            statuses = ["pending"] if k == 1 else [rng.choice(["approved", "rejected", "pending"])]
            if k == 1:
                statuses = ["approved", "pending"]
            for j, status in enumerate(statuses):
                when = ctx.now - dt.timedelta(
                    days=(60 if j == 0 and len(statuses) > 1 else rng.randint(1, 10))
                )
                step = Decimal("10000") if c.currency == "USD" else Decimal("10000000")
                w.add(
                    "credit_requests",
                    {
                        "id": ctx.ids.next("credit_requests"),
                        "customer_id": c.id,
                        "requested_limit": c.credit_limit + step * rng.randint(2, 5),
                        "current_limit": c.credit_limit,
                        "currency": c.currency,
                        "reason": "Seasonal stock build-up before the winter season",
                        "requested_by_id": None,
                        "status": status,
                        "decided_by_id": None if status == "pending" else accountant,
                        "decided_at": None if status == "pending" else when + dt.timedelta(days=2),
                        "note": {
                            "approved": "Approved after review of the payment history",
                            "rejected": "Overdue invoices must be settled first",
                        }.get(status),
                        "created_at": when,
                        "updated_at": when,
                    },
                )
