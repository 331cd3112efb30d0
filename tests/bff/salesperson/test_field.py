"""SAL-04 registering customers, SAL-05/06 routes, SAL-07/08 visits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from tests.bff.salesperson.conftest import BM1, SHOP, SP1, SP2, Api
from tsh.domain.customers.models import Customer
from tsh.domain.sales.models import Visit
from tsh.domain.shared import business_today


async def _count(api: Api, model: Any, *where: Any) -> int:
    async with api.db() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_register_customer(api: Api) -> None:
    await api.get(SP1, "/customers")
    created = await api.new_customer()
    cid = created["profile"]["id"]
    async with api.db() as s:
        row = await s.get(Customer, cid)
        assert row is not None and row.salesperson_id == await api.user_id(SP1)
        assert row.credit_limit == 0 and row.price_list_id == created["price_list"]["id"]
    listed = await api.get(SP1, "/customers", q=created["phone"])
    assert listed.json()["metadata"]["cached"] is False
    assert [c["id"] for c in listed.json()["data"]["items"]] == [cid]
    body = {
        "name": "Dup",
        "shop_name": "Dup",
        "phone": created["phone"],
        "city": "Baghdad",
        "address": "x",
        "geo": SHOP,
    }
    before = await _count(api, Customer)
    mine = await api.send(SP1, "POST", "/customers", body, key=None)
    assert mine.status_code == 409 and mine.json()["error_code"] == "DUPLICATE_PHONE"
    assert mine.json()["details"][0]["existing_customer_id"] == cid
    theirs = await api.send(SP2, "POST", "/customers", body, key=None)
    assert theirs.status_code == 409 and "existing_customer_id" not in theirs.json()["details"][0]
    for bad in (
        body | {"phone": "abc"},
        body | {"name": "x" * 201},
        body | {"extra": True},
        {k: v for k, v in body.items() if k != "geo"},
        body | {"geo": {"lat": 91, "lng": 0, "accuracy_m": 1}},
    ):
        r = await api.send(SP1, "POST", "/customers", bad, key=None)
        assert r.status_code == 422, r.text
    assert await _count(api, Customer) == before
    by_manager = await api.new_customer(BM1, salesperson_id=await api.user_id(SP1))
    assert by_manager["profile"]["id"] != cid
    r = await api.send(BM1, "POST", "/customers", body | {"salesperson_id": await api.user_id(SP2)}, key=None)
    assert r.status_code == 404


async def test_replan_route(api: Api) -> None:
    sp1 = await api.user_id(SP1)
    day = (business_today() + dt.timedelta(days=3)).isoformat()
    a, b = (await api.new_customer())["profile"]["id"], (await api.new_customer())["profile"]["id"]
    await api.get(SP1, "/route", date=day)
    r = await api.send(SP1, "PUT", "/route", {"date": day, "stops": [{"customer_id": b}, {"customer_id": a}]})
    assert r.status_code == 200, r.text
    route = await api.get(SP1, "/route", date=day)
    assert route.json()["metadata"]["cached"] is False
    assert [s["customer"]["id"] for s in route.json()["data"]["stops"]] == [b, a]
    assert route.json()["data"]["stops"][1]["distance_from_previous_m"] == 0
    async with api.db() as s:
        stored = list(
            (
                await s.execute(
                    select(Visit.customer_id)
                    .where(Visit.salesperson_id == sp1, Visit.date == dt.date.fromisoformat(day))
                    .order_by(Visit.sequence)
                )
            ).scalars()
        )
    assert stored == [b, a]
    managed = await api.send(
        BM1, "PUT", "/route", {"date": day, "stops": [{"customer_id": a}], "salesperson_id": sp1}
    )
    assert managed.status_code == 200 and [s["customer"]["id"] for s in managed.json()["data"]["stops"]] == [
        a
    ]
    past = (business_today() - dt.timedelta(days=1)).isoformat()
    before = await _count(api, Visit, Visit.salesperson_id == sp1)
    cases = [
        ({"date": past, "stops": [{"customer_id": a}]}, 422, "DATE_IN_PAST"),
        ({"date": day, "stops": [{"customer_id": a}] * 41}, 422, "TOO_MANY_STOPS"),
        (
            {"date": day, "stops": [{"customer_id": (await api.new_customer(SP2))["profile"]["id"]}]},
            404,
            None,
        ),
        ({"date": day, "stops": [{"customer_id": a, "extra": 1}]}, 422, "VALIDATION_ERROR"),
    ]
    for body, status, code in cases:
        r = await api.send(SP1, "PUT", "/route", body)
        assert r.status_code == status, r.text
        assert code is None or r.json()["error_code"] == code
    assert await _count(api, Visit, Visit.salesperson_id == sp1) == before


async def test_check_in_and_out(api: Api) -> None:
    customer = (await api.new_customer())["profile"]["id"]
    now = dt.datetime.now(dt.UTC).isoformat()
    today = business_today().isoformat()
    await api.get(SP1, "/route", date=today)
    low = {"customer_id": customer, "geo": SHOP | {"accuracy_m": 150}, "device_time": now}
    r = await api.send(SP1, "POST", "/visits", low)
    assert r.status_code == 422 and r.json()["error_code"] == "LOW_GPS_ACCURACY"
    near = {"customer_id": customer, "geo": SHOP | {"lat": SHOP["lat"] + 0.0005}, "device_time": now}
    r = await api.send(SP1, "POST", "/visits", near)
    assert r.status_code == 201, r.text
    visit = r.json()["data"]
    assert visit["status"] == "checked_in" and visit["verified"] is True and 40 < visit["distance_m"] < 70
    route = await api.get(SP1, "/route", date=today)
    assert route.json()["metadata"]["cached"] is False
    assert visit["id"] in [s["visit_id"] for s in route.json()["data"]["stops"]]
    again = await api.send(SP1, "POST", "/visits", near)
    assert again.status_code == 409 and again.json()["error_code"] == "VISIT_IN_PROGRESS"
    out = {"geo": SHOP, "device_time": now, "outcome": "no_order", "notes": "closed early"}
    assert (await api.send(SP2, "POST", f"/visits/{visit['id']}/check-out", out)).status_code == 404
    assert (
        await api.send(SP1, "POST", f"/visits/{visit['id']}/check-out", out | {"outcome": "x"})
    ).status_code == 422
    r = await api.send(SP1, "POST", f"/visits/{visit['id']}/check-out", out)
    assert r.status_code == 200 and r.json()["data"]["status"] == "completed"
    r = await api.send(SP1, "POST", f"/visits/{visit['id']}/check-out", out)
    assert r.status_code == 409 and r.json()["error_code"] == "VISIT_NOT_OPEN"
    far = {"customer_id": customer, "geo": SHOP | {"lat": SHOP["lat"] + 0.01}, "device_time": now}
    r = await api.send(SP1, "POST", "/visits", far)
    assert r.status_code == 201 and r.json()["data"]["verified"] is False
    await api.send(SP1, "POST", f"/visits/{r.json()['data']['id']}/check-out", out)
    other = (await api.new_customer(SP2))["profile"]["id"]
    assert (await api.send(SP1, "POST", "/visits", near | {"customer_id": other})).status_code == 404
