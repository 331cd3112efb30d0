"""ASO-01 dashboard (branch figures, a technician's own only, invalidation) and ASO-20 performance
report (figures against the database, range limit)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.bff.aso.conftest import BM1, SA1, TECH1, branch_of, technician_of
from tests.http import Api
from tsh.domain.aftersales.models import Job, ReturnRequest, ServiceRequest, Warranty
from tsh.domain.aftersales.service_requests import OPEN_STATUSES
from tsh.domain.customers.models import Customer
from tsh.domain.shared import business_today, day_start_utc


async def test_dashboard_branch_and_technician(api: Api, aso: Api) -> None:
    branch = await branch_of(api, SA1)
    d = await aso.data(SA1, "/dashboard")
    async with api.db() as s:
        open_n = await s.scalar(
            select(func.count()).where(
                ServiceRequest.branch_id == branch, ServiceRequest.status.in_(OPEN_STATUSES)
            )
        )
        awaiting = await s.scalar(
            select(func.count()).where(ReturnRequest.branch_id == branch, ReturnRequest.status == "requested")
        )
        customer = await s.scalar(select(Customer.id).order_by(Customer.id).limit(1))
        product = await s.scalar(select(Warranty.product_id).order_by(Warranty.id).limit(1))
        tech = await technician_of(api, TECH1)
        today = business_today()
        mine_today = await s.scalar(
            select(func.count()).where(
                Job.technician_id == tech.id,
                Job.status != "cancelled",
                Job.start >= day_start_utc(today),
                Job.start < day_start_utc(today + dt.timedelta(days=1)),
            )
        )
    assert d["open_requests"]["total"] == open_n
    assert sum(x["count"] for x in d["open_requests"]["by_status"]) == open_n
    assert d["returns_awaiting_decision"] == awaiting
    assert d["parts_below_reorder"] is not None and d["warranties_expiring_30d"] is not None
    t = await aso.data(TECH1, "/dashboard")
    assert t["returns_awaiting_decision"] is None and t["refunds_this_week"] is None
    assert [x["technician"]["id"] for x in t["todays_jobs"]] in ([tech.id], [])
    assert sum(x["jobs"] for x in t["todays_jobs"]) == mine_today
    assert (await aso.get(SA1, "/dashboard")).json()["metadata"]["cached"] is True
    r = await aso.send(
        SA1,
        "POST",
        "/service-requests",
        {
            "customer_id": customer,
            "product_id": product,
            "type": "installation",
            "priority": "high",
            "description": "New unit",
        },
    )
    assert r.status_code == 201, r.text
    after = await aso.get(SA1, "/dashboard")
    assert after.json()["metadata"]["cached"] is False
    assert after.json()["data"]["open_requests"]["total"] == (open_n or 0) + 1


async def test_performance_report(api: Api, aso: Api) -> None:
    branch = await branch_of(api, SA1)
    today = business_today()
    start = today - dt.timedelta(days=60)
    params = {"from": start.isoformat(), "to": today.isoformat()}
    rep = await aso.data(BM1, "/reports/performance", **params)
    async with api.db() as s:
        opened = await s.scalar(
            select(func.count()).where(
                ServiceRequest.branch_id == branch,
                ServiceRequest.created_at >= day_start_utc(start),
                ServiceRequest.created_at < day_start_utc(today + dt.timedelta(days=1)),
            )
        )
    assert rep["requests_opened"] == opened
    assert rep["requests_resolved"] == sum(g["resolved"] for g in rep["groups"])
    if rep["requests_resolved"]:
        assert 0 <= rep["sla_met_pct"] <= 100 and 0 <= rep["first_time_fix_pct"] <= 100
    by_type = await aso.data(BM1, "/reports/performance", group_by="type", **params)
    assert {g["key"] for g in by_type["groups"]} <= {
        "repair",
        "installation",
        "maintenance",
        "warranty_repair",
    }
    assert (await aso.get(BM1, "/reports/performance", **params)).json()["metadata"]["cached"] is True
    r = await aso.get(
        SA1,
        "/reports/performance",
        **{"from": (today - dt.timedelta(days=366)).isoformat(), "to": today.isoformat()},
    )
    assert r.status_code == 422 and r.json()["error_code"] == "RANGE_TOO_LONG"
    assert (await aso.get(TECH1, "/reports/performance", **params)).status_code == 403
