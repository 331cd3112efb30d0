"""ASO-02/04/05/07/08/09/19: the service-request life cycle through HTTP, with scope, cache and
invalidation, and the rules' refusals leaving the database unchanged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.bff.aso.conftest import BM1, SA1, SA2, TECH1, TECH2, branch_of, free_slot, ids, technician_of
from tests.http import Api
from tsh.domain.aftersales.models import Job, PartCompatibleProduct, PartStock, ServiceRequest, Warranty
from tsh.domain.customers.models import Customer
from tsh.domain.sales.models.payments import Invoice


async def _all(aso: Api, email: str, **params: object) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        q = {"limit": 100, **params, **({"cursor": cursor} if cursor else {})}
        data = await aso.data(email, "/service-requests", **q)
        items += data["items"]
        cursor = data["next_cursor"]
        if not cursor:
            return items


async def test_list_is_the_branch_for_agents_and_own_jobs_for_technicians(api: Api, aso: Api) -> None:
    branch = await branch_of(api, SA1)
    rows = await _all(aso, SA1)
    async with api.db() as s:
        expected = set(await s.scalars(select(ServiceRequest.id).where(ServiceRequest.branch_id == branch)))
        tech = await technician_of(api, TECH1)
        own = set(
            await s.scalars(select(Job.service_request_id).where(Job.technician_id == tech.id).distinct())
        )
    assert ids(rows) == expected and expected
    assert ids(await _all(aso, TECH1)) == own and own
    overdue = await _all(aso, SA1, overdue_only="true")
    assert all(r["overdue"] for r in overdue)
    first = rows[0]
    assert {"number", "customer", "product", "sla_due_at", "technician", "next_job_at"} <= first.keys()
    r = await aso.get(SA1, "/service-requests", limit=100)
    assert r.json()["metadata"]["cached"] is True


async def _warranty_free_product(api: Api, branch: int) -> tuple[int, int]:
    """A customer and a serialised product for a carry-in request without a serial."""
    async with api.db() as s:
        customer = await s.scalar(select(Customer.id).order_by(Customer.id).limit(1))
        product = await s.scalar(select(Warranty.product_id).order_by(Warranty.id).limit(1))
    assert customer and product
    return customer, product


async def test_open_schedule_reserve_progress_and_complete(api: Api, aso: Api) -> None:
    branch = await branch_of(api, SA1)
    customer, product = await _warranty_free_product(api, branch)
    await aso.data(SA1, "/service-requests", limit=5)  # cache the list
    serial = f"T-{dt.datetime.now().timestamp():.0f}"
    body = {
        "customer_id": customer,
        "product_id": product,
        "serial_number": serial,
        "type": "repair",
        "priority": "urgent",
        "description": "No power after a storm",
    }
    r = await aso.send(SA1, "POST", "/service-requests", body)
    assert r.status_code == 201, r.text
    sr = r.json()["data"]
    assert sr["status"] == "new" and sr["priority"] == "urgent" and sr["serial_number"] == serial
    async with api.db() as s:
        row = await s.get(ServiceRequest, sr["id"])
        assert row is not None and row.branch_id == branch
        assert abs(row.sla_due_at - row.created_at - dt.timedelta(hours=24)) < dt.timedelta(seconds=5)
    listed = await aso.get(SA1, "/service-requests", limit=5)
    assert listed.json()["metadata"]["cached"] is False and sr["id"] in ids(listed.json()["data"]["items"])

    # A second open request for the serial is refused and nothing is added.
    before = await api.count(ServiceRequest)
    r = await aso.send(SA1, "POST", "/service-requests", body)
    assert r.status_code == 409 and r.json()["error_code"] == "DUPLICATE_OPEN_REQUEST"
    r = await aso.send(
        SA1, "POST", "/service-requests", {**body, "serial_number": None, "customer_id": 2**31 - 1}
    )
    assert r.status_code == 404 and r.json()["error_code"] == "CUSTOMER_NOT_FOUND"
    assert await api.count(ServiceRequest) == before

    # Other branches do not see it.
    assert (await aso.send(SA2, "PATCH", f"/service-requests/{sr['id']}", {"note": "x"})).status_code == 404

    # Schedule a workshop job for the branch's technician.
    tech = await technician_of(api, TECH1)
    assert tech.branch_id == branch
    start = await free_slot(api, tech, 20)
    job_body = {"technician_id": tech.id, "start": start.isoformat(), "duration_min": 60, "kind": "workshop"}
    r = await aso.send(SA1, "POST", f"/service-requests/{sr['id']}/jobs", job_body)
    assert r.status_code == 201, r.text
    job = r.json()["data"]
    assert job["status"] == "scheduled"
    # The same slot again overlaps.
    r = await aso.send(SA1, "POST", f"/service-requests/{sr['id']}/jobs", job_body)
    assert r.status_code == 409 and r.json()["error_code"] == "TECHNICIAN_UNAVAILABLE"
    assert await api.count(Job, Job.service_request_id == sr["id"]) == 1
    async with api.db() as s:
        assert (await s.get(ServiceRequest, sr["id"])).status == "scheduled"  # type: ignore[union-attr]

    # The technician now sees the request; another technician does not see the job.
    assert sr["id"] in ids((await aso.data(TECH1, "/service-requests", limit=100))["items"])
    r = await aso.send(
        TECH2,
        "PATCH",
        f"/jobs/{job['id']}",
        {"status": "on_site", "geo": {"lat": 33.3, "lng": 44.4, "accuracy_m": 5.0}},
    )
    assert r.status_code == 404
    # A technician may not move the job.
    r = await aso.send(TECH1, "PATCH", f"/jobs/{job['id']}", {"duration_min": 30})
    assert r.status_code == 403

    # Reserve a part that the branch holds.
    async with api.db() as s:
        part = (
            await s.execute(
                select(PartStock)
                .where(PartStock.branch_id == branch, PartStock.on_hand - PartStock.reserved >= 2)
                .order_by(PartStock.part_id)
                .limit(1)
            )
        ).scalar_one()
        on_hand, reserved = part.on_hand, part.reserved
    await aso.data(TECH1, "/parts", limit=5)
    r = await aso.send(
        TECH1, "POST", "/part-requests", {"job_id": job["id"], "lines": [{"part_id": part.part_id, "qty": 2}]}
    )
    assert r.status_code == 201, r.text
    r = await aso.send(
        TECH1,
        "POST",
        "/part-requests",
        {"job_id": job["id"], "lines": [{"part_id": part.part_id, "qty": 100_000}]},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "INSUFFICIENT_PARTS"
    async with api.db() as s:
        after = await s.get(PartStock, part.id)
        assert after is not None and (after.on_hand, after.reserved) == (on_hand, reserved + 2)

    # On site (workshop jobs may skip en_route), then complete using one of the two parts.
    r = await aso.send(
        TECH1,
        "PATCH",
        f"/jobs/{job['id']}",
        {"status": "on_site", "geo": {"lat": 33.3, "lng": 44.4, "accuracy_m": 5.0}},
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "on_site", r.text
    completion = {
        "outcome": "fixed",
        "resolution": "Replaced the fuse",
        "labour_min": 45,
        "parts": [{"part_id": part.part_id, "qty": 3}],
    }
    r = await aso.send(TECH1, "POST", f"/jobs/{job['id']}/completion", completion)
    assert r.status_code == 409 and r.json()["error_code"] == "PARTS_NOT_RESERVED"
    invoices = await api.count(Invoice)
    completion["parts"] = [{"part_id": part.part_id, "qty": 1}]
    completion["charge"] = {"amount": "25000", "currency": "IQD"}
    r = await aso.send(TECH1, "POST", f"/jobs/{job['id']}/completion", completion)
    assert r.status_code == 200, r.text
    done = r.json()["data"]
    assert done["status"] == "completed" and done["invoice_id"] and done["charge"]["amount"] == "25000.00"
    assert await api.count(Invoice) == invoices + 1
    async with api.db() as s:
        after = await s.get(PartStock, part.id)
        assert after is not None and (after.on_hand, after.reserved) == (on_hand - 1, reserved)
        assert (await s.get(ServiceRequest, sr["id"])).status == "completed"  # type: ignore[union-attr]

    # Completed: it can be closed, no longer cancelled.
    r = await aso.send(BM1, "PATCH", f"/service-requests/{sr['id']}", {"status": "cancelled"})
    assert r.status_code == 409 and r.json()["error_code"] == "INVALID_TRANSITION"
    r = await aso.send(
        BM1, "PATCH", f"/service-requests/{sr['id']}", {"status": "closed", "reason": "Collected"}
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "closed"


async def test_cancel_releases_reserved_parts_and_close_needs_completion(api: Api, aso: Api) -> None:
    branch = await branch_of(api, SA1)
    customer, product = await _warranty_free_product(api, branch)
    r = await aso.send(
        SA1,
        "POST",
        "/service-requests",
        {
            "customer_id": customer,
            "product_id": product,
            "type": "maintenance",
            "priority": "low",
            "description": "Yearly service",
        },
    )
    assert r.status_code == 201, r.text
    sr = r.json()["data"]
    r = await aso.send(SA1, "PATCH", f"/service-requests/{sr['id']}", {"status": "closed"})
    assert r.status_code == 409 and r.json()["error_code"] == "INVALID_TRANSITION"
    tech = await technician_of(api, TECH1)
    start = await free_slot(api, tech, 24)
    r = await aso.send(
        SA1,
        "POST",
        f"/service-requests/{sr['id']}/jobs",
        {"technician_id": tech.id, "start": start.isoformat(), "duration_min": 45, "kind": "workshop"},
    )
    assert r.status_code == 201, r.text
    job = r.json()["data"]
    async with api.db() as s:
        stock = (
            await s.execute(
                select(PartStock)
                .where(PartStock.branch_id == branch, PartStock.on_hand - PartStock.reserved >= 1)
                .order_by(PartStock.part_id.desc())
                .limit(1)
            )
        ).scalar_one()
        reserved = stock.reserved
    r = await aso.send(
        SA1, "POST", "/part-requests", {"job_id": job["id"], "lines": [{"part_id": stock.part_id, "qty": 1}]}
    )
    assert r.status_code == 201, r.text
    r = await aso.send(
        SA1, "PATCH", f"/service-requests/{sr['id']}", {"status": "cancelled", "reason": "Customer declined"}
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"
    async with api.db() as s:
        assert (await s.get(PartStock, stock.id)).reserved == reserved  # type: ignore[union-attr]
        assert (await s.get(Job, job["id"])).status == "cancelled"  # type: ignore[union-attr]
    r = await aso.send(
        SA1, "POST", "/part-requests", {"job_id": job["id"], "lines": [{"part_id": stock.part_id, "qty": 1}]}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "JOB_CLOSED"


async def test_parts_show_branch_stock_and_other_holders(api: Api, aso: Api) -> None:
    branch = await branch_of(api, SA1)
    data = await aso.data(SA1, "/parts", limit=100)
    assert data["items"]
    async with api.db() as s:
        for row in data["items"][:5]:
            st = await s.scalar(
                select(PartStock).where(PartStock.part_id == row["id"], PartStock.branch_id == branch)
            )
            assert row["on_hand"] == (st.on_hand if st else 0)
            assert row["available"] == row["on_hand"] - row["reserved"]
            others = await s.scalar(
                select(func.count()).where(
                    PartStock.part_id == row["id"],
                    PartStock.branch_id != branch,
                    PartStock.on_hand - PartStock.reserved > 0,
                )
            )
            assert len(row["other_branches"]) == others
        pcp = (await s.execute(select(PartCompatibleProduct).limit(1))).scalar_one()
    fits = await aso.data(SA1, "/parts", product_id=pcp.product_id, limit=100)
    assert pcp.part_id in ids(fits["items"])
    assert (await aso.get(SA1, "/parts", limit=100)).json()["metadata"]["cached"] is True
