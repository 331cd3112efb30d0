"""PAR-03 profile update and PAR-13 customer registration."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from tests.bff.partner.test_self_service import P1, P2, _partner
from tests.http import Api
from tsh.domain.customers.models import Customer, Partner


async def test_profile_update_and_payout_cooldown(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    other = await _partner(api, P2)
    await par.get(P1, "/profile")  # cached before the change
    try:
        r = await par.send(P1, "PATCH", "/profile", {"phone": other.phone}, key=None)
        assert r.status_code == 409 and r.json()["error_code"] == "PHONE_TAKEN"
        r = await par.send(P1, "PATCH", "/profile", {"commission_rate": "50"}, key=None)
        assert r.status_code == 422
        r = await par.send(P1, "PATCH", "/profile", {"email": "raad.new@example.iq"}, key=None)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["email"] == "raad.new@example.iq"
        async with api.db() as s:
            row = await s.get(Partner, p.id)
            assert row is not None and row.email == "raad.new@example.iq"
            assert row.payout_locked_until == p.payout_locked_until
        # PartnerChanged dropped the cached profile.
        assert (await par.get(P1, "/profile")).json()["metadata"]["cached"] is False
        r = await par.send(
            P1, "PATCH", "/profile", {"payout_method": "zain_cash", "payout_account": "07701234567"}, key=None
        )
        assert r.status_code == 200, r.text
        async with api.db() as s:
            row = await s.get(Partner, p.id)
            assert row is not None and row.payout_locked_until is not None
            assert row.payout_locked_until > dt.datetime.now(dt.UTC) + dt.timedelta(hours=47)
    finally:
        async with api.db() as s:
            await s.execute(
                update(Partner)
                .where(Partner.id == p.id)
                .values(
                    email=p.email,
                    payout_method=p.payout_method,
                    payout_account=p.payout_account,
                    payout_locked_until=p.payout_locked_until,
                )
            )
            await s.commit()


async def test_register_customer_in_own_network(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    phone = "+9647709" + str(dt.datetime.now().microsecond).zfill(6)
    before = await par.data(P1, "/network", kind="customer", limit=100)
    body = {"name": "Hassan Kadhim", "phone": phone, "city": "Baghdad", "address": "Karrada, street 52"}
    r = await par.send(P1, "POST", "/customers", body, key=None)
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    async with api.db() as s:
        c = await s.get(Customer, created["id"])
        assert (
            c is not None and c.partner_id == p.id and c.salesperson_id is None and c.branch_id == p.branch_id
        )
    after = (await par.get(P1, "/network", kind="customer", limit=100)).json()
    assert after["metadata"]["cached"] is False and after["data"] != before
    assert (await par.data(P1, f"/customers/{created['id']}"))["phone"] == phone
    # The same phone again, from another partner: 409 without naming the owner.
    r = await par.send(P2, "POST", "/customers", body, key=None)
    assert r.status_code == 409 and r.json()["error_code"] == "CUSTOMER_EXISTS"
    assert "details" not in r.json() or not any("id" in str(d) for d in r.json().get("details") or [])
    async with api.db() as s:
        owners = (await s.scalars(select(Customer.partner_id).where(Customer.phone == phone))).all()
    assert owners == [p.id]


async def test_invite_sub_partner_rules(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    phone = "+9647801" + str(dt.datetime.now().microsecond).zfill(6)
    body = {"name": "Ali Hussein", "phone": phone, "city": "Baghdad", "note": "Runs a phone shop in Karrada"}
    try:
        async with api.db() as s:
            await s.execute(update(Partner).where(Partner.id == p.id).values(can_recruit=False))
            await s.commit()
        r = await par.send(P1, "POST", "/sub-partners", body, key=None)
        assert r.status_code == 403 and r.json()["error_code"] == "TIER_NOT_ALLOWED"
        async with api.db() as s:
            await s.execute(update(Partner).where(Partner.id == p.id).values(can_recruit=True))
            await s.commit()
        r = await par.send(P1, "POST", "/sub-partners", {**body, "phone": p.phone}, key=None)
        assert r.status_code == 409 and r.json()["error_code"] == "PHONE_TAKEN"
        r = await par.send(P1, "POST", "/sub-partners", body, key=None)
        assert r.status_code == 201, r.text
        invited = r.json()["data"]
        async with api.db() as s:
            row = await s.get(Partner, invited["id"])
            assert row is not None and row.parent_partner_id == p.id and row.status == "invited"
        subs = await par.data(P1, "/network", kind="sub_partner", limit=100)
        assert invited["id"] in [x["id"] for x in subs["items"]]
    finally:
        async with api.db() as s:
            await s.execute(update(Partner).where(Partner.id == p.id).values(can_recruit=p.can_recruit))
            await s.commit()


async def test_a_sub_partner_cannot_recruit(api: Api) -> None:
    par = api.app("partner")
    p1, p2 = await _partner(api, P1), await _partner(api, P2)
    try:
        async with api.db() as s:
            await s.execute(
                update(Partner).where(Partner.id == p2.id).values(parent_partner_id=p1.id, can_recruit=True)
            )
            await s.commit()
        body = {
            "name": "Omar",
            "phone": "+9647802" + str(dt.datetime.now().microsecond).zfill(6),
            "city": "Basra",
        }
        r = await par.send(P2, "POST", "/sub-partners", body, key=None)
        assert r.status_code == 409 and r.json()["error_code"] == "NETWORK_DEPTH"
        assert await api.count(Partner, Partner.phone == body["phone"]) == 0
    finally:
        async with api.db() as s:
            await s.execute(
                update(Partner)
                .where(Partner.id == p2.id)
                .values(parent_partner_id=p2.parent_partner_id, can_recruit=p2.can_recruit)
            )
            await s.commit()
