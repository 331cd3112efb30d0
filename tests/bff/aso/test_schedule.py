"""ASO-06: technician schedule per day (jobs, free slots, load), scope, range limit, invalidation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.bff.aso.conftest import SA1, TECH1, branch_of, free_slot, technician_of
from tests.http import Api
from tsh.domain.aftersales.models import Technician, Warranty
from tsh.domain.customers.models import Customer


async def test_schedule_shows_jobs_free_slots_and_load(api: Api, aso: Api) -> None:
    branch = await branch_of(api, SA1)
    tech = await technician_of(api, TECH1)
    start = await free_slot(api, tech, 40)
    day = start.date()
    params = {"from": day.isoformat(), "to": (day + dt.timedelta(days=1)).isoformat()}
    data = await aso.data(SA1, "/schedule", **params)
    async with api.db() as s:
        branch_techs = set(
            await s.scalars(
                select(Technician.id).where(Technician.branch_id == branch, Technician.is_active.is_(True))
            )
        )
        customer = await s.scalar(select(Customer.id).order_by(Customer.id).limit(1))
        product = await s.scalar(select(Warranty.product_id).order_by(Warranty.id).limit(1))
    assert {t["technician"]["id"] for t in data["technicians"]} == branch_techs
    mine = await aso.data(TECH1, "/schedule", **params)
    assert [t["technician"]["id"] for t in mine["technicians"]] == [tech.id]
    first = next(t for t in data["technicians"] if t["technician"]["id"] == tech.id)["days"][0]
    assert first["available"] is True and first["free_slots"]
    assert (await aso.get(SA1, "/schedule", **params)).json()["metadata"]["cached"] is True

    r = await aso.send(
        SA1,
        "POST",
        "/service-requests",
        {
            "customer_id": customer,
            "product_id": product,
            "type": "repair",
            "priority": "normal",
            "description": "Noisy fan",
        },
    )
    assert r.status_code == 201, r.text
    sr = r.json()["data"]
    r = await aso.send(
        SA1,
        "POST",
        f"/service-requests/{sr['id']}/jobs",
        {
            "technician_id": tech.id,
            "start": (start + dt.timedelta(hours=1)).isoformat(),
            "duration_min": 120,
            "kind": "workshop",
        },
    )
    assert r.status_code == 201, r.text
    job = r.json()["data"]
    after = await aso.get(SA1, "/schedule", **params)
    assert after.json()["metadata"]["cached"] is False
    d0 = next(t for t in after.json()["data"]["technicians"] if t["technician"]["id"] == tech.id)["days"][0]
    assert job["id"] in {j["id"] for j in d0["jobs"]}
    assert d0["booked_min"] == first["booked_min"] + 120
    job_start = dt.datetime.fromisoformat(job["start"])
    for slot in d0["free_slots"]:
        lo, hi = dt.datetime.fromisoformat(slot["start"]), dt.datetime.fromisoformat(slot["end"])
        assert hi <= job_start or lo >= job_start + dt.timedelta(minutes=120)


async def test_schedule_range_limit(aso: Api) -> None:
    today = dt.date.today()
    r = await aso.get(
        SA1, "/schedule", **{"from": today.isoformat(), "to": (today + dt.timedelta(days=14)).isoformat()}
    )
    assert r.status_code == 422 and r.json()["error_code"] == "RANGE_TOO_LONG"
    r = await aso.get(
        SA1, "/schedule", **{"from": today.isoformat(), "to": (today + dt.timedelta(days=13)).isoformat()}
    )
    assert r.status_code == 200
