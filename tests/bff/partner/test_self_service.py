"""PAR-02 profile, PAR-05 orders, PAR-06 order detail: data against the database, scope, cache."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from tests.http import Api, demo
from tsh.domain.catalog.models import PriceList, PriceListItem
from tsh.domain.customers.models import Customer, Partner
from tsh.domain.identity.models import User
from tsh.domain.sales.models import Commission, Order
from tsh.domain.shared import business_today, day_start_utc

P1, P2, ADMIN = demo("partner", 1), demo("partner", 2), demo("admin", 1)


async def _partner(api: Api, email: str) -> Partner:
    async with api.db() as s:
        return (
            await s.execute(
                select(Partner).join(User, User.partner_id == Partner.id).where(User.email == email)
            )
        ).scalar_one()


async def test_profile_is_the_callers_own(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    r = await par.get(P1, "/profile")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["id"], data["code"], data["status"]) == (p.id, p.code, p.status)
    assert Decimal(data["commission_rate"]) == p.commission_rate
    if p.payout_account:
        assert (
            data["payout_account"].endswith(p.payout_account[-4:])
            and data["payout_account"] != p.payout_account
        )
    assert (await par.get(P1, "/profile")).json()["metadata"]["cached"] is True
    assert (await par.data(P2, "/profile"))["id"] != p.id
    r = await par.get(ADMIN, "/profile")
    assert r.status_code == 404 and r.json()["error_code"] == "PARTNER_PROFILE_MISSING"


async def test_orders_and_detail_with_commission_and_scope(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    async with api.db() as s:
        count = int(await s.scalar(select(func.count()).where(Order.partner_id == p.id)) or 0)
    seen: list[dict] = []
    cursor = None
    while True:
        page = await par.data(P1, "/orders", limit=100, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == count > 0
    row = seen[0]
    async with api.db() as s:
        commission = await s.scalar(
            select(func.coalesce(func.sum(Commission.amount), 0)).where(
                Commission.order_id == row["id"],
                Commission.partner_id == p.id,
                Commission.status != "reversed",
            )
        )
        order = await s.get(Order, row["id"])
    assert order is not None and Decimal(row["total"]["amount"]) == order.total
    assert Decimal(row["commission"]["amount"]) == Decimal(commission).quantize(Decimal("0.01"))
    detail = await par.data(P1, f"/orders/{row['id']}")
    assert detail["number"] == order.number and len(detail["lines"]) > 0
    assert all(c["status"] in ("accrued", "payable", "paid", "reversed") for c in detail["commissions"])
    filtered = await par.data(P1, "/orders", status=order.status, limit=100)
    assert all(o["status"] == order.status for o in filtered["items"])
    r = await par.get(P2, f"/orders/{row['id']}")
    assert r.status_code == 404 and r.json()["error_code"] == "ORDER_NOT_FOUND"
    assert row["id"] not in [o["id"] for o in (await par.data(P2, "/orders", limit=100))["items"]]


async def test_network_lists_own_customers_then_sub_partners(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    async with api.db() as s:
        customers = set((await s.scalars(select(Customer.id).where(Customer.partner_id == p.id))).all())
        subs = set((await s.scalars(select(Partner.id).where(Partner.parent_partner_id == p.id))).all())
    rows: list[dict] = []
    cursor = None
    while True:
        page = await par.data(P1, "/network", limit=7, **({"cursor": cursor} if cursor else {}))
        rows += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert {r["id"] for r in rows if r["kind"] == "customer"} == customers
    assert {r["id"] for r in rows if r["kind"] == "sub_partner"} == subs
    kinds = [r["kind"] for r in rows]
    assert kinds == sorted(kinds)  # customers first, then sub-partners
    only_subs = await par.data(P1, "/network", kind="sub_partner", limit=100)
    assert {r["id"] for r in only_subs["items"]} == subs
    assert (await par.get(P1, "/network", kind="sub_partner", limit=100)).json()["metadata"]["cached"] is True
    other = await par.data(P2, "/network", limit=100)
    assert not {r["id"] for r in other["items"] if r["kind"] == "customer"} & customers


async def test_network_customer_detail_and_scope(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    async with api.db() as s:
        cid = await s.scalar(
            select(Customer.id).where(Customer.partner_id == p.id).order_by(Customer.id).limit(1)
        )
        assert cid is not None
        count = int(await s.scalar(select(func.count()).where(Order.customer_id == cid)) or 0)
        earned = await s.scalar(
            select(func.coalesce(func.sum(Commission.amount), 0))
            .join(Order, Order.id == Commission.order_id)
            .where(Order.customer_id == cid, Commission.partner_id == p.id, Commission.status != "reversed")
        )
    data = await par.data(P1, f"/customers/{cid}")
    assert data["id"] == cid and data["order_count"] == count and len(data["orders"]) == min(count, 20)
    assert sum(Decimal(m["amount"]) for m in data["commission_earned"] if m["currency"] == "IQD") == Decimal(
        earned
    ).quantize(Decimal("0.01"))
    r = await par.get(P2, f"/customers/{cid}")
    assert r.status_code == 404 and r.json()["error_code"] == "CUSTOMER_NOT_FOUND"


async def test_products_at_the_tier_price_with_commission_per_unit(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    page = await par.data(P1, "/products", limit=20)
    assert page["items"] and page["next_cursor"]
    item = page["items"][0]
    async with api.db() as s:
        price = await s.scalar(
            select(PriceListItem.unit_price)
            .join(PriceList, PriceList.id == PriceListItem.price_list_id)
            .where(
                PriceList.channel == "partner",
                PriceList.partner_tier_id == p.tier_id,
                PriceListItem.product_id == item["id"],
                PriceListItem.min_qty == 1,
                PriceListItem.valid_to.is_(None),
            )
            .order_by(PriceListItem.valid_from.is_not(None), PriceListItem.valid_from)
        )
    assert price is not None
    assert Decimal(item["commission_per_unit"]["amount"]) == (
        Decimal(item["partner_price"]["amount"]) * p.commission_rate / 100
    ).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    nxt = await par.data(P1, "/products", limit=20, cursor=page["next_cursor"])
    assert not {i["id"] for i in page["items"]} & {i["id"] for i in nxt["items"]}
    assert all(
        i["availability"] != "out" for i in (await par.data(P1, "/products", in_stock="true"))["items"]
    )
    assert (await par.get(P1, "/products", limit=20)).json()["metadata"]["cached"] is True


async def test_dashboard_matches_and_refreshes_after_an_order(api: Api) -> None:
    from tests.bff.partner.test_orders import _body, _setup  # imported here: test_orders imports this module

    par = api.app("partner")
    p = await _partner(api, P1)
    first = (await par.get(P1, "/dashboard")).json()
    data = first["data"]
    async with api.db() as s:
        customers = int(await s.scalar(select(func.count()).where(Customer.partner_id == p.id)) or 0)
        by_status = dict(
            (
                await s.execute(
                    select(Order.status, func.count()).where(Order.partner_id == p.id).group_by(Order.status)
                )
            )
            .tuples()
            .all()
        )
    assert data["network"]["customers"] == customers
    assert {x["status"]: x["count"] for x in data["orders_by_status"]} == by_status
    assert len(data["activity"]) <= 10
    assert (await par.get(P1, "/dashboard")).json()["metadata"]["cached"] is True
    setup = await _setup(api, p)
    r = await par.send(P1, "POST", "/orders", _body(setup, "1.00"))
    actual = r.json()["details"][0]["actual"]
    r = await par.send(P1, "POST", "/orders", _body(setup, actual))
    assert r.status_code == 201, r.text
    after = (await par.get(P1, "/dashboard")).json()
    assert after["metadata"]["cached"] is False
    assert after["data"]["month"]["orders"] == data["month"]["orders"] + 1
    assert after["data"]["activity"][0]["order_id"] == r.json()["data"]["id"]
    other = await par.data(P2, "/dashboard")
    assert r.json()["data"]["id"] not in [a["order_id"] for a in other["activity"]]


async def test_performance_months_rank_and_scope(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    year = business_today().year
    data = await par.data(P1, "/performance", year=year)
    async with api.db() as s:
        total, n = (
            await s.execute(
                select(func.coalesce(func.sum(Order.total), 0), func.count()).where(
                    Order.partner_id == p.id,
                    Order.status != "cancelled",
                    Order.currency == "IQD",
                    Order.placed_at >= day_start_utc(business_today().replace(month=1, day=1)),
                )
            )
        ).one()
        peers = int(
            await s.scalar(
                select(func.count()).where(Partner.tier_id == p.tier_id, Partner.status == "active")
            )
            or 0
        )
    assert len(data["months"]) == 12 and data["orders"] == n
    assert Decimal(data["sales"]["amount"]) == Decimal(total).quantize(Decimal("0.01"))
    assert sum(m["orders"] for m in data["months"]) == n
    assert 1 <= data["rank"]["position"] <= data["rank"]["of"] == peers
    assert set(data["rank"]) == {"position", "of", "tier"}  # a position only, no other partner's figures
    assert (await par.get(P1, "/performance", year=year)).json()["metadata"]["cached"] is True
    assert (await par.get(P1, "/performance", year=1999)).status_code == 422
