"""Review screens (apps/hr.md HR-23 list, HR-24 one review).

Scope own means "as reviewee or as reviewer" (PerformanceReview.reviewer_user_id); branch: reviews
of the branch's employees; all: every review. The reviewee sees the manager's scores, summary and
overall score only once the review is completed; the reviewer sees the self-assessment once it is
submitted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.hr.models import Employee, PerformanceReview, ReviewCycle
from tsh.domain.hr.scope import names, person
from tsh.platform.errors import NotFound


def review_scope(actor: Actor, role: str | None = None) -> ColumnElement[bool]:
    if actor.sees_all:
        return true()
    if actor.scope == "branch":
        return Employee.branch_id == actor.branch_id
    as_reviewee = Employee.user_id == actor.user_id
    as_reviewer = PerformanceReview.reviewer_user_id == actor.user_id
    if role == "reviewee":
        return as_reviewee
    if role == "reviewer":
        return as_reviewer
    return or_(as_reviewee, as_reviewer)


def _due(rv: PerformanceReview, cycle: ReviewCycle) -> Any:
    return cycle.self_due if rv.status == "awaiting_self" else cycle.manager_due


def _score(rv: PerformanceReview, hidden: bool) -> str | None:
    return None if hidden or rv.overall_score is None else str(rv.overall_score)


async def reviews(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after_id: int | None = None,
    cycle_id: int | None = None,
    status: str | None = None,
    employee_id: int | None = None,
    role: str | None = None,
) -> list[dict[str, Any]]:
    """HR-23: reviews in scope, newest first (limit + 1 rows)."""
    where: list[ColumnElement[bool]] = [review_scope(actor, role)]
    if role == "reviewer" and actor.scope != "own":
        where.append(PerformanceReview.reviewer_user_id == actor.user_id)
    if role == "reviewee" and actor.scope != "own":
        where.append(Employee.user_id == actor.user_id)
    if after_id is not None:
        where.append(PerformanceReview.id < after_id)
    for column, value in (
        (PerformanceReview.cycle_id, cycle_id),
        (PerformanceReview.status, status),
        (PerformanceReview.employee_id, employee_id),
    ):
        if value is not None:
            where.append(column == value)
    rows = list(
        await session.execute(
            select(PerformanceReview, ReviewCycle, Employee)
            .join(ReviewCycle, ReviewCycle.id == PerformanceReview.cycle_id)
            .join(Employee, Employee.id == PerformanceReview.employee_id)
            .where(*where)
            .order_by(PerformanceReview.id.desc())
            .limit(limit + 1)
        )
    )
    refs = await names(session, users={rv.reviewer_user_id for rv, _, _ in rows})
    out = []
    for rv, cycle, e in rows:
        hidden = e.user_id == actor.user_id and rv.status != "completed"
        out.append(
            {
                "id": rv.id,
                "employee": person(e),
                "cycle": {"id": cycle.id, "name": cycle.name, "status": cycle.status},
                "reviewer": refs["users"].get(rv.reviewer_user_id),
                "status": rv.status,
                "overall_score": _score(rv, hidden),
                "due": _due(rv, cycle),
            }
        )
    return out


async def review(session: AsyncSession, actor: Actor, review_id: int) -> dict[str, Any]:
    """HR-24: one review in scope (404 REVIEW_NOT_FOUND)."""
    row = (
        await session.execute(
            select(PerformanceReview, ReviewCycle, Employee)
            .join(ReviewCycle, ReviewCycle.id == PerformanceReview.cycle_id)
            .join(Employee, Employee.id == PerformanceReview.employee_id)
            .where(PerformanceReview.id == review_id, review_scope(actor))
        )
    ).first()
    if row is None:
        raise NotFound("Review not found", code="REVIEW_NOT_FOUND")
    rv, cycle, e = row
    refs = await names(session, users={rv.reviewer_user_id, cycle.opened_by_id})
    is_reviewee = e.user_id == actor.user_id
    is_reviewer = rv.reviewer_user_id == actor.user_id
    manager_hidden = is_reviewee and not is_reviewer and rv.status != "completed"
    # The reviewer sees the self-assessment once submitted (a draft stays the reviewee's).
    self_hidden = not is_reviewee and rv.self_submitted_at is None
    history = [{"event": "opened", "at": rv.created_at, "by": refs["users"].get(cycle.opened_by_id)}]
    if rv.self_submitted_at is not None:
        history.append({"event": "self_submitted", "at": rv.self_submitted_at, "by": None})
    if rv.completed_at is not None:
        history.append(
            {"event": "completed", "at": rv.completed_at, "by": refs["users"].get(rv.reviewer_user_id)}
        )
    return {
        "id": rv.id,
        "employee": person(e),
        "cycle": {
            "id": cycle.id,
            "name": cycle.name,
            "status": cycle.status,
            "period_from": cycle.period_from,
            "period_to": cycle.period_to,
            "self_due": cycle.self_due,
            "manager_due": cycle.manager_due,
        },
        "reviewer": refs["users"].get(rv.reviewer_user_id),
        "status": rv.status,
        "criteria": [{"code": c["code"], "title": c["title"], "weight": c["weight"]} for c in cycle.criteria],
        "self_scores": None if self_hidden else _scores(rv.self_scores),
        "self_summary": None if self_hidden else rv.self_summary,
        "manager_scores": None if manager_hidden else _scores(rv.manager_scores),
        "summary": None if manager_hidden else rv.summary,
        "overall_score": _score(rv, manager_hidden),
        "can_edit_as": "reviewee"
        if is_reviewee and rv.status == "awaiting_self" and cycle.status == "open"
        else (
            "reviewer" if is_reviewer and rv.status == "awaiting_manager" and cycle.status == "open" else None
        ),
        "history": history,
    }


def _scores(raw: Any) -> list[dict[str, Any]]:
    return [{"code": s["code"], "score": s["score"], "comment": s.get("comment")} for s in raw or []]


def cycle_view(cycle: ReviewCycle, review_count: int) -> dict[str, Any]:
    return {
        "id": cycle.id,
        "name": cycle.name,
        "status": cycle.status,
        "period_from": cycle.period_from,
        "period_to": cycle.period_to,
        "self_due": cycle.self_due,
        "manager_due": cycle.manager_due,
        "department_id": cycle.department_id,
        "branch_id": cycle.branch_id,
        "criteria": [{"code": c["code"], "title": c["title"], "weight": c["weight"]} for c in cycle.criteria],
        "review_count": review_count,
    }


async def review_count(session: AsyncSession, cycle_id: int) -> int:
    rows = await session.scalars(select(PerformanceReview.id).where(PerformanceReview.cycle_id == cycle_id))
    return len(list(rows))
