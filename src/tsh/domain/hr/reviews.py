"""Performance review cycles and reviews (domain.md §9, apps/hr.md HR-22, HR-25).

Opening a cycle creates one review per active employee in scope (department and/or branch). The
reviewer is the employee's manager when that manager has a user, otherwise the hr_manager who
opened the cycle. Employees without a user skip the self-assessment (awaiting_manager). The
reviewee submits first, then the reviewer; the reviewer's submission completes the review with the
overall score = Σ(score × weight) / 100 of the manager scores. Closing happens after manager_due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.hr.models import Employee, PerformanceReview, ReviewCycle
from tsh.domain.shared import business_today
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

CENT = Decimal("0.01")


def _check_criteria(criteria: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    problems = []
    codes = [str(c.get("code") or "") for c in criteria]
    if not criteria:
        problems.append(field_error("criteria", "at least one criterion"))
    if len(set(codes)) != len(codes) or "" in codes:
        problems.append(field_error("criteria", "codes must be unique and non-empty"))
    for i, c in enumerate(criteria):
        if not isinstance(c.get("weight"), int) or c["weight"] <= 0:
            problems.append(field_error(f"criteria[{i}].weight", "a positive whole number"))
    if problems:
        raise Invalid("The criteria are invalid", details=problems)
    total = sum(int(c["weight"]) for c in criteria)
    if total != 100:
        raise Invalid(
            "Criteria weights must sum to 100",
            code="WEIGHTS_NOT_100",
            details=[field_error("criteria", "weights must sum to 100", total=total)],
        )
    return [
        {"code": str(c["code"]), "title": str(c.get("title") or c["code"]), "weight": int(c["weight"])}
        for c in criteria
    ]


def _changed(
    session: AsyncSession, users: Sequence[int | None], branches: Sequence[int | None], **kw: Any
) -> None:
    raise_event(session, "ReviewCycleChanged", users=users, branches=branches, **kw)


async def open_cycle(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    period_from: dt.date,
    period_to: dt.date,
    criteria: Sequence[Mapping[str, Any]],
    self_due: dt.date,
    manager_due: dt.date,
    department_id: int | None = None,
    branch_id: int | None = None,
) -> ReviewCycle:
    """Open a cycle and its reviews (HR-22): 422 WEIGHTS_NOT_100, 409 CYCLE_OVERLAP when an employee
    in scope is already in an open cycle. Emits ReviewCycleChanged."""
    problems = []
    if period_to < period_from:
        problems.append(field_error("period_to", "before period_from"))
    if manager_due < self_due:
        problems.append(field_error("manager_due", "before self_due"))
    if problems:
        raise Invalid("The cycle dates are invalid", details=problems)
    clean = _check_criteria(criteria)
    stmt = select(Employee).where(Employee.status == "active")
    if department_id is not None:
        stmt = stmt.where(Employee.department_id == department_id)
    if branch_id is not None:
        stmt = stmt.where(Employee.branch_id == branch_id)
    employees = list(await session.scalars(stmt.order_by(Employee.id)))
    if not employees:
        raise Invalid("No active employee in scope", details=[field_error("department_id", "no employees")])
    ids = [e.id for e in employees]
    busy = list(
        await session.scalars(
            select(PerformanceReview.employee_id)
            .join(ReviewCycle, ReviewCycle.id == PerformanceReview.cycle_id)
            .where(ReviewCycle.status == "open", PerformanceReview.employee_id.in_(ids))
        )
    )
    if busy:
        raise Conflict(
            "Some employees already have an open review cycle",
            code="CYCLE_OVERLAP",
            details=[field_error("employee_ids", "in an open cycle", employee_ids=sorted(set(busy)))],
        )
    cycle = ReviewCycle(
        name=name, period_from=period_from, period_to=period_to, criteria=clean, self_due=self_due,
        manager_due=manager_due, department_id=department_id, branch_id=branch_id, status="open",
        opened_by_id=actor.user_id,
    )  # fmt: skip
    session.add(cycle)
    await session.flush()
    manager_ids = {e.manager_id for e in employees if e.manager_id is not None}
    found = await session.execute(select(Employee.id, Employee.user_id).where(Employee.id.in_(manager_ids)))
    manager_users = {mid: uid for mid, uid in found.all()}
    for e in employees:
        reviewer_user = manager_users.get(e.manager_id) if e.manager_id is not None else None
        session.add(
            PerformanceReview(
                cycle_id=cycle.id,
                employee_id=e.id,
                reviewer_id=e.manager_id if reviewer_user is not None else None,
                reviewer_user_id=reviewer_user if reviewer_user is not None else actor.user_id,
                status="awaiting_self" if e.user_id is not None else "awaiting_manager",
            )
        )
    await session.flush()
    # Many reviewees and reviewers: every cached screen listing the event is dropped.
    raise_event(session, "ReviewCycleChanged", everyone=True, cycle_id=cycle.id)
    return cycle


async def close_cycle(
    session: AsyncSession, actor: Actor, *, cycle_id: int, today: dt.date | None = None
) -> ReviewCycle:
    """Close an open cycle after its manager_due: 409 CYCLE_CLOSED, 422 TOO_EARLY.

    Emits ReviewCycleChanged."""
    cycle = await session.scalar(select(ReviewCycle).where(ReviewCycle.id == cycle_id).with_for_update())
    if cycle is None:
        raise NotFound("Review cycle not found", code="REVIEW_CYCLE_NOT_FOUND")
    if cycle.status != "open":
        raise Conflict("The cycle is already closed", code="CYCLE_CLOSED")
    if (today or business_today()) <= cycle.manager_due:
        raise Invalid("A cycle closes after its manager due date", code="TOO_EARLY")
    cycle.status, cycle.closed_by_id, cycle.closed_at = "closed", actor.user_id, utcnow()
    await session.flush()
    raise_event(session, "ReviewCycleChanged", everyone=True, cycle_id=cycle.id)
    return cycle


def _check_scores(
    criteria: Sequence[Mapping[str, Any]], scores: Sequence[Mapping[str, Any]], submit: bool
) -> list[dict[str, Any]]:
    weights = {c["code"]: c["weight"] for c in criteria}
    problems = []
    seen: set[str] = set()
    for i, s in enumerate(scores):
        code, score = s.get("code"), s.get("score")
        if code not in weights or code in seen:
            problems.append(field_error(f"scores[{i}].code", "unknown or repeated criterion"))
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            problems.append(field_error(f"scores[{i}].score", "a whole number from 1 to 5"))
        seen.add(str(code))
    if problems:
        raise Invalid("The scores are invalid", details=problems)
    missing = [c for c in weights if c not in seen]
    if submit and missing:
        raise Invalid(
            "Every criterion needs a score to submit",
            code="MISSING_CRITERIA",
            details=[field_error("scores", "missing criteria", codes=missing)],
        )
    return [{"code": s["code"], "score": s["score"], "comment": s.get("comment")} for s in scores]


def overall_score(criteria: Sequence[Mapping[str, Any]], scores: Sequence[Mapping[str, Any]]) -> Decimal:
    """Weighted mean (weights sum to 100) of the scores, to two decimals."""
    by_code = {s["code"]: s["score"] for s in scores}
    total = sum((Decimal(by_code[c["code"]]) * c["weight"] for c in criteria), Decimal(0))
    return (total / 100).quantize(CENT)


async def save_review(
    session: AsyncSession,
    actor: Actor,
    *,
    review_id: int,
    scores: Sequence[Mapping[str, Any]],
    summary: str | None = None,
    submit: bool = False,
) -> PerformanceReview:
    """Save or submit the self-assessment (reviewee) or the manager assessment (reviewer) (HR-25):
    404 for anyone else, 409 CYCLE_CLOSED, 409 NOT_YOUR_TURN, 422 MISSING_CRITERIA on submit.
    Emits ReviewCycleChanged."""
    review = await session.scalar(
        select(PerformanceReview).where(PerformanceReview.id == review_id).with_for_update()
    )
    employee = await session.get(Employee, review.employee_id) if review is not None else None
    if review is None or employee is None:
        raise NotFound("Review not found", code="REVIEW_NOT_FOUND")
    is_reviewee = employee.user_id == actor.user_id
    is_reviewer = review.reviewer_user_id == actor.user_id
    if not (is_reviewee or is_reviewer):
        raise NotFound("Review not found", code="REVIEW_NOT_FOUND")
    cycle = await session.get(ReviewCycle, review.cycle_id)
    assert cycle is not None
    if cycle.status != "open":
        raise Conflict("The review cycle is closed", code="CYCLE_CLOSED")
    as_self = is_reviewee and review.status == "awaiting_self"
    if not as_self and not (is_reviewer and review.status == "awaiting_manager"):
        raise Conflict("It is not your turn on this review", code="NOT_YOUR_TURN")
    clean = _check_scores(cycle.criteria, scores, submit)
    now = utcnow()
    if as_self:
        review.self_scores, review.self_summary = clean, summary
        if submit:
            review.status, review.self_submitted_at = "awaiting_manager", now
    else:
        review.manager_scores, review.summary = clean, summary
        if submit:
            review.overall_score = overall_score(cycle.criteria, clean)
            review.status, review.completed_at = "completed", now
    await session.flush()
    _changed(
        session,
        [employee.user_id, review.reviewer_user_id],
        [employee.branch_id],
        cycle_id=cycle.id,
        review_id=review.id,
    )
    return review
