"""HR-07 check in/out, HR-08 records with derived absences, HR-09 today's board, HR-10 corrections."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from tests.bff.hr.conftest import BM1, BM2, EMP1, HR1, branch_of, cached, employee_of, new_staff
from tests.http import Api
from tsh.domain.hr.models import AttendanceRecord, PayrollRun
from tsh.domain.shared import business_today


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _at(branch: Any, north_m: float = 0, accuracy: float = 10) -> dict[str, float]:
    return {"lat": branch.lat + north_m / 111_000, "lng": branch.lng, "accuracy_m": accuracy}


async def _records(hr: Api, employee_id: int) -> list[AttendanceRecord]:
    async with hr.db() as s:
        return list(
            await s.scalars(select(AttendanceRecord).where(AttendanceRecord.employee_id == employee_id))
        )


async def test_check_in_and_out(hr: Api) -> None:
    email, eid = await new_staff(hr)
    branch = await branch_of(hr, eid)
    await cached(hr, email, "/me")
    r = await hr.send(
        email, "POST", "/attendance", {"type": "check_in", "geo": _at(branch, 20), "device_time": _now()}
    )
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["status"] in ("present", "late") and data["check_in_distance_m"] is not None
    [rec] = await _records(hr, eid)
    assert rec.date == business_today() and rec.check_in_at is not None and rec.flags == []
    assert rec.status == ("late" if rec.late_min > 0 else "present")
    me, hit = await cached(hr, email, "/me")
    assert not hit and me["today"]["state"] == rec.status and me["today"]["geofence"]["inside"] is True
    r = await hr.send(
        email, "POST", "/attendance", {"type": "check_in", "geo": _at(branch), "device_time": _now()}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_CHECKED_IN"
    r = await hr.send(
        email, "POST", "/attendance", {"type": "check_out", "geo": _at(branch), "device_time": _now()}
    )
    assert r.status_code == 201, r.text
    [rec] = await _records(hr, eid)
    assert rec.check_out_at is not None and rec.worked_min >= 0
    r = await hr.send(
        email, "POST", "/attendance", {"type": "check_out", "geo": _at(branch), "device_time": _now()}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "NOT_CHECKED_IN"
    assert (
        await hr.send(
            HR1, "POST", "/attendance", {"type": "check_in", "geo": _at(branch), "device_time": _now()}
        )
    ).status_code in (201, 409, 422)


async def test_geofence_accuracy_and_clock_skew(hr: Api) -> None:
    email, eid = await new_staff(hr)
    branch = await branch_of(hr, eid)
    far = _at(branch, branch.geofence_radius_m + 500)
    r = await hr.send(
        email, "POST", "/attendance", {"type": "check_out", "geo": _at(branch), "device_time": _now()}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "NOT_CHECKED_IN"
    r = await hr.send(email, "POST", "/attendance", {"type": "check_in", "geo": far, "device_time": _now()})
    assert r.status_code == 422 and r.json()["error_code"] == "OUTSIDE_GEOFENCE"
    r = await hr.send(
        email, "POST", "/attendance", {"type": "check_in", "geo": _at(branch, 0, 150), "device_time": _now()}
    )
    assert r.status_code == 422 and r.json()["error_code"] == "LOW_GPS_ACCURACY"
    for bad in (
        {"type": "check_in", "geo": _at(branch), "device_time": "2026-01-01T10:00:00"},  # no offset
        {"type": "lunch", "geo": _at(branch), "device_time": _now()},
        {
            "type": "check_in",
            "geo": _at(branch),
            "device_time": _now(),
            "media_id": 2_000_000,
        },  # not an upload
        {"type": "check_in", "geo": {"lat": 95, "lng": 0, "accuracy_m": 5}, "device_time": _now()},
    ):
        assert (await hr.send(email, "POST", "/attendance", bad)).status_code == 422, bad
    assert await _records(hr, eid) == []
    # Field staff outside the fence are recorded and flagged, not refused; a skewed clock is flagged.
    field_email, field_id = await new_staff(hr, role="salesperson", field_staff=True)
    skewed = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)).isoformat()
    r = await hr.send(
        field_email, "POST", "/attendance", {"type": "check_in", "geo": far, "device_time": skewed}
    )
    assert r.status_code == 201, r.text
    [rec] = await _records(hr, field_id)
    assert (
        sorted(rec.flags) == ["clock_skew", "off_site"] and rec.check_in_distance_m > branch.geofence_radius_m
    )


async def test_records_derive_absences_and_stay_in_scope(hr: Api) -> None:
    today = business_today()
    hired = today - dt.timedelta(days=10)
    email, eid = await new_staff(hr, hire_date=hired)
    data = await hr.data(email, "/attendance", **{"from": str(hired), "to": str(today), "limit": 100})
    assert {r["employee"]["id"] for r in data["items"]} == {eid}
    absent_days = [r["date"] for r in data["items"] if r["status"] == "absent"]
    async with hr.db() as s:
        from tsh.domain.hr.leave import leave_days
        from tsh.domain.hr.models import Employee

        e = await s.get(Employee, eid)
        assert e is not None
        expected = await leave_days(s, employee=e, from_date=hired, to_date=today - dt.timedelta(days=1))
    assert len(absent_days) == expected > 0
    [summary] = data["summary"]
    assert summary["absences"] == expected and summary["days_present"] == 0
    # Only own records for an employee, even when asking for another one.
    other = await employee_of(hr, EMP1)
    mine = await hr.data(
        email, "/attendance", **{"from": str(hired), "to": str(today), "employee_id": other.id}
    )
    assert mine["items"] == [] and mine["summary"] == []
    r = await hr.get(email, "/attendance", **{"from": str(today - dt.timedelta(days=93)), "to": str(today)})
    assert r.status_code == 422 and r.json()["error_code"] == "RANGE_TOO_LONG"
    r = await hr.get(email, "/attendance", **{"from": str(today), "to": str(today - dt.timedelta(days=1))})
    assert r.status_code == 422
    # Paging walks every row once.
    page1 = await hr.data(
        BM1, "/attendance", **{"from": str(today - dt.timedelta(days=6)), "to": str(today), "limit": 7}
    )
    rows, cursor = list(page1["items"]), page1["next_cursor"]
    while cursor:
        nxt = await hr.data(
            BM1,
            "/attendance",
            **{"from": str(today - dt.timedelta(days=6)), "to": str(today), "limit": 7, "cursor": cursor},
        )
        assert nxt["summary"] is None
        rows += nxt["items"]
        cursor = nxt["next_cursor"]
    keys = [(r["date"], r["employee"]["id"]) for r in rows]
    assert len(keys) == len(set(keys))
    # The same rows, in the same order, whatever the page size; newest day first.
    window = {"from": str(today - dt.timedelta(days=6)), "to": str(today)}
    big = await hr.data(BM1, "/attendance", **window, limit=100)
    bigger, cursor = list(big["items"]), big["next_cursor"]
    while cursor:
        nxt = await hr.data(BM1, "/attendance", **window, limit=100, cursor=cursor)
        bigger += nxt["items"]
        cursor = nxt["next_cursor"]
    assert [(r["date"], r["employee"]["id"]) for r in bigger] == keys
    assert [d for d, _ in keys] == sorted((d for d, _ in keys), reverse=True)


async def test_today_board_counts_and_invalidation(hr: Api) -> None:
    email, eid = await new_staff(hr)
    branch = await branch_of(hr, eid)
    first, _ = await cached(hr, BM1, "/attendance/today", limit=100)
    assert sum(first["counts"].values()) >= len(first["items"])
    _, hit = await cached(hr, BM1, "/attendance/today", limit=100)
    assert hit
    mine = [r for r in first["items"] if r["employee"]["id"] == eid]
    assert [r["state"] for r in mine] in (["not_in"], ["off"])
    r = await hr.send(
        email, "POST", "/attendance", {"type": "check_in", "geo": _at(branch), "device_time": _now()}
    )
    assert r.status_code == 201
    after, hit = await cached(hr, BM1, "/attendance/today", limit=100)
    assert not hit
    [row] = [r for r in after["items"] if r["employee"]["id"] == eid]
    assert row["state"] in ("present", "late") and row["distance_m"] is not None
    assert (
        after["counts"]["present"] + after["counts"]["late"]
        == first["counts"]["present"] + first["counts"]["late"] + 1
    )
    other = await hr.data(BM2, "/attendance/today", limit=100)
    assert eid not in [r["employee"]["id"] for r in other["items"]]
    assert (await hr.get(EMP1, "/attendance/today")).status_code == 403


async def test_corrections(hr: Api) -> None:
    email, eid = await new_staff(hr)
    day = business_today() - dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(8, 30), dt.timezone(dt.timedelta(hours=3)))
    body = {
        "employee_id": eid,
        "date": str(day),
        "check_in_at": start.isoformat(),
        "check_out_at": (start + dt.timedelta(hours=9)).isoformat(),
        "reason": "Forgot to check in",
    }
    r = await hr.send(BM2, "POST", "/attendance/corrections", body)
    assert r.status_code == 404 and r.json()["error_code"] == "EMPLOYEE_NOT_FOUND"
    assert (await hr.send(email, "POST", "/attendance/corrections", body)).status_code == 403
    r = await hr.send(BM1, "POST", "/attendance/corrections", {**body, "reason": ""})
    assert r.status_code == 422
    assert await _records(hr, eid) == []
    r = await hr.send(BM1, "POST", "/attendance/corrections", body)
    assert r.status_code == 200, r.text
    [rec] = await _records(hr, eid)
    assert (
        rec.late_min == 30
        and rec.status == "late"
        and rec.overtime_min == 90
        and rec.correction_reason == "Forgot to check in"
    )
    bm = await employee_of(hr, BM1)
    r = await hr.send(
        HR1, "POST", "/attendance/corrections", {**body, "employee_id": (await employee_of(hr, HR1)).id}
    )
    assert r.status_code == 403 and r.json()["error_code"] == "SELF_CORRECTION"
    async with hr.db() as s:
        locked = await s.scalar(
            select(PayrollRun)
            .where(PayrollRun.status == "paid", PayrollRun.branch_id.is_(None))
            .order_by(PayrollRun.id.desc())
            .limit(1)
        )
    assert locked is not None
    old = dt.date(locked.year, locked.month, 10)
    r = await hr.send(
        HR1,
        "POST",
        "/attendance/corrections",
        {"employee_id": bm.id, "date": str(old), "status": "present", "reason": "Late fix"},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "PAYROLL_LOCKED"
