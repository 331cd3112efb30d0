"""HR-22 open a cycle, HR-23 list, HR-24 one review, HR-25 save / submit: turn order, visibility
of the manager's scores, weighted overall score, scope, cache and the refusals."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tests.bff.hr.conftest import BM2, EMP1, HR1, cached, new_staff
from tests.http import Api
from tsh.domain.actor import Actor
from tsh.domain.hr.models import Department, PerformanceReview, ReviewCycle
from tsh.domain.hr.reviews import close_cycle
from tsh.domain.shared import business_today
from tsh.platform.db.uow import unit_of_work

CRITERIA = [
    {"code": "quality", "title": "Quality of work", "weight": 60},
    {"code": "teamwork", "title": "Teamwork", "weight": 40},
]


async def _team(hr: Api) -> dict[str, Any]:
    """A new department with a manager and two reports (one without a login)."""
    async with unit_of_work(hr.ctx.db, hr.ctx.bus) as s:
        dept = Department(name_ar="قسم التجربة", name_en=f"Review Test {secrets.token_hex(3)}")
        s.add(dept)
        await s.flush()
        dept_id = dept.id
    boss_email, boss = await new_staff(hr, role="branch_manager", department_id=dept_id)
    worker_email, worker = await new_staff(hr, department_id=dept_id, manager_id=boss)
    branch_id = r_branch(await hr.data(HR1, f"/employees/{boss}"))
    body = {
        "name_ar": "عامل",
        "name_en": "No Login",
        "national_id": f"R{secrets.randbelow(10**12):012d}",
        "phone": "+9647700000001",
        "department_id": dept_id,
        "branch_id": branch_id,
        "job_title": "Helper",
        "hire_date": "2024-01-01",
        "base_salary": {"amount": "600000", "currency": "IQD"},
        "manager_id": boss,
    }
    r = await hr.send(HR1, "POST", "/employees", body)
    assert r.status_code == 201, r.text
    return {
        "dept": dept_id,
        "boss": boss,
        "boss_email": boss_email,
        "worker": worker,
        "worker_email": worker_email,
        "no_login": r.json()["data"]["employee"]["id"],
    }


def r_branch(file: dict[str, Any]) -> int:
    return int(file["branch"]["id"])


def _cycle(dept: int, **extra: Any) -> dict[str, Any]:
    today = business_today()
    return {
        "name": "Annual review", "period_from": str(today - dt.timedelta(days=180)), "period_to": str(today),
        "criteria": CRITERIA, "self_due": str(today + dt.timedelta(days=7)),
        "manager_due": str(today + dt.timedelta(days=14)), "department_id": dept, **extra,
    }  # fmt: skip


async def _review_of(hr: Api, cycle_id: int, employee_id: int) -> PerformanceReview:
    async with hr.db() as s:
        rv = await s.scalar(
            select(PerformanceReview).where(
                PerformanceReview.cycle_id == cycle_id, PerformanceReview.employee_id == employee_id
            )
        )
        assert rv is not None
        return rv


async def test_cycle_turns_scores_and_visibility(hr: Api) -> None:
    team = await _team(hr)
    before = await hr.count(ReviewCycle)
    bad = {**_cycle(team["dept"]), "criteria": [{**CRITERIA[0], "weight": 50}, CRITERIA[1]]}
    r = await hr.send(HR1, "POST", "/review-cycles", bad)
    assert r.status_code == 422 and r.json()["error_code"] == "WEIGHTS_NOT_100"
    assert await hr.count(ReviewCycle) == before
    r = await hr.send(HR1, "POST", "/review-cycles", _cycle(team["dept"]))
    assert r.status_code == 201, r.text
    cycle = r.json()["data"]
    assert cycle["review_count"] == 3
    r = await hr.send(HR1, "POST", "/review-cycles", _cycle(team["dept"]))
    assert r.status_code == 409 and r.json()["error_code"] == "CYCLE_OVERLAP"
    assert await hr.count(ReviewCycle) == before + 1
    worker_rv = await _review_of(hr, cycle["id"], team["worker"])
    no_login_rv = await _review_of(hr, cycle["id"], team["no_login"])
    assert worker_rv.status == "awaiting_self" and worker_rv.reviewer_id == team["boss"]
    assert no_login_rv.status == "awaiting_manager"
    worker, boss = team["worker_email"], team["boss_email"]
    path = f"/reviews/{worker_rv.id}"
    full = [{"code": "quality", "score": 4, "comment": "Careful"}, {"code": "teamwork", "score": 3}]

    listed, _ = await cached(hr, worker, "/reviews", role="reviewee")
    assert [x["id"] for x in listed["items"]] == [worker_rv.id]
    r = await hr.send(boss, "PUT", path, {"scores": full, "submit": True})
    assert r.status_code == 409 and r.json()["error_code"] == "NOT_YOUR_TURN"
    r = await hr.send(worker, "PUT", path, {"scores": full[:1], "submit": True})
    assert r.status_code == 422 and r.json()["error_code"] == "MISSING_CRITERIA"
    r = await hr.send(worker, "PUT", path, {"scores": [{"code": "quality", "score": 6}]})
    assert r.status_code == 422
    r = await hr.send(worker, "PUT", path, {"scores": full[:1], "summary": "draft"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "awaiting_self"
    # A draft stays the reviewee's own.
    assert (await hr.data(boss, path))["self_scores"] is None
    r = await hr.send(worker, "PUT", path, {"scores": full, "summary": "My year", "submit": True})
    assert r.status_code == 200 and r.json()["data"]["status"] == "awaiting_manager"
    listed, hit = await cached(hr, worker, "/reviews", role="reviewee")
    assert not hit and listed["items"][0]["status"] == "awaiting_manager"
    assert (await hr.data(boss, path))["self_summary"] == "My year"
    manager = [{"code": "quality", "score": 5}, {"code": "teamwork", "score": 2, "comment": "Share more"}]
    r = await hr.send(boss, "PUT", path, {"scores": manager, "summary": "Good year"})
    assert r.status_code == 200
    hidden = await hr.data(worker, path)
    assert hidden["manager_scores"] is None and hidden["summary"] is None and hidden["overall_score"] is None
    r = await hr.send(boss, "PUT", path, {"scores": manager, "summary": "Good year", "submit": True})
    assert r.status_code == 200, r.text
    expected = (Decimal(5) * 60 + Decimal(2) * 40) / 100
    assert Decimal(r.json()["data"]["overall_score"]) == expected
    shown = await hr.data(worker, path)
    assert shown["status"] == "completed" and shown["summary"] == "Good year"
    assert [s["score"] for s in shown["manager_scores"]] == [5, 2]
    assert [h["event"] for h in shown["history"]] == ["opened", "self_submitted", "completed"]
    async with hr.db() as s:
        row = await s.get(PerformanceReview, worker_rv.id)
        assert row is not None and row.overall_score == expected and row.status == "completed"
    r = await hr.send(boss, "PUT", path, {"scores": manager, "submit": True})
    assert r.status_code == 409 and r.json()["error_code"] == "NOT_YOUR_TURN"

    # Scope: another employee, another branch's manager: 404; the opener sees everything.
    r = await hr.get(EMP1, path)
    assert r.status_code == 404 and r.json()["error_code"] == "REVIEW_NOT_FOUND"
    assert (await hr.get(BM2, path)).status_code == 404
    assert (await hr.send(EMP1, "PUT", path, {"scores": full})).status_code == 404
    assert (await hr.data(HR1, path))["overall_score"] is not None
    everyone = await hr.data(HR1, "/reviews", cycle_id=cycle["id"], limit=100)
    assert len(everyone["items"]) == 3

    # After manager_due the back office closes the cycle; nothing can be saved any more.
    async with unit_of_work(hr.ctx.db, hr.ctx.bus) as s:
        await close_cycle(
            s,
            cycle_id=cycle["id"],
            actor=Actor.system(await hr.user_id(HR1)),
            today=business_today() + dt.timedelta(days=15),
        )
    r = await hr.send(boss, "PUT", f"/reviews/{no_login_rv.id}", {"scores": manager, "submit": True})
    assert r.status_code == 409 and r.json()["error_code"] == "CYCLE_CLOSED"
    async with hr.db() as s:
        row = await s.get(PerformanceReview, no_login_rv.id)
        assert row is not None and row.status == "awaiting_manager" and row.manager_scores == []
