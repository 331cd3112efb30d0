"""HR-11 list, HR-12 request, HR-13 decide / cancel, HR-14 balances: working days, balances that
never go negative, overlaps refused (also concurrently), scope and cache."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from tests.bff.hr.conftest import BM1, BM2, EMP1, HR1, cached, employee_of, new_staff
from tests.http import Api
from tsh.domain.hr.leave import leave_days
from tsh.domain.hr.models import Employee, LeaveBalance, LeaveRequest
from tsh.domain.shared import business_today


def _window(offset: int, length: int) -> tuple[dt.date, dt.date]:
    """A future range inside the current year (balances are yearly)."""
    today = business_today()
    start = today + dt.timedelta(days=offset)
    if start.year != today.year or (start + dt.timedelta(days=length)).year != today.year:
        start = dt.date(today.year + 1, 1, 10) + dt.timedelta(days=offset % 20)
    return start, start + dt.timedelta(days=length)


async def _balance(hr: Api, eid: int, year: int, type_: str = "annual") -> LeaveBalance | None:
    async with hr.db() as s:
        return await s.scalar(
            select(LeaveBalance).where(
                LeaveBalance.employee_id == eid, LeaveBalance.year == year, LeaveBalance.type == type_
            )
        )


async def _working_days(hr: Api, eid: int, a: dt.date, b: dt.date) -> Decimal:
    async with hr.db() as s:
        e = await s.get(Employee, eid)
        assert e is not None
        return await leave_days(s, employee=e, from_date=a, to_date=b)


async def test_request_counts_working_days_and_books_pending(hr: Api) -> None:
    email, eid = await new_staff(hr)
    a, b = _window(20, 6)
    r = await hr.send(
        email, "POST", "/leave-requests", {"type": "annual", "from": str(a), "to": str(b), "reason": "Family"}
    )
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    days = await _working_days(hr, eid, a, b)
    assert Decimal(data["days"]) == days < 7 and data["status"] == "pending"
    bal = await _balance(hr, eid, a.year)
    assert bal is not None and bal.pending == days and bal.taken == 0
    balances = await hr.data(email, "/leave-balances", year=a.year)
    [annual] = [x for x in balances["balances"] if x["type"] == "annual"]
    assert Decimal(annual["remaining"]) == bal.entitled + bal.carried_over - days


async def test_request_refusals_change_nothing(hr: Api) -> None:
    email, eid = await new_staff(hr, annual_leave_days=2)
    a, b = _window(30, 4)
    assert (
        await hr.send(email, "POST", "/leave-requests", {"type": "annual", "from": str(a), "to": str(a)})
    ).status_code == 201
    before = await hr.count(LeaveRequest, LeaveRequest.employee_id == eid)
    cases = [
        ({"type": "annual", "from": str(a), "to": str(a + dt.timedelta(days=1))}, 409, "OVERLAPPING_LEAVE"),
        (
            {"type": "annual", "from": str(b), "to": str(b + dt.timedelta(days=6))},
            409,
            "INSUFFICIENT_LEAVE_BALANCE",
        ),
        ({"type": "annual", "from": str(b), "to": str(a)}, 422, "INVALID_DATES"),
        ({"type": "sick", "from": str(b), "to": str(b + dt.timedelta(days=6))}, 422, "MEDICAL_NOTE_REQUIRED"),
        ({"type": "holiday", "from": str(b), "to": str(b)}, 422, None),
        ({"type": "sick", "from": str(b), "to": str(b), "media_id": 2_000_000}, 422, None),
        ({"type": "annual", "from": str(b), "to": str(b), "extra": True}, 422, None),
    ]
    for body, status, code in cases:
        r = await hr.send(email, "POST", "/leave-requests", body)
        assert r.status_code == status, (body, r.text)
        if code:
            assert r.json()["error_code"] == code
    assert await hr.count(LeaveRequest, LeaveRequest.employee_id == eid) == before
    bal = await _balance(hr, eid, a.year)
    assert bal is not None and bal.pending <= bal.entitled
    # Unpaid leave is never limited by a balance.
    r = await hr.send(
        email,
        "POST",
        "/leave-requests",
        {"type": "unpaid", "from": str(b), "to": str(b + dt.timedelta(days=6))},
    )
    assert r.status_code == 201, r.text


async def test_approval_moves_pending_to_taken_and_cancel_gives_back(hr: Api) -> None:
    email, eid = await new_staff(hr)
    a, b = _window(40, 3)
    r = await hr.send(email, "POST", "/leave-requests", {"type": "annual", "from": str(a), "to": str(b)})
    lr = r.json()["data"]
    days = Decimal(lr["days"])
    assert (
        await hr.send(email, "PUT", f"/leave-requests/{lr['id']}/status", {"status": "approved"})
    ).status_code == 403
    r = await hr.send(BM2, "PUT", f"/leave-requests/{lr['id']}/status", {"status": "approved"})
    assert r.status_code == 404 and r.json()["error_code"] == "LEAVE_REQUEST_NOT_FOUND"
    await cached(hr, email, "/leave-requests")
    r = await hr.send(
        BM1, "PUT", f"/leave-requests/{lr['id']}/status", {"status": "approved", "note": "Enjoy"}
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["status"] == "approved" and data["decided_by"]["id"] == await hr.user_id(BM1)
    bal = await _balance(hr, eid, a.year)
    assert bal is not None and bal.pending == 0 and bal.taken == days
    listed, hit = await cached(hr, email, "/leave-requests")
    assert not hit and [x["status"] for x in listed["items"] if x["id"] == lr["id"]] == ["approved"]
    r = await hr.send(HR1, "PUT", f"/leave-requests/{lr['id']}/status", {"status": "rejected"})
    assert r.status_code == 409 and r.json()["error_code"] == "NOT_PENDING"
    r = await hr.send(BM1, "PUT", f"/leave-requests/{lr['id']}/status", {"status": "cancelled"})
    assert r.status_code == 404  # only the requester cancels
    r = await hr.send(email, "PUT", f"/leave-requests/{lr['id']}/status", {"status": "cancelled"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"
    bal = await _balance(hr, eid, a.year)
    assert bal is not None and bal.taken == 0 and bal.pending == 0
    r = await hr.send(email, "PUT", f"/leave-requests/{lr['id']}/status", {"status": "cancelled"})
    assert r.status_code == 409 and r.json()["error_code"] == "INVALID_STATE"


async def test_self_approval_and_started_leave(hr: Api) -> None:
    # A manager cannot decide their own request.
    bm_email, _ = await new_staff(hr, role="branch_manager")
    a, _ = _window(50, 1)
    lr = (
        await hr.send(bm_email, "POST", "/leave-requests", {"type": "annual", "from": str(a), "to": str(a)})
    ).json()["data"]
    r = await hr.send(bm_email, "PUT", f"/leave-requests/{lr['id']}/status", {"status": "approved"})
    assert r.status_code == 403 and r.json()["error_code"] == "SELF_APPROVAL"
    # Sick leave may be reported after the fact; once started it cannot be cancelled.
    email, _ = await new_staff(hr)
    yesterday = business_today() - dt.timedelta(days=1)
    r = await hr.send(
        email, "POST", "/leave-requests", {"type": "sick", "from": str(yesterday), "to": str(yesterday)}
    )
    assert r.status_code in (201, 422), r.text  # 422 when yesterday was not a working day
    if r.status_code == 201:
        sick = r.json()["data"]
        r = await hr.send(email, "PUT", f"/leave-requests/{sick['id']}/status", {"status": "cancelled"})
        assert r.status_code == 409 and r.json()["error_code"] == "LEAVE_STARTED"


async def test_lists_and_balances_stay_in_scope(hr: Api) -> None:
    email, eid = await new_staff(hr)
    mine = await hr.data(email, "/leave-requests", limit=100)
    assert all(x["employee"]["id"] == eid for x in mine["items"])
    bm = await employee_of(hr, BM1)
    branch = await hr.data(BM1, "/leave-requests", limit=100)
    async with hr.db() as s:
        branch_ids = set(await s.scalars(select(Employee.id).where(Employee.branch_id == bm.branch_id)))
    assert branch["items"] and {x["employee"]["id"] for x in branch["items"]} <= branch_ids
    other = await employee_of(hr, EMP1)
    r = await hr.get(email, "/leave-balances", employee_id=other.id)
    assert r.status_code == 404 and r.json()["error_code"] == "EMPLOYEE_NOT_FOUND"
    assert (await hr.get(BM2, "/leave-balances", employee_id=other.id)).status_code == 404
    assert (await hr.data(BM1, "/leave-balances", employee_id=other.id))["employee"]["id"] == other.id


async def test_concurrent_overlapping_requests_book_once(hr: Api) -> None:
    email, eid = await new_staff(hr, annual_leave_days=3)
    a, b = _window(60, 2)
    days = await _working_days(hr, eid, a, b)
    body = {"type": "annual", "from": str(a), "to": str(b)}
    results = await asyncio.gather(*(hr.send(email, "POST", "/leave-requests", body) for _ in range(4)))
    assert sorted(r.status_code for r in results).count(201) == 1, [r.text for r in results]
    assert {r.json().get("error_code") for r in results if r.status_code != 201} <= {
        "OVERLAPPING_LEAVE",
        "INSUFFICIENT_LEAVE_BALANCE",
    }
    bal = await _balance(hr, eid, a.year)
    assert bal is not None and bal.pending == days and bal.entitled - bal.pending - bal.taken >= 0
