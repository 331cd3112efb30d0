"""ASO-03 service request detail, ASO-11 return detail, ASO-12 desk returns (window, override by
a branch manager only, returnable quantities, one open return per order)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from tests.bff.aso.conftest import BM1, SA1, SA2, TECH1, TECH2, branch_of, technician_of
from tests.http import Api
from tsh.domain.aftersales.models import OPEN_RETURN_STATUSES, Job, ReturnLine, ReturnRequest, ServiceRequest
from tsh.domain.sales.models import Order, OrderLine
from tsh.platform.db.base import utcnow


async def test_request_detail_composes_jobs_and_is_scoped(api: Api, aso: Api) -> None:
    tech = await technician_of(api, TECH1)
    async with api.db() as s:
        job = (
            await s.execute(select(Job).where(Job.technician_id == tech.id).order_by(Job.id).limit(1))
        ).scalar_one()
        sr = await s.get(ServiceRequest, job.service_request_id)
        assert sr is not None
        jobs = set(await s.scalars(select(Job.id).where(Job.service_request_id == sr.id)))
    d = await aso.data(SA1, f"/service-requests/{sr.id}")
    assert d["number"] == sr.number and d["status"] == sr.status and {j["id"] for j in d["jobs"]} == jobs
    assert d["timeline"][0]["event"] == "opened"
    assert (await aso.data(TECH1, f"/service-requests/{sr.id}"))["id"] == sr.id
    assert (await aso.get(TECH1, f"/service-requests/{sr.id}")).json()["metadata"]["cached"] is True
    r = await aso.get(SA2, f"/service-requests/{sr.id}")
    assert r.status_code == 404 and r.json()["error_code"] == "SERVICE_REQUEST_NOT_FOUND"
    async with api.db() as s:
        tech2 = await technician_of(api, TECH2)
        shared = await s.scalar(
            select(Job.id).where(Job.service_request_id == sr.id, Job.technician_id == tech2.id)
        )
    if shared is None:
        assert (await aso.get(TECH2, f"/service-requests/{sr.id}")).status_code == 404
    # A note invalidates the detail.
    r = await aso.send(SA1, "PATCH", f"/service-requests/{sr.id}", {"note": "Customer called again"})
    if sr.status in ("closed", "cancelled"):
        assert r.status_code == 409
    else:
        assert r.status_code == 200, r.text
        d = await aso.get(SA1, f"/service-requests/{sr.id}")
        assert d.json()["metadata"]["cached"] is False
        assert d.json()["data"]["notes"][-1]["text"] == "Customer called again"


async def _returnable_order(api: Api, branch: int, recent: bool) -> tuple[Order, OrderLine] | None:
    cutoff = utcnow() - dt.timedelta(days=14)
    async with api.db() as s:
        open_orders = select(ReturnRequest.order_id).where(ReturnRequest.status.in_(OPEN_RETURN_STATUSES))
        row = (
            await s.execute(
                select(Order, OrderLine)
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(
                    Order.branch_id == branch,
                    Order.status == "delivered",
                    Order.delivered_at > cutoff if recent else Order.delivered_at < cutoff,
                    OrderLine.qty_delivered - OrderLine.qty_returned >= 1,
                    Order.id.not_in(open_orders),
                )
                .order_by(Order.id.desc())
                .limit(1)
            )
        ).first()
    return (row[0], row[1]) if row else None


async def test_desk_return_rules_and_detail(api: Api, aso: Api) -> None:
    branch = await branch_of(api, SA1)
    picked = await _returnable_order(api, branch, recent=True)
    assert picked is not None, "the seed delivers recent orders in every branch"
    order, line = picked
    await aso.data(SA1, "/returns", limit=100)
    first: dict[str, Any] = {"order_line_id": line.id, "qty": 1, "reason": "defective", "condition": "opened"}
    base = {"order_id": order.id, "lines": [first]}
    before = await api.count(ReturnRequest)
    over = {**base, "lines": [{**first, "qty": line.qty_delivered - line.qty_returned + 1}]}
    r = await aso.send(SA1, "POST", "/returns", over)
    assert r.status_code == 409 and r.json()["error_code"] == "QTY_EXCEEDS_RETURNABLE"
    assert (await aso.send(SA2, "POST", "/returns", base)).status_code == 404
    assert await api.count(ReturnRequest) == before
    r = await aso.send(SA1, "POST", "/returns", base)
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    assert created["channel"] == "desk" and created["status"] == "requested"
    listed = await aso.get(SA1, "/returns", limit=100)
    assert listed.json()["metadata"]["cached"] is False
    async with api.db() as s:
        ln = (await s.execute(select(ReturnLine).where(ReturnLine.return_id == created["id"]))).scalar_one()
        assert (ln.qty, ln.condition) == (1, "opened")
    r = await aso.send(SA1, "POST", "/returns", base)
    assert r.status_code == 409 and r.json()["error_code"] == "RETURN_ALREADY_OPEN"

    d = await aso.data(SA1, f"/returns/{created['id']}")
    row = next(x for x in d["lines"] if x["order_line_id"] == line.id)
    assert (row["delivered"], row["returned"], row["requested"]) == (line.qty_delivered, line.qty_returned, 1)
    assert d["decision"] is None and d["refund"] is None
    assert (await aso.get(SA2, f"/returns/{created['id']}")).status_code == 404

    old = await _returnable_order(api, branch, recent=False)
    if old is not None:
        o, ol = old
        body = {
            "order_id": o.id,
            "lines": [{"order_line_id": ol.id, "qty": 1, "reason": "defective", "condition": "sealed"}],
        }
        r = await aso.send(SA1, "POST", "/returns", body)
        assert r.status_code == 409 and r.json()["error_code"] == "RETURN_WINDOW_EXPIRED"
        r = await aso.send(SA1, "POST", "/returns", {**body, "override_window": True})
        assert r.status_code == 403 and r.json()["error_code"] == "APPROVAL_REQUIRED"
        r = await aso.send(BM1, "POST", "/returns", {**body, "override_window": True})
        assert r.status_code == 201, r.text
